import type { DomainSpace } from '@pkeysim/core';

/**
 * Rights kept in the page tables (`scope: 'address-space'`) are one value shared by every thread: a
 * change is made to the live value, not to the changing thread's copy, and no per-CPU cache of the
 * last value written can be trusted, because any CPU may change it.
 */
export function rightsAreGlobal(space: DomainSpace | undefined): boolean {
  return space?.info.scope === 'address-space';
}

/** Whether a context switch restores the next thread's rights (`contextSave` other than 'none'). */
export function rightsSavedPerThread(space: DomainSpace | undefined): boolean {
  return space !== undefined && space.info.contextSave !== 'none';
}
