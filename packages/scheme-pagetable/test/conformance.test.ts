import { createMachine } from '@pkeysim/core';
import '@pkeysim/scheme-pagetable';
import { describeConformance } from '@pkeysim/plugin-kit/vitest';

describeConformance('pagetable', () => createMachine({ arch: 'pagetable', cpus: 3 }).machine);
