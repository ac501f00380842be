/**
 * A recorded run: the scenario's event log plus, for every event, the state of the machine and
 * kernel right after it (per-CPU rights, nesting, TLB; threads' saved rights; the key table; the
 * page tables of the scenario's objects). Plain JSON, so the inspector page and a file can hold it.
 *
 * Time is the simulation's own clock: the step, i.e. the event's sequence number in the log. Each
 * step also carries the modeled cycles counted so far (docs/timeline.md).
 */
import type { RunEvent } from '@pkeysim/scenario';

/** One key's rights in a register, decoded by the architecture's own domain space. */
export interface KeyRights {
  readonly key: number;
  /** "rw", "r-", "--" (with an x column where execute can be denied): core's formatDenials. */
  readonly rights: string;
  /** The raw Deny flags (PKEY_DISABLE_*), for tools. */
  readonly denials: number;
}

/** A rights register as a plugin formats it (`value`) and as it decodes per key (`keys`). */
export interface RegisterView {
  /** "PKRS", "PKRU", "POR_EL1", "AMR", ... (the space's info.register). */
  readonly register: string;
  /** The space's own `format(state)`. */
  readonly value: string;
  readonly keys: readonly KeyRights[];
}

/** An open exception or interrupt entry on a CPU. */
export interface FrameView {
  readonly vector: string;
  readonly kind: string;
  readonly depth: number;
  /** The rights the interrupted context resumes with, when the entry saved them (V9/V10 pt_regs_aux). */
  readonly saved: string | null;
}

/** A valid TLB entry of a CPU. */
export interface TlbEntryView {
  readonly virtual: string;
  readonly physical: string;
  /** The key the page tables give the page now (the TLB caches the domain with the translation). */
  readonly key: number | null;
  /** The scenario object the page belongs to, "buf+0x1000". */
  readonly object: string | null;
}

/** The state of one CPU: its thread, open entries, rights registers and TLB. */
export interface CpuView {
  readonly cpu: number;
  readonly thread: string;
  /** Open entries, outermost first. */
  readonly frames: readonly FrameView[];
  /** The supervisor rights register, or null when the machine has none. */
  readonly supervisor: RegisterView | null;
  /** The user rights register (PKRU), or null. */
  readonly user: RegisterView | null;
  /** Valid TLB entries, or null when the architecture's TLB cannot be read. */
  readonly tlb: readonly TlbEntryView[] | null;
}

/** The state of one kernel thread. */
export interface ThreadView {
  readonly name: string;
  readonly tid: number;
  readonly cpu: number;
  readonly state: string;
  /** thread_struct.pkrs: what the thread runs with, and what a context switch carries away. */
  readonly saved: RegisterView | null;
  readonly oops: string | null;
}

/** A protection key the kernel has allocated: owner, default rights and flags. */
export interface KeyRow {
  readonly key: number;
  readonly owner: string;
  readonly defaultRights: string;
  readonly exclusive: boolean;
  readonly callback: boolean;
}

/** A kernel mapping of a page of a scenario object. */
export interface MappingView {
  readonly object: string;
  readonly virtual: string;
  readonly physical: string;
  readonly writable: boolean;
  readonly user: boolean;
  readonly executable: boolean;
  readonly key: number;
}

/** The state after one step. */
export interface StepState {
  readonly cpus: readonly CpuView[];
  readonly threads: readonly ThreadView[];
  readonly keys: readonly KeyRow[];
  /** The kernel address space's mappings of the scenario's objects (CPU 0's active space). */
  readonly pages: readonly MappingView[];
  /** Modeled cycles counted since boot, all CPUs. */
  readonly cycles: number;
}

/** A recorded scenario run: its events and the machine state after each. */
export interface Timeline {
  readonly format: 'pkeysim-timeline';
  readonly version: 1;
  readonly name: string;
  readonly file: string;
  readonly arch: string;
  readonly cpus: number;
  readonly seed: number;
  readonly passed: boolean;
  readonly events: readonly RunEvent[];
  /**
   * `steps[i]` is the state after `events[i]`: null while the kernel boots (its first events come
   * before there is a kernel to read); shorter than `events` when the run exceeded the limit; empty
   * for an event log loaded without a run.
   */
  readonly steps: readonly (StepState | null)[];
  /** True when the run logged more than {@link TIMELINE_MAX_STEPS} events and later steps have no state. */
  readonly truncated: boolean;
  /** Thread state (finished, oops, ...) at the end. */
  readonly threads: readonly { readonly name: string; readonly state: string }[];
  readonly failures: readonly { readonly line: number; readonly path: string; readonly message: string }[];
}

/** Steps whose state a recording keeps; a longer run keeps its events and stops snapshotting. */
export const TIMELINE_MAX_STEPS = 5_000;
