import { type MachineConfig, type ProtectionPlugin, TOKENS } from '@pkeysim/core';
import { type DependencyContainer, instanceCachingFactory } from 'tsyringe';
import { VirtualKeyMachine } from './machine';

/** The virtual-keys scheme plugin: `createMachine({ arch: 'vkeys', ... })` builds a {@link VirtualKeyMachine}. */
export const vkeysPlugin: ProtectionPlugin = Object.freeze({
  name: 'vkeys',
  packageName: '@pkeysim/scheme-vkeys',
  kind: 'scheme' as const,
  description: 'libmpk-style virtual keys: unlimited domains over the x86 PKS/PKU keys by eviction and re-tagging',
  register(container: DependencyContainer, _config: MachineConfig): void {
    container.register(TOKENS.Machine, {
      useFactory: instanceCachingFactory((c) => VirtualKeyMachine.fromConfig(c.resolve(TOKENS.MachineConfig))),
    });
  },
});
