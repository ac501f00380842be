/**
 * The user half of a process's address space (x86-64, 4-level: TASK_SIZE_MAX 0x7ffffffff000).
 * Addresses are positive numbers; the kernel half is shared by every address space.
 */
export const USER_PAGE_SIZE = 0x1000;
/** mmap() places mappings first-fit upward from here (pkeysim's choice; Linux goes top-down). */
export const MMAP_BASE = 0x7f0000000000;
/** mmap() places no mapping at or above this address. */
export const MMAP_END = 0x7ff000000000;
/** The main thread's stack ends here (it grows down). */
export const USER_STACK_TOP = 0x7fff00000000;
/** The main thread's stack size in bytes. */
export const USER_STACK_SIZE = 0x10000;
/** TASK_SIZE_MAX: the first address user space cannot map. */
export const TASK_SIZE = 0x7ffffffff000;

export function pageAlignUp(length: number): number {
  return Math.ceil(length / USER_PAGE_SIZE) * USER_PAGE_SIZE;
}

export function isPageAligned(address: number): boolean {
  return address % USER_PAGE_SIZE === 0;
}

export function userPageStart(address: number): number {
  return Math.floor(address / USER_PAGE_SIZE) * USER_PAGE_SIZE;
}
