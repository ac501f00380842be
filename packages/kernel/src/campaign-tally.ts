import type { StrayCount, StrayKind } from './campaign';

/** The stray counts of a campaign, in CampaignResult's terms. */
export interface StraySummary {
  readonly by_kind: Readonly<Partial<Record<StrayKind, StrayCount>>>;
  readonly strays_attempted: number;
  readonly strays_blocked: number;
  readonly strays_landed: number;
}

/** Counts every injected stray write by kind, as blocked or landed: one tally per campaign run. */
export class StrayTally {
  private readonly counts = new Map<StrayKind, { attempted: number; blocked: number; landed: number }>();

  /** @param kinds the consumer's stray kinds, in the order its report lists them. */
  constructor(private readonly kinds: readonly StrayKind[]) {}

  /** Record one stray of `kind`; `landed` is whether the write went through. Returns `landed`. */
  record(kind: StrayKind, landed: boolean): boolean {
    let count = this.counts.get(kind);
    if (!count) this.counts.set(kind, (count = { attempted: 0, blocked: 0, landed: 0 }));
    count.attempted++;
    if (landed) count.landed++;
    else count.blocked++;
    return landed;
  }

  /** The totals so far: attempted, blocked and landed, overall and per kind. */
  summary(): StraySummary {
    const byKind: Partial<Record<StrayKind, StrayCount>> = {};
    let attempted = 0;
    let blocked = 0;
    let landed = 0;
    for (const kind of this.kinds) {
      const count = this.counts.get(kind);
      if (!count) continue;
      byKind[kind] = { ...count };
      attempted += count.attempted;
      blocked += count.blocked;
      landed += count.landed;
    }
    return { by_kind: byKind, strays_attempted: attempted, strays_blocked: blocked, strays_landed: landed };
  }
}
