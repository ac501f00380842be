/** The POWER storage-keys plugin: `createMachine({ arch: 'power', ... })` builds a {@link PowerMachine}. */
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { TOKENS, USER_PKEY_ABI, type MachineConfig, type ProtectionPlugin } from '@pkeysim/core';
import { PowerMachine } from './machine';
import { powerPteCodec } from './pte';
import { powerUserPkeyAbi } from './user-pkey-abi';

/** The POWER storage-keys plugin: `createMachine({ arch: 'power', ... })` builds a {@link PowerMachine}. */
export const powerPlugin: ProtectionPlugin = Object.freeze({
  name: 'power',
  packageName: '@pkeysim/power',
  kind: 'architecture' as const,
  description:
    'POWER (Book3S-64, hash MMU) storage keys: 32 keys, AMR/IAMR shared by user and kernel, UAMOR, DSI/ISI faults',
  register(container: DependencyContainer, config: MachineConfig): void {
    container.register(TOKENS.Machine, {
      useFactory: instanceCachingFactory((c) => PowerMachine.fromConfig(c.resolve(TOKENS.MachineConfig))),
    });
    const pageSize = config.options?.linuxPageSize === 4096 ? 4096 : 65536;
    container.register(USER_PKEY_ABI, { useValue: powerUserPkeyAbi(powerPteCodec(pageSize).domainCount) });
  },
});
