/**
 * The vocabulary every consumer's stray-write campaign reports in, so `pkeysim campaign` and the demo
 * can print any consumer's result in one table. A campaign runs legitimate work on a kernel while
 * injected stray writes come from unrelated code, and counts what the protection stopped.
 */

/** Where an injected stray write comes from. */
export type StrayKind =
  /** A write to a random address inside the protected object. */
  | 'random-address'
  /** A thread that never opened the window writes to the object. */
  | 'wrong-thread'
  /** Another thread writes through an address handed out by a global kmap(). */
  | 'leaked-global-kmap'
  /** The owner writes after it closed its window (kunmap, pgmap_set_noaccess). */
  | 'write-after-kunmap'
  /** A bit flip in a page-table entry that would grant U/S or R/W. */
  | 'pte-bit-flip'
  /** A store just past the end of the object, through the writer's own pointer. */
  | 'out-of-bounds'
  /** A store through a mapping (or capability) that was made for reading. */
  | 'missing-permission';

/** How the consumer reacts to a key fault (the series' pks_fault_mode, pkstablessoft). */
export type CampaignMode = 'relaxed' | 'strict' | 'soft';

/** Options every consumer campaign takes: seed, protection on or off, mode, architecture and size. */
export interface CampaignOptions {
  /** Seeds the campaign's random choices. */
  readonly seed: number;
  /** false runs the same workload with the consumer's protection switched off, for comparison. */
  readonly protection: boolean;
  /** What a caught stray write does. */
  readonly mode: CampaignMode;
  /** The architecture plugin to run on (the caller imports its package). Default 'x86'. */
  readonly arch?: string;
  /** Number of CPUs. */
  readonly cpus?: number;
  /** Cycles per event overriding core's defaults (event name -> cycles), for `modeled_cycles`. */
  readonly costs?: Readonly<Record<string, number>>;
  /** Worker threads (default: the consumer's shape, 3); strays scale with them (8 per worker). */
  readonly threads?: number;
  /** Legitimate operations per worker (default: the consumer's shape, 20). */
  readonly ops?: number;
  /** Address spaces, for consumers that have them (pgtable; default 2). */
  readonly spaces?: number;
}

/** A size knob of a campaign: `--threads`, `--ops`, `--spaces` (and `--cpus`, which every campaign has). */
export type CampaignKnob = 'threads' | 'ops' | 'spaces' | 'cpus';

/** Stray writes attempted, blocked by the key, and landed. */
export interface StrayCount {
  readonly attempted: number;
  readonly blocked: number;
  readonly landed: number;
}

/** A landed page-table write and the rights it would have granted (page-table campaign). */
export interface GrantedRights {
  readonly address: number;
  readonly granted: string;
}

/** A table a campaign adds to its report (e.g. one row per API design), printed after the figures. */
export interface CampaignTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

/** What a consumer campaign reports: its settings, the stray counts and the cost of protection. */
export interface CampaignResult {
  readonly consumer: 'pmem' | 'pgtable' | 'ro-at-rest' | 'kmap-apis';
  readonly seed: number;
  readonly protection: boolean;
  readonly mode: CampaignMode;
  readonly arch: string;
  readonly strays_attempted: number;
  readonly strays_blocked: number;
  readonly strays_landed: number;
  /** PMEM only: bytes that differ from the intended contents after a simulated reboot. */
  readonly bytes_corrupted_after_reboot?: number;
  /** Page-table campaign only: what each landed write would have granted. */
  readonly granted_rights?: readonly GrantedRights[];
  /** Rights-register writes made to open and close windows (the cost of protection). */
  readonly domain_switches: number;
  /** Modeled cycles of the whole run, and per domain switch, from the core cost model. */
  readonly modeled_cycles: number;
  readonly cycles_per_switch: number;
  readonly by_kind: Readonly<Partial<Record<StrayKind, StrayCount>>>;
  /** Lines worth showing a user: the first warnings and oopses, the degradation notice. */
  readonly notes: readonly string[];
  /** Further tables (the kmap-apis campaign: one row per API design). */
  readonly tables?: readonly CampaignTable[];
  /**
   * Every event the campaign's machine counted (summed over CPUs, zero counts left out), from its
   * construction to the end of the run, setup and final checks (a PMEM reboot) included: what the
   * demo prices and counts accesses from, without reaching into the machine.
   */
  readonly machine_events?: Readonly<Record<string, number>>;
}

/**
 * One consumer's campaign, as `pkeysim campaign <consumer>` finds it in its registry: the CLI checks
 * the mode against `modes` (the first is the default, the consumer's boot default) and prints the result.
 */
export interface CampaignRunner {
  readonly consumer: CampaignResult['consumer'];
  /** One line for `pkeysim campaign --help`. */
  readonly description: string;
  /** The fault modes this consumer has; the first is its default. */
  readonly modes: readonly CampaignMode[];
  /** The size knobs its workload honours besides `cpus` (a knob it lacks is refused by the CLI). */
  readonly knobs?: readonly CampaignKnob[];
  /** Run one campaign. Deterministic for a seed; throws a clear error for options it cannot honour. */
  run(options: CampaignOptions): CampaignResult;
}
