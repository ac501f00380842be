export { PAGE_SHIFT, PAGE_SIZE, TWO_32, toAddress, formatAddress, hex32, hex64, splitU64 } from './address';
export { PhysicalMemory, type PhysicalRegion, type PhysicalMemoryOptions } from './physical-memory';
export * from './translation-flags';
export { FaultKind, FAULT_KIND_MASK, FAULT_ARCH_SHIFT, faultCauseOf } from './fault-codes';
export {
  type DescriptorCodec,
  type EntryWords,
  type LeafRequest,
  levelSpan,
  composedPageFlags,
  PAGE_INVALID,
  PAGE_RESERVED,
} from './descriptor-codec';
export {
  RadixPageTable,
  WALK_OK,
  WALK_INVALID,
  WALK_RESERVED,
  type LeafLocation,
  type PageTableHooks,
} from './page-table';
export { ModeCheckTables, type ModeCheckSpec } from './mode-check-table';
export {
  invalidArgument,
  checkInteger,
  checkFinite,
  checkAccessKind,
  checkAccessAddress,
  checkBytes,
  isAccessKind,
} from './validate';
export { Tlb, type TlbStorage, WALK_CACHE_ENTRIES } from './tlb';
export {
  KitMachine,
  type KitMachineOptions,
  type TableCheckOptions,
  type KitFaultRecord,
  type FaultReport,
} from './kit-machine';
