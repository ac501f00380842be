import { createReadStream } from 'node:fs';
import { TRACE_ACCESS_KIND_COUNT, TraceAccessKind } from './access-kind';
import { DENIALS_VALUES, tableRules, type ArchitectureMapping, type ReplayRules } from './arch-rules';
import { LackeyParser, TraceFormatError, type MalformedLineMode, type TraceBatch } from './lackey-parser';
import type { AtAccessChange, Policy, RightsAssignment } from './policy';
import { buildReport, type FaultPlace, type ReplayReport } from './report';
import { PAGE_SIZE, SegmentTable } from './segment-table';

/** Options for replaying a trace. */
export interface ReplayOptions {
  /** How many faulting accesses to describe in detail, in trace order (default 10). */
  readonly firstFaults?: number;
  /** What to do with malformed trace lines (default `error`). */
  readonly malformed?: MalformedLineMode;
  /** Records per parser batch (default 8192). */
  readonly batchSize?: number;
  /**
   * Which accesses fault and whether rights are per thread: an architecture's ({@link architectureRules})
   * or, by default, the policy's own rights table ({@link tableRules}: one set of rights for every thread).
   */
  readonly rules?: ReplayRules;
  /** The architecture the rules came from, named in the report. */
  readonly mapping?: ArchitectureMapping;
}

/** The most distinct threads a trace may name in `T` records (each keeps a copy of the rights). */
export const MAX_TRACE_THREADS = 65_536;
/** The thread of the records before the first `T` record: valgrind numbers the main thread 1. */
export const FIRST_THREAD = 1;

/** Bits of a per-(segment, kind) check entry; zero means the access takes the fast path. */
const DENIED = 1;
/** A fetch from a segment holding an `onFetch` address: compared with it inline (see `soleTrigger`). */
const TRIGGER = 2;
/** The segment holds several `onFetch` addresses: every fetch from it takes the slow path. */
const TRIGGERS = 4;
const KINDS = TRACE_ACCESS_KIND_COUNT;
/** The page cache: direct-mapped, 4096 entries (16 MiB of distinct pages). */
const CACHE_SLOTS = 4096;
const CACHE_MASK = CACHE_SLOTS - 1;
const PAGE_OFFSET_MASK = PAGE_SIZE - 1;
/** Exact: multiplying by a power of two only changes the exponent. */
const INVERSE_PAGE_SIZE = 1 / PAGE_SIZE;

/**
 * Replays a lackey trace against a policy: maps each access to its domain, checks it against the
 * domain's current rights, applies rights changes, and counts. Feed it chunks with `push`, then call
 * `finish` for the report. Memory is constant: counters per segment and per domain, and the first
 * N fault places.
 *
 * The hot path per access is a page-cache probe (page number -> segment, for pages that lie wholly in
 * one segment), a counter increment and one byte test of a precomputed (segment, kind) table that is
 * nonzero only when the access faults or may fire a rights change. No branch depends on the kind.
 */
export class Replayer {
  private readonly parser: LackeyParser;
  private readonly table: SegmentTable;
  /** Per segment * KINDS + kind: DENIED, TRIGGER, TRIGGERS. */
  private readonly checks: Uint8Array;
  /** Per segment: its only `onFetch` address, or NaN (none, or several). */
  private readonly soleTrigger: Float64Array;
  /** Accesses per segment * KINDS + kind, attributed to the segment of the access's first byte. */
  private readonly counts: Float64Array;
  /** Faulting accesses per domain * KINDS + kind. */
  private readonly faultCounts: Float64Array;
  /** Current denials per domain (of the running thread, when rights are per thread). */
  private readonly denials: Int32Array;
  /** Per domain * DENIALS_VALUES + denials: bit `1 << kind` when that access faults. */
  private readonly faultKinds: Uint8Array;
  private readonly perThread: boolean;
  /** The rights of threads that are not running, by thread id (switches are rare: off the hot path). */
  private readonly savedRights = new Map<number, Int32Array>();
  private readonly threadsSeen = new Set<number>([FIRST_THREAD]);
  private thread = FIRST_THREAD;
  private readonly segmentsOfDomain: readonly number[][];
  /** `atAccess` changes sorted by index (policy order among equal indexes). */
  private readonly timedChanges: readonly AtAccessChange[];
  /** Per trigger address (see {@link SegmentTable.triggerAddresses}): its `onFetch` changes, in policy order. */
  private readonly fetchChanges: readonly (readonly RightsAssignment[])[][];
  private readonly firstFaultLimit: number;
  private readonly firstFaults: FaultPlace[] = [];

