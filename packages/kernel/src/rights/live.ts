import { type DomainSpace, type RightsState, rightsStateEqual } from '@pkeysim/core';
import type { KeyTable } from '../keys/key-table';
import type { Sched } from '../sched/sched';
import { leastRestrictive, rightsAreGlobal } from './scope';

/** The distinct states liveRights combines, reused across calls (states are immutable values). */
const held: RightsState[] = [];

/** How many combinations {@link LiveRights} remembers: a campaign cycles through a handful. */
const MEMO_SIZE = 8;

/** A remembered combination: the current state, the other distinct states (in order), the result. */
interface Combined {
  readonly current: RightsState;
  readonly others: readonly RightsState[];
  readonly live: RightsState;
}

/** Add `state` unless an equal state is there already (most threads hold the same rights). */
function addDistinct(state: RightsState): void {
  for (let i = 0; i < held.length; i++) if (rightsStateEqual(held[i], state)) return;
  held.push(state);
}

/**
 * The value the rights register (or the page tables) must hold while `cpu` runs its current
 * context. Per-thread rights: the current context's own value. Address-space-scoped rights (page-
 * table permissions) are one value for every thread: it grants what any live context asked for,
 * the running ones and those saved in interrupted frames, so one thread closing its window does
 * not close another's (set_memory_rw users must count their openers the same way). That shared
 * opening is the exposure window such schemes have.
 *
 * Cost: one pass over the live threads (dead ones are not kept), and the per-domain combination
 * over the distinct states only (most threads hold the same state object), skipped when the same
 * states were combined recently.
 */
export class LiveRights {
  /** Rights in the page tables: one value for every thread (computed once: the space never changes). */
  private readonly global: boolean;
  /**
   * The last combinations computed, by the identity of their inputs: rights states are immutable
   * values and the kernel hands the same objects around (RightsTransitions), so a repeated set of
   * held states gives the same answer without the per-domain pass over every key.
   */
  private readonly memo: (Combined | undefined)[] = new Array<Combined | undefined>(MEMO_SIZE).fill(undefined);
  private nextMemo = 0;

  constructor(
    private readonly space: DomainSpace | undefined,
    private readonly keys: KeyTable,
    private readonly sched: Sched,
  ) {
    this.global = rightsAreGlobal(space);
  }

  /** The rights `cpu` must run with now. */
  of(cpu: number): RightsState {
    const current = this.sched.current(cpu);
    const space = this.space;
    if (!space || !this.global) return current.pkrs;
    held.length = 0;
    held.push(current.pkrs);
    const alive = this.sched.alive;
    for (let t = 0; t < alive.length; t++) {
      const thread = alive[t];
      if (thread.state === 'dead') continue; // a user task killed while switched out (user/thread.ts terminate)
      addDistinct(thread.pkrs);
      const frames = thread.frames;
      for (let f = 0; f < frames.length; f++) {
        const aux = frames[f].aux;
        if (aux) addDistinct(aux.pkrs);
      }
    }
    if (held.length === 1) {
      held.length = 0;
      return current.pkrs;
    }
    const remembered = this.recall();
    if (remembered !== undefined) {
      held.length = 0;
      return remembered;
    }
    const keys = this.keys;
    let live = current.pkrs;
    for (let key = 0; key < keys.domains; key++) {
      if (key === keys.shape.defaultDomain) continue;
      // held[0] is the current context's state, which `live` still equals at this key.
      const own = space.denialsOf(held[0], key);
      let shared = own;
      for (let i = 1; i < held.length; i++) shared = leastRestrictive(shared, space.denialsOf(held[i], key));
      if (shared !== own) live = space.withDenials(live, key, shared);
    }
    this.memo[this.nextMemo] = { current: held[0], others: held.slice(1), live };
    this.nextMemo = (this.nextMemo + 1) % MEMO_SIZE;
    held.length = 0;
    return live;
  }

  /** The remembered result for exactly the states in `held` (same objects, same order), if any. */
  private recall(): RightsState | undefined {
    const memo = this.memo;
    for (let m = 0; m < memo.length; m++) {
      const entry = memo[m];
      if (entry === undefined || entry.current !== held[0] || entry.others.length !== held.length - 1) continue;
      let same = true;
      for (let i = 1; i < held.length && same; i++) same = entry.others[i - 1] === held[i];
      if (same) return entry.live;
    }
    return undefined;
  }
}
