/** The x86 architecture plugin: `createMachine({ arch: 'x86', ... })` builds an {@link X86Machine}. */
import { definePlugin, type ProtectionPlugin } from '@pkeysim/core';
import { X86Machine } from './machine';
import { x86UserPkeyAbi } from './user-pkey-abi';

/** The x86 architecture plugin: `createMachine({ arch: 'x86', ... })` builds an {@link X86Machine}. */
export const x86Plugin: ProtectionPlugin = definePlugin({
  name: 'x86',
  packageName: '@pkeysim/x86',
  kind: 'architecture',
  description:
    'x86-64 with protection keys: PKU (PKRU, user pages) and PKS (IA32_PKRS, supervisor pages), 4- or 5-level paging',
  machine: (config) => X86Machine.fromConfig(config),
  userPkeyAbi: () => x86UserPkeyAbi,
});
