import {
  AccessKind,
  type AccessFault,
  type AddressSpaceId,
  type Denials,
  Deny,
  type DomainSpace,
  type MachineConfig,
  MachineEvent,
  type MappingAttributes,
  PageSize,
  Privilege,
  type RightsState,
  rightsState,
  type Translation,
} from '@pkeysim/core';
import { ForwardingMachine, PageMap } from '@pkeysim/plugin-kit';
import { formatAddress, PAGE_SIZE, TLB_SINGLE_PAGE_FLUSH_CEILING, type X86Cpu, X86Machine } from '@pkeysim/x86';
import { DomainMembers } from './domain-members';
import { ExposureLog, type ExposureWindow } from './exposure';
import { PageList } from './page-list';
import { BASE_EXECUTABLE, BASE_WRITABLE, domainPteHi, domainPteLo } from './pte-bits';
import { checkDomainNumber, PAGETABLE_RIGHTS, PageTableDomainSpace, type PageTableRightsHost } from './space';

/** A 4 KiB page of a non-default domain: where its PTE is and what the mapping grants by itself. */
interface DomainPage {
  domain: number;
  readonly virtual: number;
  /**
   * The words of the page-table frame holding the leaf PTE, and the PTE's low-word index there
   * (stable: a 4 KiB leaf is never split or moved, and a frame is never replaced before a reboot).
   */
  readonly frame: Uint32Array;
  readonly word: number;
  readonly physical: number;
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  /** Its slot in its domain's {@link DomainMembers} (-1 when in none). */
  slot: number;
}

/**
 * The page-table permission scheme on an x86 machine (whose keys it leaves off). Every page of a
 * non-default domain is a 4 KiB PTE whose P, R/W and XD bits carry the domain's rights on top of the
 * mapping's own permissions; the domain itself lives beside the page tables, as a kernel keeps a
 * set_memory_*() caller's bookkeeping. Faults on such pages are reported with cause 'domain'.
 */
export class PageTableMachine extends ForwardingMachine<X86Machine> implements PageTableRightsHost {
  override readonly arch: string = 'pagetable';
  private readonly space: PageTableDomainSpace;
  private readonly pages = new PageMap<DomainPage>();
  /** Each domain's pages as typed-array columns: what a rights change loops over. */
  private readonly byDomain = new Map<number, DomainMembers<DomainPage>>();
  private live: RightsState = rightsState();
  private readonly exposureLog: ExposureLog;
  /** Scratch list of the pages whose PTE a rights change or an attach rewrote (reused by every one). */
  private readonly changed = new PageList();

  /** Build the scheme on a new x86 machine whose protection keys are left off. */
  static fromConfig(config: MachineConfig): PageTableMachine {
    // The keys of the x86 below stay off: this scheme must not depend on them.
    return new PageTableMachine(
      X86Machine.fromConfig({ ...config, arch: 'x86', features: { userDomains: false, supervisorDomains: false } }),
    );
  }

  constructor(inner: X86Machine) {
    super(inner);
    this.space = new PageTableDomainSpace(this);
    this.exposureLog = new ExposureLog(inner.events);
  }

  /** The x86 machine underneath (its CPUs, page tables and TLBs). */
  get x86(): X86Machine {
    return this.inner;
  }

  get rights(): RightsState {
    return this.live;
  }

  /** The one page-table domain space, whatever the privilege. */
  override domainSpace(_governs: Privilege): DomainSpace {
    return this.space;
  }

  /** Exposure windows so far: which domains were open to every CPU, for how long, and who used them. */
  exposure(): ExposureWindow[] {
    return this.exposureLog.report();
  }

  // ---- rights ------------------------------------------------------------------------------------

  applyRights(initiator: number, state: RightsState): void {
    const before = this.live;
    this.changed.count = 0;
    // The domains the old state names, then those only the new one names (no Set per switch).
    for (let i = 0; i < before.length; i += 2) this.changeDomain(initiator, before[i], before[i + 1], state);
    for (let j = 0; j < state.length; j += 2)
      if (!PAGETABLE_RIGHTS.names(before, state[j])) this.changeDomain(initiator, state[j], undefined, state);
    this.live = state;
    if (this.changed.count > 0) this.invalidate(this.changed.pages, this.changed.count, initiator);
  }

