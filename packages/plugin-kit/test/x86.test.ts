import { createMachine } from '@pkeysim/core';
import '@pkeysim/x86';
import { describeConformance } from '@pkeysim/plugin-kit/vitest';

describeConformance('x86', () => createMachine({ arch: 'x86', cpus: 3 }).machine);
