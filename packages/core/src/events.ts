/**
 * Architectural events that cost time. Every scheme and the kernel count them per CPU in one typed
 * array, so counting is an index increment on the hot path; a cost model turns counts into cycles.
 */
export const MachineEvent = {
  /** A write of a rights register: WRPKRU, WRMSR IA32_PKRS, MSR POR_EL1, mtspr AMR. */
  RightsWrite: 0,
  /** A read of a rights register. */
  RightsRead: 1,
  /** A rights write skipped because the per-CPU cache already held the value (Linux PKS series). */
  RightsWriteSkipped: 2,
  /** One page's translation invalidated locally (INVLPG). */
  TlbFlushPage: 3,
  /** The whole local TLB invalidated (CR3 reload, CR4.PGE toggle). */
  TlbFlushAll: 4,
  /** An inter-processor interrupt asking another CPU to invalidate translations. */
  Shootdown: 5,
  /** A page walk on a TLB miss. */
  PageWalk: 6,
  /** A page-table entry written by software. */
  PteWrite: 7,
  /** Entry into an exception, interrupt or NMI handler. */
  ExceptionEntry: 8,
  /** Return from an exception, interrupt or NMI handler. */
  ExceptionExit: 9,
  /** A context switch between threads. */
  ContextSwitch: 10,
  /** A fault raised by an access (any cause). */
  Fault: 11,
  /** A checked access that was allowed. */
  Access: 12,
  /**
   * A change of the live rights, whatever the scheme: a register write for keys, PTE flips for
   * page-table permissions. Counted by the kernel; its cost is in the events the change causes.
   */
  DomainSwitch: 13,
} as const;
export type MachineEvent = (typeof MachineEvent)[keyof typeof MachineEvent];

/** The number of {@link MachineEvent} kinds (the column count of {@link EventCounters}). */
export const MACHINE_EVENT_COUNT = 14;

/** The snake_case name of each {@link MachineEvent}, indexed by its value. */
export const MACHINE_EVENT_NAMES: readonly string[] = [
  'rights_write',
  'rights_read',
  'rights_write_skipped',
  'tlb_flush_page',
  'tlb_flush_all',
  'shootdown',
  'page_walk',
  'pte_write',
  'exception_entry',
  'exception_exit',
  'context_switch',
  'fault',
  'access',
  'domain_switch',
];

/** Per-CPU event counters in one Float64Array (row = CPU, column = event). */
export class EventCounters {
  readonly counts: Float64Array;
  /**
   * `storage`, when given, is the counters' array (exactly cpus x MACHINE_EVENT_COUNT zeroed
   * elements): a machine may pass a view of an array its access path already holds, so counting an
   * access touches no other array.
   */
  constructor(
    readonly cpus: number,
    storage?: Float64Array,
  ) {
    if (storage !== undefined && storage.length !== cpus * MACHINE_EVENT_COUNT)
      throw new RangeError(`event counter storage must hold ${cpus * MACHINE_EVENT_COUNT} elements`);
    this.counts = storage ?? new Float64Array(cpus * MACHINE_EVENT_COUNT);
  }
  /** Add `n` (default 1) to `event`'s counter on `cpu`. */
  count(cpu: number, event: MachineEvent, n = 1): void {
    this.counts[cpu * MACHINE_EVENT_COUNT + event] += n;
  }
  /** The count of `event` on `cpu`. */
  get(cpu: number, event: MachineEvent): number {
    return this.counts[cpu * MACHINE_EVENT_COUNT + event];
  }
  /** The count of `event` summed over all CPUs. */
  total(event: MachineEvent): number {
    let sum = 0;
    for (let cpu = 0; cpu < this.cpus; cpu++) sum += this.counts[cpu * MACHINE_EVENT_COUNT + event];
    return sum;
  }
  /** Set every counter on every CPU to zero. */
  reset(): void {
    this.counts.fill(0);
  }
  /** `{ rights_write: 3, ... }` summed over CPUs, leaving out zero counts. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let e = 0; e < MACHINE_EVENT_COUNT; e++) {
      const n = this.total(e as MachineEvent);
      if (n !== 0) out[MACHINE_EVENT_NAMES[e]] = n;
    }
    return out;
  }
}
