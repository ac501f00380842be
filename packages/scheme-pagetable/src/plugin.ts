import { type MachineConfig, type ProtectionPlugin, TOKENS } from '@pkeysim/core';
import { type DependencyContainer, instanceCachingFactory } from 'tsyringe';
import { PageTableMachine } from './machine';

/** The page-table scheme plugin: `createMachine({ arch: 'pagetable', ... })` builds a {@link PageTableMachine}. */
export const pagetablePlugin: ProtectionPlugin = Object.freeze({
  name: 'pagetable',
  packageName: '@pkeysim/scheme-pagetable',
  kind: 'scheme' as const,
  description:
    'domains without keys: PTE permission bits flipped with a local flush and a cross-CPU shootdown (rights global to the address space)',
  register(container: DependencyContainer, _config: MachineConfig): void {
    container.register(TOKENS.Machine, {
      useFactory: instanceCachingFactory((c) => PageTableMachine.fromConfig(c.resolve(TOKENS.MachineConfig))),
    });
  },
});
