/**
 * A base Machine for architectures built from the kit: sparse physical memory, a radix page-table
 * engine, per-CPU TLBs, address spaces, map/unmap/attach with large-page splitting and counted
 * invalidations, translate, byte reads and writes, and the checked access with its fault record.
 *
 * An architecture supplies its descriptor codec, its domain spaces, its access check (read rights at
 * access time, from its own per-CPU registers) and the text of its fault reports.
 *
 * Address spaces use the split layout of arm64 TTBR0/TTBR1 (Arm ARM D8.2): the lower half
 * [0, 2^vaBits) has a root per address space, the upper half [-2^vaBits, 0) one root shared by all,
 * which is what Linux arranges on every architecture for the kernel half.
 */
import {
  ACCESS_OK,
  AccessKind,
  DEFAULT_MACHINE_CONFIG,
  DomainError,
  EventCounters,
  MACHINE_EVENT_COUNT,
  MachineEvent,
  PageSize,
  Privilege,
  type AccessFault,
  type AddressSpaceId,
  type DomainSpace,
  type Machine,
  type MappingAttributes,
  type Translation,
} from '@pkeysim/core';
import { formatAddress, PAGE_SIZE, toAddress } from './address';
import type { DescriptorCodec } from './descriptor-codec';
import { faultCauseOf, FaultKind } from './fault-codes';
import { RadixPageTable } from './page-table';
import { PhysicalMemory } from './physical-memory';
import { Tlb } from './tlb';
import {
  TF_PRIV_EXEC,
  TF_PRIV_WRITE,
  TF_USER,
  TF_USER_EXEC,
  TF_USER_WRITE,
  translationDomain,
  translationLevel,
} from './translation-flags';

export interface KitMachineOptions {
  /** The plugin name (Machine.arch). */
  readonly arch: string;
  readonly cpus?: number;
  readonly codec: DescriptorCodec;
  readonly ramBytes?: number;
  readonly persistentBytes?: number;
  /** Physical address width (default 48). */
  readonly maxPhysAddr?: number;
  /** Entries of each CPU's direct-mapped TLB (power of two, default 512). */
  readonly tlbEntries?: number;
  /**
   * A range invalidation flushes page by page up to this many pages, else the whole TLB (default 33,
   * Linux x86 tlb_single_page_flush_ceiling; arm64 uses MAX_DVM_OPS in asm/tlbflush.h).
   */
  readonly flushCeiling?: number;
  /** The domain a mapping gets when MappingAttributes.domain is absent (default 0). */
  readonly defaultDomain?: number;
  /** How many domains the architecture lets software use (default: every value the tag field holds). */
  readonly usableDomains?: number;
}

/** A fault as the machine recorded it: what an architecture needs to write its report. */
export interface KitFaultRecord {
  readonly cpu: number;
  /** The nonzero access result (fault-codes.ts). */
  readonly code: number;
  readonly address: number;
  readonly access: AccessKind;
  readonly mode: Privilege;
  /** Level of the leaf (permission faults) or of the invalid entry (translation faults). */
  readonly level: number;
  /** TF_* flags of the translation, 0 when the walk failed. */
  readonly flags: number;
}

/** The architecture's part of an AccessFault. */
export interface FaultReport {
  readonly detail: Readonly<Record<string, string | number | boolean>>;
  readonly summary: string;
  /** Set only if the hardware reports the domain. */
  readonly domain?: number;
}

const PAGE_SIZES: readonly number[] = [PageSize.Size4K, PageSize.Size2M, PageSize.Size1G];

