import { definePlugin, type ProtectionPlugin } from '@pkeysim/core';
import { VirtualKeyMachine } from './machine';

/** The virtual-keys scheme plugin: `createMachine({ arch: 'vkeys', ... })` builds a {@link VirtualKeyMachine}. */
export const vkeysPlugin: ProtectionPlugin = definePlugin({
  name: 'vkeys',
  packageName: '@pkeysim/scheme-vkeys',
  kind: 'scheme',
  description: 'libmpk-style virtual keys: unlimited domains over the x86 PKS/PKU keys by eviction and re-tagging',
  machine: (config) => VirtualKeyMachine.fromConfig(config),
});
