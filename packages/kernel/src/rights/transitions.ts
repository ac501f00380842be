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
  /**
   * Per key, made when the key first changes (a kernel uses a few of its keys): slots 0..15 hold the
   * state each transition (by denials) was computed from, slots 16..31 its result.
   */
  private readonly rows: (RightsState | undefined)[][];

  constructor(
    private readonly space: DomainSpace,
    domains: number,
  ) {
    this.rows = new Array<(RightsState | undefined)[]>(domains);
  }

  /** `state` with `key`'s denials set to `denials` (throws as withDenials does for a bad argument). */
  withDenials(state: RightsState, key: number, denials: Denials): RightsState {
    if (key >= 0 && key < this.rows.length && Number.isInteger(key) && (denials & ~(DENIAL_SLOTS - 1)) === 0) {
      const row = (this.rows[key] ??= new Array<RightsState | undefined>(2 * DENIAL_SLOTS).fill(undefined));
      if (row[denials] === state) return row[DENIAL_SLOTS + denials]!;
      const next = this.space.withDenials(state, key, denials);
      row[denials] = state;
      row[DENIAL_SLOTS + denials] = next;
      // The way back: from `next`, restoring the key's previous denials gives `state` again. Checked
      // once, on this miss, so a space whose denials do not round-trip exactly is never short-cut.
      const previous = this.space.denialsOf(state, key);
      if (
        previous !== denials &&
        (previous & ~(DENIAL_SLOTS - 1)) === 0 &&
        rightsStateEqual(this.space.withDenials(next, key, previous), state)
      ) {
        row[previous] = next;
        row[DENIAL_SLOTS + previous] = state;
      }
      return next;
    }
    return this.space.withDenials(state, key, denials);
  }
}
