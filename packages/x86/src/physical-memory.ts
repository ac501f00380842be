// Sparse physical memory with RAM and persistent regions is architecture-neutral: x86 uses the
// machine kit's, whose frames are Uint32Arrays so paging-structure entries read as two words.
export { PhysicalMemory, type PhysicalRegion, type PhysicalMemoryOptions } from '@pkeysim/machine-kit';
