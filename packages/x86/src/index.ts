import 'reflect-metadata';
import { registerPlugin } from '@pkeysim/core';
import { x86Plugin } from './plugin';

export { toLinearAddress, isCanonical, formatAddress, tableIndex, PAGE_SIZE } from './address';
export * from './entry';
export { PhysicalMemory, type PhysicalRegion, type PhysicalMemoryOptions } from './physical-memory';
export {
  PF,
  FAULT_PF,
  FAULT_GP,
  X86Exception,
  isX86Exception,
  describeErrorCode,
  describeFault,
  type X86ExceptionVector,
} from './exception';
export { checkAccess, accessErrorBits, checkTableFor, lookupCheck, machineCheckTables } from './access-check';
export * from './translation-flags';
export { x86Descriptors, TF_X86_USER, TF_X86_WRITE, TF_X86_EXEC, CONTROL_PGE } from './codec';
// The TLB is the machine kit's: one TLB for every architecture.
export { Tlb } from '@pkeysim/machine-kit';
export { X86PageTables, type LeafLocation } from './page-tables';
export {
  X86Cpu,
  cr3Root,
  type RegisterPair,
  type CpuidResult,
  type XsaveArea,
  type X86CpuOptions,
  type X86CpuHost,
} from './cpu';
export * from './registers';
export { X86Machine, TLB_SINGLE_PAGE_FLUSH_CEILING, type X86MachineOptions } from './machine';
export { X86PksSpace, X86PkuSpace, X86_INIT_RIGHTS, type CpuSource } from './domain-spaces';
export { x86Plugin } from './plugin';
export { x86UserPkeyAbi } from './user-pkey-abi';

// Importing the package makes `--arch x86` selectable.
registerPlugin(x86Plugin);
