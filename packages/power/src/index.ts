import 'reflect-metadata';
import { registerPlugin } from '@pkeysim/core';
import { powerPlugin } from './plugin';

export * from './registers';
export {
  keyShift,
  keyBits,
  withKeyBits,
  denialsOfBits,
  amrBitsOf,
  iamrBitsOf,
  linuxDefaults,
  type PowerDefaults,
} from './keys';
export { powerPteCodec, type LinuxPageSize } from './pte';
export { PowerException, isPowerException } from './exception';
export { PowerKeySpace, type KeyRegisters } from './domain-space';
export { PowerMachine, type PowerMachineOptions } from './machine';
export { powerPlugin } from './plugin';
export { powerUserPkeyAbi } from './user-pkey-abi';

// Importing the package makes `--arch power` selectable.
registerPlugin(powerPlugin);
