/** The arm64 POE plugin: `createMachine({ arch: 'arm64-poe', ... })` builds an {@link Arm64PoeMachine}. */
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { TOKENS, USER_PKEY_ABI, type MachineConfig, type ProtectionPlugin } from '@pkeysim/core';
import { Arm64PoeMachine } from './machine';
import { arm64PoeUserPkeyAbi } from './user-pkey-abi';

/** The arm64 POE plugin: `createMachine({ arch: 'arm64-poe', ... })` builds an {@link Arm64PoeMachine}. */
export const arm64PoePlugin: ProtectionPlugin = Object.freeze({
  name: 'arm64-poe',
  packageName: '@pkeysim/arm64-poe',
  kind: 'architecture' as const,
  description:
    'arm64 with the Permission Overlay Extension: POR_EL0 (EL0) and POR_EL1 (EL1), 8 overlays with R/W/X, WXN and PAN',
  register(container: DependencyContainer, _config: MachineConfig): void {
    // Resolved once per container; then used as a plain object (no DI on the hot path).
    container.register(TOKENS.Machine, {
      useFactory: instanceCachingFactory((c) => Arm64PoeMachine.fromConfig(c.resolve(TOKENS.MachineConfig))),
    });
    container.register(USER_PKEY_ABI, { useValue: arm64PoeUserPkeyAbi });
  },
});
