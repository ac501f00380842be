import { type Denials, type DomainSpace, type RightsState, rightsStateEqual } from '@pkeysim/core';

/** Denials fit in four bits (Access 0x1, Write 0x2, Execute 0x4, Read 0x8). */
const DENIAL_SLOTS = 16;

/**
 * `space.withDenials` with the last result per (key, denials) remembered, and its inverse: opening
 * a window and closing it again go back and forth between the same two rights states. Rights states
 * are immutable values and withDenials is pure (core's DomainSpace contract), so handing back the
 * state computed before is the same answer; in the steady state of a campaign a window allocates no
 * state, and the per-CPU cache of the last value written compares identical objects.
 */
export class RightsTransitions {
  /** Per slot (key * 16 + denials): the state the transition was computed from, and its result. */
  private readonly from: (RightsState | undefined)[];
  private readonly to: (RightsState | undefined)[];

  constructor(
    private readonly space: DomainSpace,
    domains: number,
  ) {
    this.from = new Array<RightsState | undefined>(domains * DENIAL_SLOTS).fill(undefined);
    this.to = new Array<RightsState | undefined>(domains * DENIAL_SLOTS).fill(undefined);
  }

  /** `state` with `key`'s denials set to `denials` (throws as withDenials does for a bad argument). */
  withDenials(state: RightsState, key: number, denials: Denials): RightsState {
    const slot = key * DENIAL_SLOTS + denials;
    if (slot >= 0 && slot < this.from.length && (denials & ~(DENIAL_SLOTS - 1)) === 0) {
      if (this.from[slot] === state) return this.to[slot]!;
      const next = this.space.withDenials(state, key, denials);
      this.from[slot] = state;
      this.to[slot] = next;
      // The way back: from `next`, restoring the key's previous denials gives `state` again. Checked
      // once, on this miss, so a space whose denials do not round-trip exactly is never short-cut.
      const previous = this.space.denialsOf(state, key);
      const back = key * DENIAL_SLOTS + previous;
      if (back !== slot && rightsStateEqual(this.space.withDenials(next, key, previous), state)) {
        this.from[back] = next;
        this.to[back] = state;
      }
      return next;
    }
    return this.space.withDenials(state, key, denials);
  }
}
