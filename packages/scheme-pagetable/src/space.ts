import {
  Deny,
  DENY_ALL_FLAGS,
  type Denials,
  DomainError,
  type DomainSpace,
  type DomainSpaceInfo,
  type RightsState,
  rightsState,
} from '@pkeysim/core';
import { SparseRights, SPARSE_MAX_DOMAIN } from '@pkeysim/plugin-kit';

/**
 * What a page-table domain can take away: P=0 removes every access, R/W=0 writes, XD=1 fetches
 * (SDM vol. 3, 4.6). A denial of reads alone is not expressible: x86 has no write-only pages.
 */
export const PAGETABLE_DENIABLE: Denials = Deny.Access | Deny.Write | Deny.Execute;

/** Domain 0 is every mapping's domain and stays open; every other domain starts access-denied (PROT_NONE). */
export const PAGETABLE_RIGHTS = new SparseRights('page-table rights', (domain) =>
  domain === 0 ? Deny.None : Deny.Access,
);

/** The page-table domain space's description: shared by both privileges, unbounded domains, rights per address space, switched by TLB shootdown. */
export const PAGETABLE_INFO: DomainSpaceInfo = Object.freeze({
  id: 'pagetable',
  register: 'PTE',
  governs: 'shared',
  domains: Infinity,
  defaultDomain: 0,
  reserved: Object.freeze([{ domain: 0, reason: 'domain 0 is the domain of every mapping and stays open' }]),
  deniable: PAGETABLE_DENIABLE,
  // Rights are the PTEs themselves: one copy per address space, seen by every thread, saved by nobody.
  scope: 'address-space',
  switchCost: 'tlb-shootdown',
  contextSave: 'none',
  faultReportsDomain: false,
});

/** What the space needs from its machine. */
export interface PageTableRightsHost {
  readonly cpuCount: number;
  /** The live rights (global to the address space). */
  readonly rights: RightsState;
  /** Rewrite the PTEs of every domain whose rights change, flush locally and shoot down the others. */
  applyRights(initiator: number, state: RightsState): void;
}

/**
 * Domains without keys: the rights of a domain are the permission bits of its pages' PTEs, so a
 * change is a PTE rewrite, a local flush and a shootdown of every other CPU (set_memory_ro/rw style,
 * Linux arch/x86/mm/pat/set_memory.c + flush_tlb_kernel_range), and it applies to every thread.
 */
export class PageTableDomainSpace implements DomainSpace {
  readonly info = PAGETABLE_INFO;

  constructor(private readonly host: PageTableRightsHost) {}

  private checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.host.cpuCount) {
      throw new RangeError(`CPU ${String(cpu)} does not exist (the machine has ${this.host.cpuCount})`);
    }
  }

  /** Page permissions need no CPU feature. */
  available(cpu: number): boolean {
    this.checkCpu(cpu);
    return true;
  }
  /** Page permissions are always checked. */
  enabled(cpu: number): boolean {
    this.checkCpu(cpu);
    return true;
  }
  enable(cpu: number): void {
    this.checkCpu(cpu);
  }

  /** The rights of the address space: the same on every CPU. */
  read(cpu: number): RightsState {
    this.checkCpu(cpu);
    return this.host.rights;
  }

  load(cpu: number, state: RightsState): void {
    this.checkCpu(cpu);
    PAGETABLE_RIGHTS.check(state);
    this.host.applyRights(cpu, state);
  }

  initialState(): RightsState {
    return rightsState();
  }

  denialsOf(state: RightsState, domain: number): Denials {
    PAGETABLE_RIGHTS.check(state);
    checkDomainNumber(domain);
    return PAGETABLE_RIGHTS.denialsOf(state, domain);
  }

  withDenials(state: RightsState, domain: number, denials: Denials): RightsState {
    PAGETABLE_RIGHTS.check(state);
    checkDomainNumber(domain);
    if (domain === PAGETABLE_INFO.defaultDomain) {
      throw new DomainError('invalid', "page-table domain 0 is every mapping's domain and cannot be restricted");
    }
    if (!Number.isInteger(denials) || denials < 0 || (denials & ~DENY_ALL_FLAGS) !== 0) {
      throw new DomainError('invalid', `denials 0x${Number(denials).toString(16)} use unknown flags`);
    }
    if ((denials & ~PAGETABLE_DENIABLE) !== 0) {
      throw new DomainError(
        'unsupported',
        'x86 page tables cannot deny reads alone (no write-only pages): deny Access instead',
      );
    }
    return PAGETABLE_RIGHTS.withDenials(state, domain, denials);
  }

  format(state: RightsState): string {
    PAGETABLE_RIGHTS.check(state);
    return PAGETABLE_RIGHTS.format(state, true);
  }
}

export function checkDomainNumber(domain: number): void {
  if (!Number.isInteger(domain) || domain < 0 || domain > SPARSE_MAX_DOMAIN) {
    throw new DomainError(
      'invalid',
      `page-table domain ${String(domain)} must be a whole number 0..${SPARSE_MAX_DOMAIN}`,
    );
  }
}
