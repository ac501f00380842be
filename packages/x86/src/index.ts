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
export { checkAccess, accessErrorBits, checkTableFor, lookupCheck } from './access-check';
export * from './translation-flags';
export { PageWalker, WALK_OK, WALK_NOT_PRESENT, WALK_RESERVED, cr3Root } from './walk';
export { Tlb } from './tlb';
export { PageTableWriter, type LeafAttributes, type LeafLocation } from './page-table-writer';
export {
  X86Cpu,
  type RegisterPair,
  type CpuidResult,
  type XsaveArea,
  type X86CpuOptions,
  type FaultRecord,
} from './cpu';
export * from './registers';
export { X86Machine, TLB_SINGLE_PAGE_FLUSH_CEILING, type X86MachineOptions } from './machine';
export { X86PksSpace, X86PkuSpace, X86_INIT_RIGHTS } from './domain-spaces';
export { x86Plugin } from './plugin';
export { x86UserPkeyAbi } from './user-pkey-abi';

// Importing the package makes `--arch x86` selectable.
registerPlugin(x86Plugin);
export * from './vectors';
