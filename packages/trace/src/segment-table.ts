import type { Policy } from './policy';

/** Page granularity of trigger segments and of the replayer's page cache. */
export const PAGE_SIZE = 4096;

/**
 * The whole address space cut into sorted, non-overlapping segments, each owned by one domain: the
 * policy's ranges and the gaps between them (owned by the default domain, 0). The page around each
 * `onFetch` address is cut out as its own segment that carries the trigger, so the replayer tests
 * for triggers only on fetches from those pages while every other page keeps a single segment it can
 * cache. Typed arrays and a binary search: no Map and no allocation per lookup.
 */
export class SegmentTable {
  /** Segment i covers [starts[i], ends[i]); starts[0] is -Infinity and the last end +Infinity. */
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  readonly domains: Int32Array;
  /** The segment's `onFetch` addresses are triggerAddresses[firstTrigger[i] .. firstTrigger[i] + triggerCount[i]). */
  readonly firstTrigger: Int32Array;
  readonly triggerCount: Int32Array;
  /** Distinct `onFetch` addresses, ascending. */
  readonly triggerAddresses: readonly number[];

  constructor(policy: Policy) {
    const ranges = policy.domains
      .flatMap((d) => d.ranges.map((r) => ({ start: r.start, end: r.end, domain: d.index })))
      .sort((a, b) => a.start - b.start);
    const triggerAddresses = [...new Set(policy.changes.flatMap((c) => ('onFetch' in c ? [c.onFetch] : [])))].sort(
      (a, b) => a - b,
    );

    const cuts = new Set<number>([-Infinity]);
    for (const r of ranges) cuts.add(r.start).add(r.end);
    for (const a of triggerAddresses) {
      const page = Math.floor(a / PAGE_SIZE) * PAGE_SIZE;
      cuts.add(page).add(page + PAGE_SIZE);
    }
    const starts = [...cuts].sort((a, b) => a - b);

    const count = starts.length;
    this.starts = new Float64Array(starts);
    this.ends = new Float64Array(count);
    this.domains = new Int32Array(count);
    this.firstTrigger = new Int32Array(count);
    this.triggerCount = new Int32Array(count);
    let r = 0;
    let t = 0;
    for (let i = 0; i < count; i++) {
      const start = starts[i];
      const end = i + 1 < count ? starts[i + 1] : Infinity;
      this.ends[i] = end;
      while (r < ranges.length && ranges[r].end <= start) r++;
      this.domains[i] = r < ranges.length && ranges[r].start <= start ? ranges[r].domain : 0;
      while (t < triggerAddresses.length && triggerAddresses[t] < start) t++;
      this.firstTrigger[i] = t;
      while (t < triggerAddresses.length && triggerAddresses[t] < end) t++;
      this.triggerCount[i] = t - this.firstTrigger[i];
    }
    this.triggerAddresses = triggerAddresses;
  }

  get length(): number {
    return this.starts.length;
  }

  /** The segment holding `address`: the last one whose start is <= address. */
  find(address: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= address) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
