import type { Privilege } from './access';
import type { Denials } from './denials';
import type { RightsState } from './rights-state';

/**
 * A domain an allocator must never hand out, and why (x86 key 0, POWER keys 1..3, POE index 0).
 * Reserved is a rule for allocation, not for the register: its rights stay representable, so
 * `withDenials` accepts it (user code may WRPKRU key 0 off, as pkey_sighandler_tests.c does), and
 * keeping a reserved domain open is the kernel's policy.
 */
export interface ReservedDomain {
  readonly domain: number;
  readonly reason: string;
}

/** Who a rights change applies to. */
export type RightsScope =
  /** A per-thread register (PKRU, PKRS, POR_ELx, AMR): a change affects only the running thread. */
  | 'thread'
  /** The page tables: a change is seen by every thread of the address space (and costs a shootdown). */
  | 'address-space';

/** What a rights change costs, in kind. */
export type SwitchCost = 'register-write' | 'tlb-shootdown';

/** Where a context's rights are kept while it is not running. */
export type ContextSave =
  /** In the XSAVE-style extended state (x86 PKRU is XSAVE component 9). */
  | 'extended-state'
  /** Saved by software on context switch (x86 PKRS, POR_EL1, AMR). */
  | 'software'
  /** Nothing to save: rights are global (page-table permissions). */
  | 'none';

/** The static shape of one domain space: what the kernel and the conformance suite may rely on. */
export interface DomainSpaceInfo {
  /** A stable identifier, e.g. "x86.pks", "x86.pku", "arm64.por_el1". */
  readonly id: string;
  /** The register (or mechanism) that holds the rights, for reports: "PKRS", "PKRU", "AMR". */
  readonly register: string;
  /** The pages this space governs. `'shared'` when one register covers both (POWER's AMR). */
  readonly governs: Privilege | 'shared';
  /** Number of domains, `Infinity` when unbounded (page tables, virtual keys). */
  readonly domains: number;
  /** The domain every mapping has unless software says otherwise. */
  readonly defaultDomain: number;
  readonly reserved: readonly ReservedDomain[];
  /** The {@link Deny} flags this space can express; others are refused as `unsupported`. */
  readonly deniable: Denials;
  readonly scope: RightsScope;
  readonly switchCost: SwitchCost;
  readonly contextSave: ContextSave;
  /** Whether the domain of a faulting access is reported by hardware, or must be found by a walk. */
  readonly faultReportsDomain: boolean;
}

/**
 * One set of protection domains and the register (or mechanism) that holds their rights: the
 * interface every architecture and protection scheme implements and the kernel programs against.
 *
 * Operations on {@link RightsState} values are pure; only `load` and `enable` touch a CPU. Every
 * method validates first and changes nothing when it throws.
 */
export interface DomainSpace {
  readonly info: DomainSpaceInfo;
  /** Whether the CPU enumerates the feature (CPUID, ID registers). */
  available(cpu: number): boolean;
  /** Whether the feature is switched on (CR4.PKS, TCR2_EL1.POE); until then rights are not checked. */
  enabled(cpu: number): boolean;
  /** Switch the feature on for a CPU. Throws `unsupported` when the CPU does not enumerate it. */
  enable(cpu: number): void;
  /** The rights live on the CPU (RDMSR, RDPKRU). */
  read(cpu: number): RightsState;
  /** Make `state` live on the CPU (WRMSR, WRPKRU): no TLB flush for thread-scoped spaces. */
  load(cpu: number, state: RightsState): void;
  /** The architecture's conservative initial state: default domain open, every other denied. */
  initialState(): RightsState;
  /** The denials `state` gives `domain`. */
  denialsOf(state: RightsState, domain: number): Denials;
  /**
   * A copy of `state` with `domain`'s denials replaced. Throws `invalid` for a domain out of range
   * or unknown flags, `unsupported` for a denial outside `info.deniable`. Reserved domains are accepted.
   */
  withDenials(state: RightsState, domain: number, denials: Denials): RightsState;
  /** Human-readable, e.g. "0x55555554". */
  format(state: RightsState): string;
}

/** A domain as software sees it after allocating it: the space, the number and who owns it. */
export interface DomainHandle {
  readonly space: string;
  readonly domain: number;
  readonly owner: string;
}