  private nextTimed = 0;
  private nextChangeAt: number;
  /** Accesses replayed so far: the index of the next access. */
  private index = 0;
  private faults = 0;
  private changesApplied = 0;
  private finished = false;

  /** Page number per cache slot (NaN: empty) and the segment that wholly contains that page. */
  private readonly cachedPages = new Float64Array(CACHE_SLOTS).fill(NaN);
  private readonly cachedSegments = new Int32Array(CACHE_SLOTS);

  constructor(
    private readonly policy: Policy,
    private readonly options: ReplayOptions = {},
  ) {
    const firstFaults = options.firstFaults ?? 10;
    if (!Number.isInteger(firstFaults) || firstFaults < 0)
      throw new RangeError('firstFaults must be a whole number >= 0');
    this.firstFaultLimit = firstFaults;
    this.table = new SegmentTable(policy);
    const segments = this.table.length;
    const domains = policy.domains.length;
    this.checks = new Uint8Array(segments * KINDS);
    this.soleTrigger = new Float64Array(segments).fill(NaN);
    for (let s = 0; s < segments; s++) {
      if (this.table.triggerCount[s] === 1)
        this.soleTrigger[s] = this.table.triggerAddresses[this.table.firstTrigger[s]];
    }
    this.counts = new Float64Array(segments * KINDS);
    this.faultCounts = new Float64Array(domains * KINDS);
    this.denials = new Int32Array(domains);
    const rules = options.rules ?? tableRules(policy);
    if (rules.faultKinds.length !== domains * DENIALS_VALUES)
      throw new RangeError(
        `rules.faultKinds must have ${domains * DENIALS_VALUES} entries (the policy's domains * 16)`,
      );
    this.faultKinds = rules.faultKinds;
    this.perThread = rules.scope === 'thread';
    this.segmentsOfDomain = policy.domains.map(() => []);
    for (let s = 0; s < segments; s++) this.segmentsOfDomain[this.table.domains[s]].push(s);

    this.timedChanges = policy.changes
      .filter((c): c is AtAccessChange => 'atAccess' in c)
      .map((c, order) => ({ c, order }))
      .sort((a, b) => a.c.atAccess - b.c.atAccess || a.order - b.order)
      .map(({ c }) => c);
    this.nextChangeAt = this.timedChanges.length > 0 ? this.timedChanges[0].atAccess : Infinity;
    this.fetchChanges = this.table.triggerAddresses.map((address) =>
      policy.changes.filter((c) => 'onFetch' in c && c.onFetch === address).map((c) => c.set),
    );

    for (const d of policy.domains) this.setDenials(d.index, d.initialDenials);
    this.parser = new LackeyParser((batch) => this.consume(batch), {
      malformed: options.malformed,
      batchSize: options.batchSize,
      onThread: (thread, line) => this.switchThread(thread, line),
    });
  }

  /** Replay the records in a chunk of trace bytes. */
  push(chunk: Uint8Array): void {
    this.parser.push(chunk);
  }

  /** End of the trace: replay a last line without a newline, and report. */
  finish(): ReplayReport {
    if (!this.finished) {
      this.parser.end();
      // A change at the trace's length happens at its end, as in `consume`, even for an empty trace.
      while (this.index >= this.nextChangeAt) this.applyNextTimedChange();
      this.finished = true;
    }
    return buildReport({
      policy: this.policy,
      trace: this.parser.stats,
      segmentDomains: this.table.domains,
      counts: this.counts,
      faultCounts: this.faultCounts,
      faults: this.faults,
      finalDenials: this.denials,
      rightsChanges: this.changesApplied,
      firstFaults: this.firstFaults,
      ...(this.options.mapping ? { mapping: this.options.mapping } : {}),
      ...(this.parser.stats.threadRecords !== undefined ? { threads: this.threadsSeen.size } : {}),
    });
  }

