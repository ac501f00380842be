/** The POWER storage-keys plugin: `createMachine({ arch: 'power', ... })` builds a {@link PowerMachine}. */
import { definePlugin, type ProtectionPlugin } from '@pkeysim/core';
import { PowerMachine } from './machine';
import { powerPteCodec } from './pte';
import { powerUserPkeyAbi } from './user-pkey-abi';

/** The POWER storage-keys plugin: `createMachine({ arch: 'power', ... })` builds a {@link PowerMachine}. */
export const powerPlugin: ProtectionPlugin = definePlugin({
  name: 'power',
  packageName: '@pkeysim/power',
  kind: 'architecture',
  description:
    'POWER (Book3S-64, hash MMU) storage keys: 32 keys, AMR/IAMR shared by user and kernel, UAMOR, DSI/ISI faults',
  machine: (config) => PowerMachine.fromConfig(config),
  userPkeyAbi: (config) => {
    const pageSize = config.options?.linuxPageSize === 4096 ? 4096 : 65536;
    return powerUserPkeyAbi(powerPteCodec(pageSize).domainCount);
  },
});
