/** The x86 architecture plugin: `createMachine({ arch: 'x86', ... })` builds an {@link X86Machine}. */
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { TOKENS, USER_PKEY_ABI, type MachineConfig, type ProtectionPlugin } from '@pkeysim/core';
import { X86Machine } from './machine';
import { x86UserPkeyAbi } from './user-pkey-abi';

/** The x86 architecture plugin: `createMachine({ arch: 'x86', ... })` builds an {@link X86Machine}. */
export const x86Plugin: ProtectionPlugin = Object.freeze({
  name: 'x86',
  packageName: '@pkeysim/x86',
  kind: 'architecture' as const,
  description:
    'x86-64 with protection keys: PKU (PKRU, user pages) and PKS (IA32_PKRS, supervisor pages), 4- or 5-level paging',
  register(container: DependencyContainer, _config: MachineConfig): void {
    // Resolved once per container; the machine is then used as a plain object (no DI on the hot path).
    container.register(TOKENS.Machine, {
      useFactory: instanceCachingFactory((c) => X86Machine.fromConfig(c.resolve(TOKENS.MachineConfig))),
    });
    container.register(USER_PKEY_ABI, { useValue: x86UserPkeyAbi });
  },
});
