/** The arm64 POE plugin: `createMachine({ arch: 'arm64-poe', ... })` builds an {@link Arm64PoeMachine}. */
import { definePlugin, type ProtectionPlugin } from '@pkeysim/core';
import { Arm64PoeMachine } from './machine';
import { arm64PoeUserPkeyAbi } from './user-pkey-abi';

/** The arm64 POE plugin: `createMachine({ arch: 'arm64-poe', ... })` builds an {@link Arm64PoeMachine}. */
export const arm64PoePlugin: ProtectionPlugin = definePlugin({
  name: 'arm64-poe',
  packageName: '@pkeysim/arm64-poe',
  kind: 'architecture',
  description:
    'arm64 with the Permission Overlay Extension: POR_EL0 (EL0) and POR_EL1 (EL1), 8 overlays with R/W/X, WXN and PAN',
  machine: (config) => Arm64PoeMachine.fromConfig(config),
  userPkeyAbi: () => arm64PoeUserPkeyAbi,
});
