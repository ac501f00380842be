import { createMachine } from '@pkeysim/core';
import { describeConformance } from '@pkeysim/plugin-kit/vitest';
import '../src/index';

// The plugin-kit conformance suite, with no known deviations.
describeConformance('arm64-poe', () => createMachine({ arch: 'arm64-poe', cpus: 3 }).machine);
