import { createMachine } from '@pkeysim/core';
import { describeConformance } from '@pkeysim/plugin-kit/vitest';
import '../src/index';

// The plugin-kit conformance suite, with no known deviations.
describeConformance('power', () => createMachine({ arch: 'power', cpus: 3 }).machine);