  /** Rewrite the PTEs of `domain` when its denials differ in `state` (`was` undefined: its implicit ones). */
  private changeDomain(initiator: number, domain: number, was: Denials | undefined, state: RightsState): void {
    const before = was ?? PAGETABLE_RIGHTS.implicit(domain);
    const now = PAGETABLE_RIGHTS.denialsOf(state, domain);
    if (before === now) return;
    const members = this.byDomain.get(domain);
    if (members) {
      const written = members.rewrite(now, this.changed);
      if (written > 0) this.inner.events.count(initiator, MachineEvent.PteWrite, written);
    }
    this.exposureLog.transition(initiator, domain, before, now);
  }

  /** Set P, R/W and XD of a page's PTE for `denials` (pte-bits.ts); true if the entry changed. */
  private writePage(page: DomainPage, denials: Denials, cpu: number): boolean {
    const { frame, word } = page;
    const base = baseOf(page);
    const lo = domainPteLo(frame[word], base, denials);
    const hi = domainPteHi(frame[word + 1], base, denials);
    if (lo === frame[word] && hi === frame[word + 1]) return false;
    frame[word] = lo;
    frame[word + 1] = hi;
    this.inner.events.count(cpu, MachineEvent.PteWrite);
    return true;
  }

  /**
   * Flush the pages on the initiating CPU and shoot them down on every other one (IPI + INVLPG, or a
   * full flush above Linux's tlb_single_page_flush_ceiling), as flush_tlb_kernel_range does.
   */
  private invalidate(virtuals: Float64Array, count: number, initiator: number): void {
    this.flushing = virtuals;
    this.flushingCount = count;
    for (let index = 0; index < this.inner.cpuCount; index++) {
      const cpu = this.inner.cpu(index);
      if (index !== initiator) this.inner.events.count(initiator, MachineEvent.Shootdown);
      if (count > TLB_SINGLE_PAGE_FLUSH_CEILING) cpu.flushTlbAll();
      else cpu.asKernel(this.invlpgFlushing);
    }
    this.flushing = NO_PAGES;
    this.flushingCount = 0;
  }

  /** The pages {@link invalidate} is flushing, and its INVLPG loop (bound once: no closure per CPU). */
  private flushing: Float64Array = NO_PAGES;
  private flushingCount = 0;
  private readonly invlpgFlushing = (cpu: X86Cpu): void => {
    cpu.invlpgEach(this.flushing, this.flushingCount);
  };

  // ---- mappings ----------------------------------------------------------------------------------

  private checkRange(virtual: number, length: number): void {
    if (!Number.isInteger(virtual) || virtual % PAGE_SIZE !== 0)
      throw new RangeError(`virtual address ${String(virtual)} must be 4 KiB aligned`);
    if (!Number.isInteger(length) || length <= 0 || length % PAGE_SIZE !== 0) {
      throw new RangeError(`length ${String(length)} must be a positive multiple of 0x1000`);
    }
  }

  /** Whether a page is mapped: a domain page (maybe P=0) or a present translation. */
  private mapped(space: AddressSpaceId, virtual: number): boolean {
    return this.pages.get(space, virtual) !== undefined || this.inner.translate(space, virtual) !== undefined;
  }

  /** Map as the x86 machine does; a page of a non-default domain gets its own 4 KiB PTE carrying the domain's rights. */
  override map(
    space: AddressSpaceId,
    virtual: number,
    physical: number,
    length: number,
    attrs: MappingAttributes,
  ): void {
    const domain = attrs.domain ?? 0;
    checkDomainNumber(domain);
    this.inner.rootOf(space);
    if (this.pages.size > 0 && Number.isInteger(virtual) && Number.isInteger(length) && length > 0) {
      // A not-present (access-denied) domain page looks unmapped to the walker: refuse it here.
      for (let at = virtual; at < virtual + length; at += PAGE_SIZE) {
        if (this.pages.get(space, at))
          throw new RangeError(`${formatAddress(at)} is already mapped in address space ${space}`);
      }
    }
    this.inner.map(space, virtual, physical, length, attrs.domain === 0 ? attrs : { ...attrs, domain: 0 });
    // x86 never caches a not-present translation, so a new mapping needs no flush (SDM 4.10.2.3).
    if (domain !== 0) this.tag(space, virtual, length, domain, 0);
  }

