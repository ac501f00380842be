import type { RightsState } from '@pkeysim/core';
import type { KernelContext } from '../context';
import { leastRestrictive, rightsAreGlobal } from './scope';

/**
 * The value the rights register (or the page tables) must hold while `cpu` runs its current
 * context. Per-thread rights: the current context's own value. Address-space-scoped rights (page-
 * table permissions) are one value for every thread: it grants what any live context asked for,
 * the running ones and those saved in interrupted frames, so one thread closing its window does
 * not close another's (set_memory_rw users must count their openers the same way). That shared
 * opening is the exposure window such schemes have.
 */
export function liveRights(k: KernelContext, cpu: number): RightsState {
  const current = k.cpus[cpu].current;
  const space = k.space;
  if (!space || !rightsAreGlobal(space)) return current.pkrs;
  const held: RightsState[] = [current.pkrs];
  for (const thread of k.alive) {
    if (thread.state === 'dead') continue; // a user task killed while switched out (user/thread.ts terminate)
    held.push(thread.pkrs);
    for (const frame of thread.frames) if (frame.aux) held.push(frame.aux.pkrs);
  }
  let live = current.pkrs;
  for (let key = 0; key < k.keys.domains; key++) {
    if (key === k.keys.shape.defaultDomain) continue;
    let shared = space.denialsOf(held[0], key);
    for (let i = 1; i < held.length; i++) shared = leastRestrictive(shared, space.denialsOf(held[i], key));
    if (shared !== space.denialsOf(live, key)) live = space.withDenials(live, key, shared);
  }
  return live;
}