  /** Replay one parsed batch, stopping at each `atAccess` point to change rights. */
  private consume(batch: TraceBatch): void {
    const length = batch.length;
    let i = 0;
    // A change at an index is made just before that access runs, by the thread that runs it (a `T`
    // record may stand between); one at the trace's length happens in `finish`.
    while (i < length) {
      while (this.index >= this.nextChangeAt) this.applyNextTimedChange();
      const stop = Math.min(length, i + (this.nextChangeAt - this.index));
      this.run(batch, i, stop);
      this.index += stop - i;
      i = stop;
    }
  }

  /**
   * The hot loop over batch records [from, to), with no rights change inside the range. The inner
   * loop makes no calls, so V8 keeps its state in registers: it handles accesses that hit the page
   * cache, stay on their page and need no check, and leaves at the first one that does not.
   */
  private run(batch: TraceBatch, from: number, to: number): void {
    const { kinds, addresses, sizes } = batch;
    const ends = this.table.ends;
    const checks = this.checks;
    const soleTrigger = this.soleTrigger;
    const counts = this.counts;
    const cachedPages = this.cachedPages;
    const cachedSegments = this.cachedSegments;
    const firstIndex = this.index - from;
    let i = from;
    for (;;) {
      for (; i < to; i++) {
        const address = addresses[i];
        // A zero-size record still touches its address.
        const size = sizes[i] || 1;
        const page = Math.floor(address * INVERSE_PAGE_SIZE);
        const slot = page & CACHE_MASK;
        if (cachedPages[slot] !== page || (address & PAGE_OFFSET_MASK) + size > PAGE_SIZE) break;
        const segment = cachedSegments[slot];
        const check = segment * KINDS + kinds[i];
        const bits = checks[check];
        // Most fetches from a trigger's page are not at the trigger: they stay here.
        if (bits !== 0 && (bits !== TRIGGER || address === soleTrigger[segment])) break;
        counts[check]++;
      }
      if (i >= to) return;
      // A page-cache miss, an access running off its page, a fault or a trigger.
      const kind = kinds[i] as TraceAccessKind;
      const address = addresses[i];
      const segment = this.findSegment(address, Math.floor(address * INVERSE_PAGE_SIZE));
      if (address + (sizes[i] || 1) > ends[segment]) this.slowPath(segment, kind, address, sizes[i], firstIndex + i);
      else {
        const check = segment * KINDS + kind;
        counts[check]++;
        if (checks[check] !== 0) this.slowPath(segment, kind, address, sizes[i], firstIndex + i, true);
      }
      i++;
    }
  }

  /** Binary search, remembering the result in the page cache when the whole page is in the segment. */
  private findSegment(address: number, page: number): number {
    const segment = this.table.find(address);
    const pageStart = page * PAGE_SIZE;
    if (this.table.starts[segment] <= pageStart && pageStart + PAGE_SIZE <= this.table.ends[segment]) {
      const slot = page & CACHE_MASK;
      this.cachedPages[slot] = page;
      this.cachedSegments[slot] = segment;
    }
    return segment;
  }

  /**
   * An access that faults, fires a rights change, or spans more than one segment. It is counted in
   * the domain of its first byte (unless `counted`), and faults if any domain it touches denies it:
   * the CPU checks every page an access touches (Intel SDM vol. 3 4.6, per linear address). The
   * fault is charged to the first denying domain. A fetch that starts at an `onFetch` address then
   * changes rights, after its own check.
   */
  private slowPath(
    segment: number,
    kind: TraceAccessKind,
    address: number,
    size: number,
    index: number,
    counted = false,
  ): void {
    const { ends, domains, firstTrigger, triggerCount, triggerAddresses } = this.table;
    if (!counted) this.counts[segment * KINDS + kind]++;
    const end = address + (size || 1);
    let s = segment;
    for (;;) {
      if ((this.checks[s * KINDS + kind] & DENIED) !== 0) {
        this.recordFault(domains[s], kind, address, size, index);
        break;
      }
      if (end <= ends[s]) break;
      s++;
    }
    if (kind === TraceAccessKind.Fetch) {
      const first = firstTrigger[segment];
      for (let t = first; t < first + triggerCount[segment]; t++) {
        if (triggerAddresses[t] === address) for (const set of this.fetchChanges[t]) this.applyChange(set);
      }
    }
  }

