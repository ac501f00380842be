import { MACHINE_EVENT_COUNT, MACHINE_EVENT_NAMES, type MachineEvent, type EventCounters } from './events';

/**
 * Cycles charged per event. Defaults are published figures; every one can be overridden (frozen: a
 * CostModel starts from a copy taken when this module loads).
 * Where no figure is published the value is an order of magnitude and says so.
 */
export const DEFAULT_EVENT_CYCLES: Readonly<Record<string, number>> = Object.freeze({
  // WRPKRU 11-260 cycles depending on microarchitecture (ERIM, USENIX Security 2019): midpoint-ish.
  // WRMSR IA32_PKRS has no published figure; non-serializing MSR writes cost hundreds of cycles.
  rights_write: 100,
  // RDPKRU: no published figure; a register read.
  rights_read: 10,
  rights_write_skipped: 0,
  // One INVLPG about 260 cycles (Ingo Molnar, linux-mm, June 2015).
  tlb_flush_page: 260,
  // Full CR3 reload about 96 cycles (same source), not counting the refills it causes.
  tlb_flush_all: 96,
  // A TLB shootdown "can take microseconds" (Amit, USENIX ATC 2017): 2 us at 2 GHz.
  shootdown: 4000,
  // A 4-level walk that misses the paging-structure caches: order of magnitude, no single source.
  page_walk: 30,
  pte_write: 5,
  // Exception entry/exit: order of magnitude for a kernel entry without PTI.
  exception_entry: 100,
  exception_exit: 100,
  // A same-process context switch: order of magnitude, excluding cache effects.
  context_switch: 1000,
  fault: 0,
  access: 1,
  // A domain switch costs what it causes (rights_write, or pte_write + flushes + shootdowns).
  domain_switch: 0,
});

/** DEFAULT_EVENT_CYCLES by event index, built once (every machine starts from it). */
const DEFAULT_CYCLES = Float64Array.from(MACHINE_EVENT_NAMES, (name) => DEFAULT_EVENT_CYCLES[name] ?? 0);

/** Turns event counts into cycles. */
export class CostModel {
  private readonly cycles: Float64Array;
  constructor(overrides: Readonly<Record<string, number>> = {}) {
    this.cycles = DEFAULT_CYCLES.slice();
    for (const [name, value] of Object.entries(overrides)) {
      const event = MACHINE_EVENT_NAMES.indexOf(name);
      if (event < 0) {
        throw new RangeError(`unknown cost event "${name}" (known: ${MACHINE_EVENT_NAMES.join(', ')})`);
      }
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`cost of "${name}" must be a number >= 0`);
      this.cycles[event] = value;
    }
  }
  /** The cycles charged for one occurrence of `event`. */
  cyclesOf(event: MachineEvent): number {
    return this.cycles[event];
  }
  /** Total cycles on one CPU, or on all CPUs when `cpu` is omitted. */
  total(counters: EventCounters, cpu?: number): number {
    let sum = 0;
    const first = cpu ?? 0;
    const last = cpu ?? counters.cpus - 1;
    for (let c = first; c <= last; c++) {
      for (let e = 0; e < MACHINE_EVENT_COUNT; e++) sum += counters.get(c, e as MachineEvent) * this.cycles[e];
    }
    return sum;
  }
  /** `{ event: cycles }` per event name, summed over CPUs, for reports. */
  breakdown(counters: EventCounters): Record<string, number> {
    const out: Record<string, number> = {};
    for (let e = 0; e < MACHINE_EVENT_COUNT; e++) {
      const cycles = counters.total(e as MachineEvent) * this.cycles[e];
      if (cycles !== 0) out[MACHINE_EVENT_NAMES[e]] = cycles;
    }
    return out;
  }
}
