import { type DomainSpace, type RightsState, rightsStateEqual } from '@pkeysim/core';
import type { KeyTable } from '../keys/key-table';
import type { Sched } from '../sched/sched';
import { leastRestrictive, rightsAreGlobal } from './scope';

/** How many combinations {@link LiveRights} remembers: a campaign cycles through a handful. */
const MEMO_SIZE = 8;

/** A remembered combination: the current state, the other distinct states (in order), the result. */
interface Combined {
  readonly current: RightsState;
  readonly others: readonly RightsState[];
  readonly live: RightsState;
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
  /**
   * The distinct states {@link of} combines: the first `heldCount` slots. Reused across calls with
   * a count rather than emptied (setting an array's length to 0 frees its storage, so every call
   * would grow a new one).
   */
  private readonly held: RightsState[] = [];
  private heldCount = 0;

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
    const held = this.held;
    held[0] = current.pkrs;
    this.heldCount = 1;
    const alive = this.sched.alive;
    for (let t = 0; t < alive.length; t++) {
      const thread = alive[t];
      if (thread.state === 'dead') continue; // a user task killed while switched out (user/thread.ts terminate)
      this.addDistinct(thread.pkrs);
      const frames = thread.frames;
      for (let f = 0; f < frames.length; f++) {
        const aux = frames[f].aux;
        if (aux) this.addDistinct(aux.pkrs);
      }
    }
    const count = this.heldCount;
    if (count === 1) return current.pkrs;
    const remembered = this.recall();
    if (remembered !== undefined) return remembered;
    const keys = this.keys;
    let live = current.pkrs;
    for (let key = 0; key < keys.domains; key++) {
      if (key === keys.shape.defaultDomain) continue;
      // held[0] is the current context's state, which `live` still equals at this key.
      const own = space.denialsOf(held[0], key);
      let shared = own;
      for (let i = 1; i < count; i++) shared = leastRestrictive(shared, space.denialsOf(held[i], key));
      if (shared !== own) live = space.withDenials(live, key, shared);
    }
    this.memo[this.nextMemo] = { current: held[0], others: held.slice(1, count), live };
    this.nextMemo = (this.nextMemo + 1) % MEMO_SIZE;
    return live;
  }

  /** Add `state` unless an equal state is held already (most threads hold the same rights). */
  private addDistinct(state: RightsState): void {
    const held = this.held;
    const count = this.heldCount;
    for (let i = 0; i < count; i++) if (rightsStateEqual(held[i], state)) return;
    held[count] = state;
    this.heldCount = count + 1;
  }

  /**
   * The remembered result for the states in `held` (the same objects; the others in any order:
   * live threads are kept in no particular order, and the combination, a union of what each state
   * allows, does not depend on it), if any.
   */
  private recall(): RightsState | undefined {
    const memo = this.memo;
    const held = this.held;
    const count = this.heldCount;
    for (let m = 0; m < memo.length; m++) {
      const entry = memo[m];
      if (entry === undefined || entry.current !== held[0] || entry.others.length !== count - 1) continue;
      // Both lists hold distinct states, so equal lengths and each of held's found means the same set.
      let same = true;
      for (let i = 1; i < count && same; i++) same = entry.others.includes(held[i]);
      if (same) return entry.live;
    }
    return undefined;
  }
}
