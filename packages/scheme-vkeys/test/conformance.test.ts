import { createMachine } from '@pkeysim/core';
import '@pkeysim/scheme-vkeys';
import { describeConformance } from '@pkeysim/plugin-kit/vitest';

describeConformance('vkeys', () => createMachine({ arch: 'vkeys', cpus: 3 }).machine);
