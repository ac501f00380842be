/**
 * The kernel's virtual memory layout, after x86-64 Linux (Documentation/x86/x86_64/mm.rst, 4-level):
 * the direct map of all physical memory at 0xffff888000000000 and the vmalloc/vmap area at
 * 0xffffc90000000000. Addresses are signed (sign-extended canonical) numbers, as core requires.
 */
export const PAGE_SIZE = 0x1000;
/** 0xffff888000000000 (page_offset_base). */
export const DIRECT_MAP_BASE = -0x778000000000;
/** The direct map covers 64 TiB. */
export const DIRECT_MAP_SIZE = 0x400000000000;
/** 0xffffc90000000000 (VMALLOC_START). */
export const VMAP_BASE = -0x370000000000;
/** 32 TiB of vmalloc space. */
export const VMAP_SIZE = 0x200000000000;
/** The direct map is built from 2 MiB pages, split when a part of one is re-keyed (arch/x86/mm/pat/set_memory.c). */
export const DIRECT_MAP_CHUNK = 0x200000;

/** page_address(): the direct-map address of a physical address. */
export function directMapAddress(physical: number): number {
  return DIRECT_MAP_BASE + physical;
}

/** Whether `virtual` lies in the direct map. */
export function isDirectMapAddress(virtual: number): boolean {
  return virtual >= DIRECT_MAP_BASE && virtual < DIRECT_MAP_BASE + DIRECT_MAP_SIZE;
}

/** Whether `virtual` lies in the vmalloc (vmap) area. */
export function isVmapAddress(virtual: number): boolean {
  return virtual >= VMAP_BASE && virtual < VMAP_BASE + VMAP_SIZE;
}

/** Kernel addresses are the upper half: negative in the signed representation. */
export function isKernelAddress(virtual: number): boolean {
  return virtual < 0;
}

/** Page-aligned start of the page holding `virtual` (exact for signed addresses). */
export function pageStart(virtual: number): number {
  return Math.floor(virtual / PAGE_SIZE) * PAGE_SIZE;
}

/** "0xffff888000001000": the 64-bit unsigned form of a signed address, for reports (not a hot path). */
export function formatAddress(virtual: number): string {
  return '0x' + BigInt.asUintN(64, BigInt(virtual)).toString(16).padStart(16, '0');
}