  /** Unmap the range (every page must be mapped) and forget its domain pages. */
  override unmap(space: AddressSpaceId, virtual: number, length: number): void {
    this.checkRange(virtual, length);
    for (let at = virtual; at < virtual + length; at += PAGE_SIZE) {
      if (!this.mapped(space, at)) throw new RangeError(`${formatAddress(at)} is not mapped in address space ${space}`);
    }
    for (let at = virtual; at < virtual + length; at += PAGE_SIZE) {
      const page = this.pages.get(space, at);
      if (page) this.forget(space, page, 0);
    }
    this.inner.unmap(space, virtual, length);
  }

  /**
   * Move pages to a domain: their PTE bits take the domain's live rights, and every CPU's cached
   * translation is invalidated (local flush + shootdown).
   */
  override attach(space: AddressSpaceId, virtual: number, length: number, domain: number, initiator = 0): void {
    checkDomainNumber(domain);
    this.checkRange(virtual, length);
    this.inner.rootOf(space);
    this.inner.cpu(initiator);
    for (let at = virtual; at < virtual + length; at += PAGE_SIZE) {
      if (!this.mapped(space, at)) throw new RangeError(`${formatAddress(at)} is not mapped in address space ${space}`);
    }
    this.tag(space, virtual, length, domain, initiator);
    const changed = this.changed;
    if (changed.count > 0) this.invalidate(changed.pages, changed.count, initiator);
  }

  /** Give every page of the range `domain` (validated); {@link changed} lists the pages whose PTE changed. */
  private tag(space: AddressSpaceId, virtual: number, length: number, domain: number, cpu: number): void {
    const changed = this.changed;
    changed.count = 0;
    const root = this.inner.rootOf(space);
    const denials = PAGETABLE_RIGHTS.denialsOf(this.live, domain);
    for (let at = virtual; at < virtual + length; at += PAGE_SIZE) {
      let page = this.pages.get(space, at);
      if (page && page.domain === domain) continue;
      if (page) {
        this.byDomain.get(page.domain)?.remove(page);
        if (domain === 0) {
          this.forget(space, page, cpu);
          changed.push(at);
          continue;
        }
      } else {
        if (domain === 0) continue;
        // A domain's rights are per 4 KiB PTE: split a large page around it (Linux split_large_page).
        // A 4 KiB leaf needs no split (its page table covers the next page too, or that page starts
        // a new region), so one walk finds it.
        const tables = this.inner.pageTables;
        let leaf = tables.findLeaf(root, at)!;
        if (leaf.level !== 1) {
          tables.splitAt(root, at);
          tables.splitAt(root, at + PAGE_SIZE);
          leaf = tables.findLeaf(root, at)!;
        }
        const t = this.inner.translate(space, at)!;
        page = {
          domain,
          virtual: at,
          frame: this.inner.memory.frame(Math.floor(leaf.entryAt / PAGE_SIZE)),
          word: (leaf.entryAt & (PAGE_SIZE - 1)) >>> 2,
          physical: t.physical,
          user: t.user,
          writable: t.writable,
          executable: t.executable,
          slot: -1,
        };
        this.pages.set(space, at, page);
      }
      page.domain = domain;
      let members = this.byDomain.get(domain);
      if (!members) this.byDomain.set(domain, (members = new DomainMembers()));
      members.add(page, page.frame, page.word, page.virtual, baseOf(page));
      if (this.writePage(page, denials, cpu)) changed.push(at);
    }
  }

