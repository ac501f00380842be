import { Deny, type Denials, type DomainSpace } from '@pkeysim/core';

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

/**
 * The denials that grant what either `a` or `b` grants: the rights of a domain shared by two
 * holders, each of which asked for its own. Read is granted unless both deny it (Access or Read);
 * write unless both deny it (Access or Write); execute unless both deny it.
 */
export function leastRestrictive(a: Denials, b: Denials): Denials {
  const read = (a & (Deny.Access | Deny.Read)) === 0 || (b & (Deny.Access | Deny.Read)) === 0;
  const write = (a & (Deny.Access | Deny.Write)) === 0 || (b & (Deny.Access | Deny.Write)) === 0;
  const exec = (a & Deny.Execute) === 0 || (b & Deny.Execute) === 0;
  const data = read && write ? Deny.None : read ? Deny.Write : write ? Deny.Read : Deny.Access;
  return data | (exec ? Deny.None : Deny.Execute);
}
