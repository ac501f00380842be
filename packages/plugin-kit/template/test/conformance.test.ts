import { createMachine } from '@pkeysim/plugin-kit';
import { describeConformance } from '@pkeysim/plugin-kit/vitest';
import '../src';

describeConformance('example-wpinit', () => createMachine({ arch: 'example-wpinit', cpus: 2 }).machine);