  /** Back to the default domain: restore the mapping's own bits and drop the record. */
  private forget(space: AddressSpaceId, page: DomainPage, cpu: number): void {
    this.writePage(page, Deny.None, cpu);
    this.byDomain.get(page.domain)?.remove(page);
    this.pages.delete(space, page.virtual);
  }

  /** The translation, with the domain and its page's mapping permissions for pages of a domain. */
  override translate(space: AddressSpaceId, virtual: number): Translation | undefined {
    const page = this.pages.get(space, virtual);
    if (!page) return this.inner.translate(space, virtual);
    return {
      physical: page.physical + (virtual & (PAGE_SIZE - 1)),
      user: page.user,
      writable: page.writable,
      executable: page.executable,
      domain: page.domain,
      pageSize: PageSize.Size4K,
    };
  }

  /** Power-cycle: close every exposure window and forget every domain page and right. */
  override reboot(): void {
    this.exposureLog.closeAll(0);
    this.inner.reboot();
    this.pages.clear();
    this.byDomain.clear();
    this.live = rightsState();
  }

  // ---- accesses ----------------------------------------------------------------------------------

  /** An access through the x86 machine, counted against an open exposure window when allowed. */
  override access(cpu: number, virtual: number, kind: AccessKind): number {
    const code = this.inner.access(cpu, virtual, kind);
    if (code === 0 && this.exposureLog.anyOpen) this.touch(cpu, virtual);
    return code;
  }

  /** A store through the x86 machine, counted against open exposure windows when allowed. */
  override write(cpu: number, virtual: number, bytes: Uint8Array): number {
    const code = this.inner.write(cpu, virtual, bytes);
    if (code === 0 && this.exposureLog.anyOpen) this.touchRange(cpu, virtual, bytes.length);
    return code;
  }

  /** A load through the x86 machine, counted against open exposure windows when allowed. */
  override read(cpu: number, virtual: number, length: number): Uint8Array | undefined {
    const data = this.inner.read(cpu, virtual, length);
    if (data && this.exposureLog.anyOpen) this.touchRange(cpu, virtual, length);
    return data;
  }

  private touch(cpu: number, virtual: number): void {
    const page = this.pages.get(this.inner.activeSpace(cpu), virtual);
    if (page) this.exposureLog.touch(cpu, page.domain);
  }

  private touchRange(cpu: number, virtual: number, length: number): void {
    for (let at = Math.floor(virtual / PAGE_SIZE) * PAGE_SIZE; at < virtual + length; at += PAGE_SIZE)
      this.touch(cpu, at);
  }

  /**
   * The x86 fault, with cause 'domain' when the page's domain denies the access: the hardware saw
   * an ordinary not-present or protection #PF, the scheme knows which domain took the right away.
   */
  override lastFault(cpu: number): AccessFault | undefined {
    const fault = this.inner.lastFault(cpu);
    if (!fault || (fault.cause !== 'not-present' && fault.cause !== 'permission')) return fault;
    const page = this.pages.get(this.inner.activeSpace(cpu), fault.address);
    if (!page || (fault.mode === Privilege.User && !page.user)) return fault;
    const denials = PAGETABLE_RIGHTS.denialsOf(this.live, page.domain);
    const denied =
      fault.access === AccessKind.Read
        ? (denials & Deny.Access) !== 0
        : fault.access === AccessKind.Write
          ? (denials & (Deny.Access | Deny.Write)) !== 0
          : (denials & (Deny.Access | Deny.Execute)) !== 0;
    if (!denied) return fault;
    return {
      ...fault,
      cause: 'domain',
      detail: { ...fault.detail, domain: page.domain },
      summary: `${fault.summary} (page-table domain ${page.domain})`,
    };
  }
}

/** No pages to flush. */
const NO_PAGES = new Float64Array(0);

/** A page's own permissions as {@link DomainMembers} keeps them. */
function baseOf(page: DomainPage): number {
  return (page.writable ? BASE_WRITABLE : 0) | (page.executable ? BASE_EXECUTABLE : 0);
}
