import { definePlugin, type ProtectionPlugin } from '@pkeysim/core';
import { PageTableMachine } from './machine';

/** The page-table scheme plugin: `createMachine({ arch: 'pagetable', ... })` builds a {@link PageTableMachine}. */
export const pagetablePlugin: ProtectionPlugin = definePlugin({
  name: 'pagetable',
  packageName: '@pkeysim/scheme-pagetable',
  kind: 'scheme',
  description:
    'domains without keys: PTE permission bits flipped with a local flush and a cross-CPU shootdown (rights global to the address space)',
  machine: (config) => PageTableMachine.fromConfig(config),
});