export abstract class KitMachine implements Machine {
  readonly arch: string;
  readonly cpuCount: number;
  readonly events: EventCounters;
  readonly memory: PhysicalMemory;
  readonly pageTable: RadixPageTable;
  readonly codec: DescriptorCodec;
  /** Each half of the address space spans 2^vaBits bytes. */
  readonly vaBits: number;
  readonly defaultDomain: number;
  readonly usableDomains: number;
  protected readonly tlbs: readonly Tlb[];
  /** Privilege of each CPU's accesses. */
  protected readonly modes: Uint8Array;
  private readonly counts: Float64Array;
  private readonly flushCeiling: number;
  private readonly half: number;
  private lowerRoots: number[] = [];
  private upperRoot = 0;
  private readonly active: Int32Array;
  /** Root of the lower half each CPU walks (from its active space). */
  private readonly activeRoot: Float64Array;
  // The last fault of each CPU, as numbers: a faulting access allocates nothing.
  private readonly faultCode: Int32Array;
  private readonly faultAddress: Float64Array;
  private readonly faultKind: Uint8Array;
  private readonly faultMode: Uint8Array;
  private readonly faultLevel: Int8Array;
  private readonly faultFlags: Int32Array;

  constructor(options: KitMachineOptions) {
    const cpus = options.cpus ?? DEFAULT_MACHINE_CONFIG.cpus;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 4096)
      throw new DomainError('invalid', `cpus ${String(cpus)} must be a whole number 1..4096`);
    const maxPhysAddr = options.maxPhysAddr ?? 48;
    if (!Number.isInteger(maxPhysAddr) || maxPhysAddr < 32 || maxPhysAddr > 52) {
      throw new DomainError('invalid', `maxPhysAddr ${String(maxPhysAddr)} must be a whole number 32..52`);
    }
    const ceiling = options.flushCeiling ?? 33;
    if (!Number.isInteger(ceiling) || ceiling < 0)
      throw new DomainError('invalid', `flushCeiling ${String(ceiling)} must be a whole number >= 0`);
    this.arch = options.arch;
    this.cpuCount = cpus;
    this.codec = options.codec;
    this.events = new EventCounters(cpus);
    this.counts = this.events.counts;
    this.memory = new PhysicalMemory({
      ramBytes: options.ramBytes ?? DEFAULT_MACHINE_CONFIG.ramBytes,
      persistentBytes: options.persistentBytes ?? DEFAULT_MACHINE_CONFIG.persistentBytes,
      maxPhysAddr,
    });
    this.pageTable = new RadixPageTable(this.memory, options.codec, {
      entryWritten: () => this.events.count(0, MachineEvent.PteWrite),
    });
    this.half = this.pageTable.coverage;
    this.vaBits = Math.log2(this.half);
    if (this.half > 2 ** 52)
      throw new DomainError(
        'invalid',
        `codec ${options.codec.name} covers 2^${this.vaBits} bytes per half; at most 2^52 is exact`,
      );
    this.defaultDomain = options.defaultDomain ?? 0;
    this.usableDomains = options.usableDomains ?? options.codec.domainCount;
    if (
      !Number.isInteger(this.usableDomains) ||
      this.usableDomains < 1 ||
      this.usableDomains > options.codec.domainCount
    ) {
      throw new DomainError(
        'invalid',
        `usableDomains ${String(this.usableDomains)} must be 1..${options.codec.domainCount}`,
      );
    }
    this.flushCeiling = ceiling;
    const entries = options.tlbEntries ?? 512;
    this.tlbs = Array.from({ length: cpus }, () => new Tlb(entries, options.codec.bitsPerLevel));
    this.modes = new Uint8Array(cpus).fill(Privilege.Supervisor);
    this.active = new Int32Array(cpus);
    this.activeRoot = new Float64Array(cpus);
    this.faultCode = new Int32Array(cpus);
    this.faultAddress = new Float64Array(cpus);
    this.faultKind = new Uint8Array(cpus);
    this.faultMode = new Uint8Array(cpus);
    this.faultLevel = new Int8Array(cpus);
    this.faultFlags = new Int32Array(cpus);
    this.bootMemory();
  }

  // ---- what an architecture provides ------------------------------------------------------------

  abstract domainSpace(governs: Privilege): DomainSpace | undefined;
  /**
   * The access check, from the cached translation flags and the CPU's registers read NOW: 0, or a
   * fault code whose low four bits are a {@link FaultKind}. Runs on every access: no allocation.
   */
  protected abstract checkAccess(cpu: number, flags: number, kind: AccessKind, mode: Privilege): number;
  /** The architecture's report of a recorded fault (built only when asked for). */
  protected abstract describeFault(record: KitFaultRecord): FaultReport;
  /** Put every CPU register the architecture owns back to its reset value (reboot). */
  protected abstract resetArchitecture(): void;

  /** The code of a translation fault (no valid leaf) at `level`; architectures may add bits. */
  protected translationFaultCode(_cpu: number, _kind: AccessKind, _level: number): number {
    return FaultKind.NotPresent;
  }

  // ---- CPUs and counting --------------------------------------------------------------------------

  /** Throws a RangeError for a CPU the machine does not have. */
  checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpuCount) {
      throw new RangeError(`CPU ${String(cpu)} does not exist (the machine has ${this.cpuCount})`);
    }
  }

  /** Count an event on a CPU (an index increment). */
  protected count(cpu: number, event: MachineEvent, n = 1): void {
    this.counts[cpu * MACHINE_EVENT_COUNT + event] += n;
  }

  /** The CPU's TLB (tests, reports, architecture maintenance instructions). */
  tlb(cpu: number): Tlb {
    this.checkCpu(cpu);
    return this.tlbs[cpu];
  }

  /** Invalidate one page's translations on one CPU (INVLPG, TLBI VAE1, tlbiel): counted. */
  invalidatePage(cpu: number, virtual: number): void {
    this.checkCpu(cpu);
    this.count(cpu, MachineEvent.TlbFlushPage);
    this.tlbs[cpu].invalidatePage(Math.floor(toAddress(virtual, 'virtual address') / PAGE_SIZE));
  }

  /** Invalidate a CPU's whole TLB (TLBI VMALLE1, tlbiel all): counted. */
  flushTlb(cpu: number): void {
    this.checkCpu(cpu);
    this.count(cpu, MachineEvent.TlbFlushAll);
    this.tlbs[cpu].flushAll();
  }

  // ---- address spaces -----------------------------------------------------------------------------

  private bootMemory(): void {
    this.upperRoot = this.pageTable.allocateTable();
    this.lowerRoots = [];
    this.createAddressSpace();
    for (let cpu = 0; cpu < this.cpuCount; cpu++) {
      this.active[cpu] = 0;
      this.activeRoot[cpu] = this.lowerRoots[0];
    }
  }

  createAddressSpace(): AddressSpaceId {
    this.lowerRoots.push(this.pageTable.allocateTable());
    return this.lowerRoots.length - 1;
  }

  /** Physical address of a space's lower-half root, and (same for all) of the upper-half root. */
  rootsOf(space: AddressSpaceId): { readonly lower: number; readonly upper: number } {
    return { lower: this.lowerRootOf(space), upper: this.upperRoot };
  }

  private lowerRootOf(space: AddressSpaceId): number {
    const root = Number.isInteger(space) ? this.lowerRoots[space] : undefined;
    if (root === undefined) throw new RangeError(`address space ${String(space)} does not exist`);
    return root;
  }

  private rootFor(space: AddressSpaceId, address: number): number {
    return address < 0 ? this.upperRoot : this.lowerRootOf(space);
  }

  /**
   * Switch a CPU to an address space. The TLB has no address-space tags, so non-global entries are
   * flushed (counted as TlbFlushAll), as a CR3 write does and as arm64 would without ASIDs.
   */
  activate(cpu: number, space: AddressSpaceId): void {
    this.checkCpu(cpu);
    const root = this.lowerRootOf(space);
    this.active[cpu] = space;
    this.activeRoot[cpu] = root;
    this.count(cpu, MachineEvent.TlbFlushAll);
    this.tlbs[cpu].flushNonGlobal();
  }

  activeSpace(cpu: number): AddressSpaceId {
    this.checkCpu(cpu);
    return this.active[cpu];
  }

  /** Whether `address` lies in one of the two halves. */
  inRange(address: number): boolean {
    return address >= -this.half && address < this.half;
  }

  /** Validate a virtual range: integers, aligned to `size`, inside one half. */
  private checkRange(virtual: number | bigint, length: number, size: number): number {
    const start = toAddress(virtual, 'virtual address');
    if (!Number.isInteger(length) || length <= 0 || length % size !== 0) {
      throw new RangeError(`length ${String(length)} must be a positive multiple of 0x${size.toString(16)}`);
    }
    if (Math.floor(start / size) * size !== start)
      throw new RangeError(`virtual address ${formatAddress(start)} is not aligned to 0x${size.toString(16)}`);
    const last = start + length - 1;
    if (!this.inRange(start) || !this.inRange(last) || start < 0 !== last < 0) {
      throw new RangeError(
        `range ${formatAddress(start)}+0x${length.toString(16)} is not inside one ${this.vaBits}-bit half of the address space`,
      );
    }
    return start;
  }

  /** Throws DomainError('invalid') for a domain the architecture cannot tag pages with. */
  checkDomain(domain: number): void {
    if (!Number.isInteger(domain) || domain < 0 || domain >= this.usableDomains) {
      throw new DomainError(
        'invalid',
        `${this.arch} domain ${String(domain)} must be 0..${this.usableDomains - 1} (${this.codec.domainField})`,
      );
    }
  }

  private checkFullyMapped(root: number, start: number, length: number, space: AddressSpaceId): void {
    const hole = this.pageTable.firstUnmapped(root, start, start + length);
    if (hole !== undefined) throw new RangeError(`${formatAddress(hole)} is not mapped in address space ${space}`);
  }

  map(space: AddressSpaceId, virtual: number, physical: number, length: number, attrs: MappingAttributes): void {
    const pageSize = attrs.pageSize ?? PageSize.Size4K;
    const level = PAGE_SIZES.indexOf(pageSize);
    if (level < 0 || !this.pageTable.leafLevelAllowed(level) || this.pageTable.span(level) !== pageSize) {
      throw new RangeError(`page size 0x${Number(pageSize).toString(16)} is not a leaf size of ${this.codec.name}`);
    }
    const start = this.checkRange(virtual, length, pageSize);
    const root = this.rootFor(space, start);
    if (!Number.isInteger(physical) || physical < 0 || physical % pageSize !== 0) {
      throw new RangeError(
        `physical address ${String(physical)} must be a non-negative multiple of 0x${pageSize.toString(16)}`,
      );
    }
    if (!this.memory.containsRange(physical, length)) {
      throw new RangeError(
        `physical range 0x${physical.toString(16)}+0x${length.toString(16)} is not inside RAM or PMEM`,
      );
    }
    const domain = attrs.domain ?? this.defaultDomain;
    this.checkDomain(domain);
    const mapped = this.pageTable.firstMapped(root, start, start + length);
    if (mapped !== undefined)
      throw new RangeError(`${formatAddress(mapped)} is already mapped in address space ${space}`);
    this.pageTable.map(root, start, physical, length, level, {
      user: attrs.user,
      writable: attrs.writable,
      executable: attrs.executable,
      global: attrs.global ?? false,
      domain,
    });
    // No invalidation: invalid entries are never cached (Arm ARM D8.13.1; Intel SDM 4.10.2.3).
  }

  unmap(space: AddressSpaceId, virtual: number, length: number): void {
    const start = this.checkRange(virtual, length, PAGE_SIZE);
    const root = this.rootFor(space, start);
    this.checkFullyMapped(root, start, length, space);
    this.pageTable.unmap(root, start, length);
    this.invalidateRange(start, length, 0);
  }

  /**
   * Re-tag [virtual, virtual+length): split straddling large pages, write the domain into every leaf,
   * then invalidate on the initiating CPU and count one shootdown per other CPU (Linux
   * flush_tlb_kernel_range). `initiator` is the CPU doing it (default 0).
   */
  attach(space: AddressSpaceId, virtual: number, length: number, domain: number, initiator = 0): void {
    const start = this.checkRange(virtual, length, PAGE_SIZE);
    const root = this.rootFor(space, start);
    this.checkDomain(domain);
    this.checkCpu(initiator);
    this.checkFullyMapped(root, start, length, space);
    this.pageTable.setDomain(root, start, length, domain);
    this.invalidateRange(start, length, initiator);
  }

  /** Invalidate a changed range on every CPU: page by page up to the ceiling, else a full flush. */
  private invalidateRange(start: number, length: number, initiator: number): void {
    const pages = length / PAGE_SIZE;
    for (let cpu = 0; cpu < this.cpuCount; cpu++) {
      if (cpu !== initiator) this.count(initiator, MachineEvent.Shootdown);
      if (pages > this.flushCeiling) {
        this.count(cpu, MachineEvent.TlbFlushAll);
        this.tlbs[cpu].flushAll();
      } else {
        this.count(cpu, MachineEvent.TlbFlushPage, pages);
        const tlb = this.tlbs[cpu];
        for (let p = 0; p < pages; p++) tlb.invalidatePage(Math.floor(start / PAGE_SIZE) + p);
      }
    }
  }

  translate(space: AddressSpaceId, virtual: number): Translation | undefined {
    const address = toAddress(virtual, 'virtual address');
    const root = this.rootFor(space, address);
    if (!this.inRange(address) || !this.pageTable.walk(root, address)) return undefined;
    const flags = this.pageTable.flags;
    const user = (flags & TF_USER) !== 0;
    return {
      physical: this.pageTable.frame + (address & (PAGE_SIZE - 1)),
      user,
      writable: (flags & (user ? TF_USER_WRITE : TF_PRIV_WRITE)) !== 0,
      executable: (flags & (user ? TF_USER_EXEC : TF_PRIV_EXEC)) !== 0,
      domain: translationDomain(flags),
      pageSize: PAGE_SIZES[translationLevel(flags)] as PageSize,
    };
  }

  // ---- physical memory ----------------------------------------------------------------------------

  allocatePhysical(length: number, options?: { persistent?: boolean; align?: number }): number {
    return this.memory.allocate(length, options);
  }

  readPhysical(physical: number, length: number): Uint8Array {
    return this.memory.read(physical, length);
  }

  writePhysical(physical: number, bytes: Uint8Array): void {
    this.memory.write(physical, bytes);
  }

  /** Power cycle: RAM (page tables included), TLBs and CPU state are lost; PMEM and the event counts are kept. */
  reboot(): void {
    this.memory.reboot();
    for (const tlb of this.tlbs) tlb.flushAll();
    this.modes.fill(Privilege.Supervisor);
    this.faultCode.fill(0);
    this.resetArchitecture();
    this.bootMemory();
  }

  // ---- accesses -----------------------------------------------------------------------------------

  setMode(cpu: number, mode: Privilege): void {
    this.checkCpu(cpu);
    if (mode !== Privilege.User && mode !== Privilege.Supervisor)
      throw new RangeError(`mode ${String(mode)} must be Privilege.User or Privilege.Supervisor`);
    this.modes[cpu] = mode;
  }

  mode(cpu: number): Privilege {
    this.checkCpu(cpu);
    return this.modes[cpu] as Privilege;
  }

  /**
   * Check an access through the CPU's TLB: ACCESS_OK, or a fault code with the details kept for
   * lastFault. A hit costs an index computation, a compare and the architecture's check.
   */
  access(cpu: number, virtual: number, kind: AccessKind): number {
    const tlb = this.tlbs[cpu];
    if (tlb === undefined) this.checkCpu(cpu);
    const vpn = Math.floor(virtual / PAGE_SIZE);
    let slot = vpn & tlb.mask;
    if (tlb.tag[slot] !== vpn) {
      slot = this.refill(cpu, tlb, virtual, vpn, kind);
      if (slot < 0) return this.faultCode[cpu];
    }
    const flags = tlb.flags[slot];
    const mode = this.modes[cpu] as Privilege;
    const code = this.checkAccess(cpu, flags, kind, mode);
    if (code !== ACCESS_OK) {
      this.recordFault(cpu, code, virtual, kind, mode, translationLevel(flags), flags);
      return code;
    }
    this.counts[cpu * MACHINE_EVENT_COUNT + MachineEvent.Access] += 1;
    return ACCESS_OK;
  }

  /** TLB miss: walk and fill; the slot, or -1 with a translation fault recorded. */
  private refill(cpu: number, tlb: Tlb, virtual: number, vpn: number, kind: AccessKind): number {
    this.counts[cpu * MACHINE_EVENT_COUNT + MachineEvent.PageWalk] += 1;
    const table = this.pageTable;
    const inRange = virtual >= -this.half && virtual < this.half;
    if (!inRange || !table.walk(virtual < 0 ? this.upperRoot : this.activeRoot[cpu], virtual)) {
      // Outside both halves the walk cannot start: a translation fault at the root level (Arm ARM D8.2.4).
      const level = inRange ? table.level : this.codec.levels - 1;
      const mode = this.modes[cpu] as Privilege;
      this.recordFault(cpu, this.translationFaultCode(cpu, kind, level), virtual, kind, mode, level, 0);
      return -1;
    }
    return tlb.fill(vpn, table.frame, table.flags);
  }

  private recordFault(
    cpu: number,
    code: number,
    address: number,
    kind: AccessKind,
    mode: Privilege,
    level: number,
    flags: number,
  ): void {
    this.faultCode[cpu] = code;
    this.faultAddress[cpu] = address;
    this.faultKind[cpu] = kind;
    this.faultMode[cpu] = mode;
    this.faultLevel[cpu] = level;
    this.faultFlags[cpu] = flags;
    this.counts[cpu * MACHINE_EVENT_COUNT + MachineEvent.Fault] += 1;
  }

  /** Check every page of the range first: the first fault code, or the frames of the pages. */
  private checkPages(cpu: number, start: number, length: number, kind: AccessKind): number | number[] {
    const frames: number[] = [];
    const tlb = this.tlbs[cpu];
    let at = start;
    const end = start + length;
    while (at < end) {
      const code = this.access(cpu, at, kind);
      if (code !== ACCESS_OK) return code;
      const vpn = Math.floor(at / PAGE_SIZE);
      frames.push(tlb.frame[vpn & tlb.mask]);
      at = (vpn + 1) * PAGE_SIZE;
    }
    return frames;
  }

  write(cpu: number, virtual: number, bytes: Uint8Array): number {
    this.checkCpu(cpu);
    const start = toAddress(virtual, 'virtual address');
    if (bytes.length === 0) return ACCESS_OK;
    const checked = this.checkPages(cpu, start, bytes.length, AccessKind.Write);
    if (typeof checked === 'number') return checked;
    let done = 0;
    for (const frame of checked) {
      const offset = (start + done) & (PAGE_SIZE - 1);
      const n = Math.min(PAGE_SIZE - offset, bytes.length - done);
      this.memory.write(frame + offset, bytes.subarray(done, done + n));
      done += n;
    }
    return ACCESS_OK;
  }

  read(cpu: number, virtual: number, length: number): Uint8Array | undefined {
    this.checkCpu(cpu);
    const start = toAddress(virtual, 'virtual address');
    if (!Number.isInteger(length) || length < 0)
      throw new RangeError(`length ${String(length)} must be a non-negative integer`);
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const checked = this.checkPages(cpu, start, length, AccessKind.Read);
    if (typeof checked === 'number') return undefined;
    let done = 0;
    for (const frame of checked) {
      const offset = (start + done) & (PAGE_SIZE - 1);
      const n = Math.min(PAGE_SIZE - offset, length - done);
      out.set(this.memory.read(frame + offset, n), done);
      done += n;
    }
    return out;
  }

  lastFault(cpu: number): AccessFault | undefined {
    this.checkCpu(cpu);
    const code = this.faultCode[cpu];
    if (code === 0) return undefined;
    const record: KitFaultRecord = {
      cpu,
      code,
      address: this.faultAddress[cpu],
      access: this.faultKind[cpu] as AccessKind,
      mode: this.faultMode[cpu] as Privilege,
      level: this.faultLevel[cpu],
      flags: this.faultFlags[cpu],
    };
    const report = this.describeFault(record);
    return {
      cpu,
      address: record.address,
      access: record.access,
      mode: record.mode,
      cause: faultCauseOf(code),
      ...(report.domain !== undefined ? { domain: report.domain } : {}),
      detail: report.detail,
      summary: report.summary,
    };
  }
}