  private recordFault(domain: number, kind: TraceAccessKind, address: number, size: number, index: number): void {
    this.faults++;
    this.faultCounts[domain * KINDS + kind]++;
    if (this.firstFaults.length < this.firstFaultLimit) {
      this.firstFaults.push({ index, kind, address, size, domain, denials: this.denials[domain], thread: this.thread });
    }
  }

  private applyNextTimedChange(): void {
    const change = this.timedChanges[this.nextTimed];
    this.applyChange(change.set, change.thread);
    this.nextTimed++;
    this.nextChangeAt =
      this.nextTimed < this.timedChanges.length ? this.timedChanges[this.nextTimed].atAccess : Infinity;
  }

  /**
   * A change of the running thread's rights, or (`thread`) of another thread's saved rights. With
   * one set of rights for every thread (page tables, a plain table) every change is seen by all.
   */
  private applyChange(set: readonly RightsAssignment[], thread?: number): void {
    if (!this.perThread || thread === undefined || thread === this.thread) {
      for (const { domain, denials } of set) this.setDenials(domain, denials);
    } else {
      const saved = this.savedRights.get(thread) ?? this.initialRights();
      for (const { domain, denials } of set) saved[domain] = denials;
      this.savedRights.set(thread, saved);
    }
    this.changesApplied++;
  }

  private initialRights(): Int32Array {
    return Int32Array.from(this.policy.domains, (d) => d.initialDenials);
  }

  /**
   * A `T` record: the thread that makes the next accesses. With per-thread rights (a rights register
   * saved and restored on context switch, as Linux does for PKRU, POR_EL0 and AMR) its rights become
   * live; a thread not seen before starts with the policy's initial rights.
   */
  private switchThread(thread: number, line: number): void {
    if (thread === this.thread) return;
    if (!this.threadsSeen.has(thread)) {
      if (this.threadsSeen.size >= MAX_TRACE_THREADS)
        throw new TraceFormatError(line, `more than ${MAX_TRACE_THREADS} threads (the thread budget)`);
      this.threadsSeen.add(thread);
    }
    if (this.perThread) {
      this.savedRights.set(this.thread, Int32Array.from(this.denials));
      const next = this.savedRights.get(thread) ?? this.initialRights();
      this.savedRights.delete(thread);
      for (let d = 0; d < next.length; d++) if (next[d] !== this.denials[d]) this.setDenials(d, next[d]);
    }
    this.thread = thread;
  }

  /** Recompute the check entries of the domain's segments. */
  private setDenials(domain: number, denials: number): void {
    this.denials[domain] = denials;
    const triggerCount = this.table.triggerCount;
    for (const s of this.segmentsOfDomain[domain]) {
      for (let kind = 0; kind < KINDS; kind++) {
        const triggers = kind !== TraceAccessKind.Fetch ? 0 : triggerCount[s];
        const trigger = triggers === 0 ? 0 : triggers === 1 ? TRIGGER : TRIGGER | TRIGGERS;
        const denied = (this.faultKinds[domain * DENIALS_VALUES + denials] >> kind) & 1;
        this.checks[s * KINDS + kind] = (denied !== 0 ? DENIED : 0) | trigger;
      }
    }
  }
}

/** Any source of trace bytes: a file or stdin stream, an array of chunks. Strings are read as UTF-8. */
export type TraceSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** Replay a whole trace from a stream. Throws TraceFormatError on a malformed line (unless skipping). */
export async function replayTrace(
  source: TraceSource,
  policy: Policy,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const replayer = new Replayer(policy, options);
  for await (const chunk of source) replayer.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  return replayer.finish();
}

/** Replay a trace file, read in 1 MiB chunks. */
export function replayTraceFile(path: string, policy: Policy, options: ReplayOptions = {}): Promise<ReplayReport> {
  return replayTrace(createReadStream(path, { highWaterMark: 1 << 20 }), policy, options);
}
