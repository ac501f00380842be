/**
 * The x86 machine behind the core {@link Machine} contract: CPUs, sparse physical memory, page
 * tables written into that memory, per-CPU TLBs and the PKU/PKS domain spaces.
 */
import {
  AccessKind,
  DEFAULT_MACHINE_CONFIG,
  DomainError,
  EventCounters,
  MachineEvent,
  PageSize,
  Privilege,
  type AccessFault,
  type AddressSpaceId,
  type DomainSpace,
  type FaultCause,
  type Machine,
  type MachineConfig,
  type MappingAttributes,
  type Translation,
} from '@pkeysim/core';
import { formatAddress, isCanonical, PAGE_SIZE, toLinearAddress } from './address';
import { CHECK_GUARD } from './access-check';
import { X86Cpu } from './cpu';
import { X86PksSpace, X86PkuSpace } from './domain-spaces';
import { reservedHighMask } from './entry';
import { describeFault, FAULT_GP, PF } from './exception';
import { PageTableWriter } from './page-table-writer';
import { PhysicalMemory } from './physical-memory';
import type { X86CpuFeatures } from './registers';
import { T_USER, T_WRITE, T_XD, translationPkey, translationSizeCode } from './translation-flags';
import { PageWalker, WALK_OK } from './walk';

export interface X86MachineOptions {
  readonly cpus?: number;
  /** 4 (default) or 5 (CR4.LA57). */
  readonly pagingLevels?: 4 | 5;
  /** MAXPHYADDR, 36..52 (default 46): entry address bits at or above it are reserved. */
  readonly maxPhysAddr?: number;
  /** CPUID enumeration; pku and pks default to true, la57 to pagingLevels === 5. */
  readonly features?: Partial<X86CpuFeatures>;
  readonly ramBytes?: number;
  readonly persistentBytes?: number;
  /** Entries of each CPU's direct-mapped TLB (power of two, default 512). */
  readonly tlbEntries?: number;
}

/** Linux flushes page by page up to this many pages, else the whole TLB (arch/x86/mm/tlb.c tlb_single_page_flush_ceiling). */
export const TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

const PAGE_SIZES: readonly number[] = [PageSize.Size4K, PageSize.Size2M, PageSize.Size1G];

export class X86Machine implements Machine {
  readonly arch = 'x86';
  readonly cpuCount: number;
  readonly events: EventCounters;
  readonly memory: PhysicalMemory;
  readonly pagingLevels: 4 | 5;
  readonly maxPhysAddr: number;
  readonly features: X86CpuFeatures;
  /** The page-table writer the machine edits its address spaces with. */
  readonly pageTables: PageTableWriter;
  private readonly cpus: X86Cpu[];
  private roots: number[] = [];
  private readonly active: Int32Array;
  private readonly walker: PageWalker;
  private readonly pks: X86PksSpace;
  private readonly pku: X86PkuSpace;

  /** Build from a core MachineConfig (`options: { pagingLevels, maxPhysAddr, tlbEntries }`). */
  static fromConfig(config: MachineConfig): X86Machine {
    const options = config.options ?? {};
    const known = ['pagingLevels', 'maxPhysAddr', 'tlbEntries'];
    for (const key of Object.keys(options)) {
      if (!known.includes(key))
        throw new DomainError('invalid', `unknown x86 option "${key}" (known: ${known.join(', ')})`);
    }
    return new X86Machine({
      cpus: config.cpus,
      pagingLevels: options.pagingLevels as 4 | 5 | undefined,
      maxPhysAddr: options.maxPhysAddr as number | undefined,
      tlbEntries: options.tlbEntries as number | undefined,
      features: { pku: config.features?.userDomains ?? true, pks: config.features?.supervisorDomains ?? true },
      ramBytes: config.memory?.ramBytes,
      persistentBytes: config.memory?.persistentBytes,
    });
  }

  constructor(options: X86MachineOptions = {}) {
    const cpus = options.cpus ?? DEFAULT_MACHINE_CONFIG.cpus;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 4096)
      throw new DomainError('invalid', `cpus ${String(cpus)} must be a whole number 1..4096`);
    const levels = options.pagingLevels ?? 4;
    if (levels !== 4 && levels !== 5) throw new DomainError('invalid', `pagingLevels ${String(levels)} must be 4 or 5`);
    const maxPhysAddr = options.maxPhysAddr ?? 46;
    if (!Number.isInteger(maxPhysAddr) || maxPhysAddr < 36 || maxPhysAddr > 52) {
      throw new DomainError('invalid', `maxPhysAddr ${String(maxPhysAddr)} must be a whole number 36..52`);
    }
    const features: X86CpuFeatures = {
      pku: options.features?.pku ?? true,
      pks: options.features?.pks ?? true,
      la57: options.features?.la57 ?? levels === 5,
    };
    if (levels === 5 && !features.la57) throw new DomainError('invalid', '5-level paging needs features.la57');
    this.cpuCount = cpus;
    this.pagingLevels = levels;
    this.maxPhysAddr = maxPhysAddr;
    this.features = Object.freeze(features);
    this.events = new EventCounters(cpus);
    this.memory = new PhysicalMemory({
      ramBytes: options.ramBytes ?? DEFAULT_MACHINE_CONFIG.ramBytes,
      persistentBytes: options.persistentBytes ?? DEFAULT_MACHINE_CONFIG.persistentBytes,
      maxPhysAddr,
    });
    this.pageTables = new PageTableWriter(this.memory, levels, {
      entryWritten: () => this.events.count(0, MachineEvent.PteWrite),
      kernelTopEntry: (root, index, lo, hi) => {
        for (const other of this.roots) if (other !== root) this.memory.writeEntry(other + index * 8, lo, hi);
      },
    });
    this.walker = new PageWalker(this.memory);
    this.cpus = [];
    for (let index = 0; index < cpus; index++) {
      this.cpus.push(
        new X86Cpu({
          index,
          features,
          pagingLevels: levels,
          maxPhysAddr,
          tlbEntries: options.tlbEntries ?? 512,
          memory: this.memory,
          events: this.events,
        }),
      );
    }
    this.active = new Int32Array(cpus);
    this.pks = new X86PksSpace(this);
    this.pku = new X86PkuSpace(this);
    this.boot();
    this.events.reset(); // count from here on; a reboot keeps counting (core Machine.reboot)
  }

  /** Address space 0 (the kernel's initial one) is created and active on every CPU. */
  private boot(): void {
    this.roots = [];
    this.createAddressSpace();
    for (let cpu = 0; cpu < this.cpuCount; cpu++) this.activate(cpu, 0);
  }

  /** The X86Cpu with its registers and instructions. */
  cpu(index: number): X86Cpu {
    const cpu = this.cpus[index];
    if (cpu === undefined)
      throw new RangeError(`CPU ${String(index)} does not exist (the machine has ${this.cpuCount})`);
    return cpu;
  }

  domainSpace(governs: Privilege): DomainSpace | undefined {
    return governs === Privilege.Supervisor ? this.pks : governs === Privilege.User ? this.pku : undefined;
  }

  // ---- address spaces ---------------------------------------------------------------------------

  /** A new address space: a fresh root table sharing the kernel half of space 0. */
  createAddressSpace(): AddressSpaceId {
    const root = this.pageTables.allocateTable();
    if (this.roots.length > 0) this.pageTables.copyKernelHalf(this.roots[0], root);
    this.roots.push(root);
    return this.roots.length - 1;
  }

  /** Physical address of a space's root table (what CR3 holds). */
  rootOf(space: AddressSpaceId): number {
    const root = this.roots[space];
    if (!Number.isInteger(space) || root === undefined)
      throw new RangeError(`address space ${String(space)} does not exist`);
    return root;
  }

  /** MOV to CR3 on the CPU (as kernel code): non-global translations are flushed. */
  activate(cpu: number, space: AddressSpaceId): void {
    const root = this.rootOf(space);
    this.cpu(cpu).asKernel((c) => c.movToCr3(root));
    this.active[cpu] = space;
  }

  activeSpace(cpu: number): AddressSpaceId {
    this.cpu(cpu);
    return this.active[cpu];
  }

  /** Validate a linear range: integer, page-aligned to `size`, canonical, not crossing the hole. */
  private checkRange(virtual: number | bigint, length: number, size: number): number {
    const start = toLinearAddress(virtual, 'virtual address');
    if (!Number.isInteger(length) || length <= 0 || length % size !== 0) {
      throw new RangeError(`length ${String(length)} must be a positive multiple of 0x${size.toString(16)}`);
    }
    if (Math.floor(start / size) * size !== start)
      throw new RangeError(`virtual address ${formatAddress(start)} is not aligned to 0x${size.toString(16)}`);
    const last = start + length - 1;
    if (!isCanonical(start, this.pagingLevels) || !isCanonical(last, this.pagingLevels) || start < 0 !== last < 0) {
      throw new RangeError(
        `range ${formatAddress(start)}+0x${length.toString(16)} is not canonical for ${this.pagingLevels}-level paging`,
      );
    }
    return start;
  }

  private checkDomain(domain: number): void {
    if (!Number.isInteger(domain) || domain < 0 || domain > 15)
      throw new DomainError('invalid', `x86 protection key ${String(domain)} must be 0..15`);
  }

  map(space: AddressSpaceId, virtual: number, physical: number, length: number, attrs: MappingAttributes): void {
    const root = this.rootOf(space);
    const pageSize = attrs.pageSize ?? PageSize.Size4K;
    if (!PAGE_SIZES.includes(pageSize))
      throw new RangeError(`page size ${String(pageSize)} must be 4 KiB, 2 MiB or 1 GiB`);
    const start = this.checkRange(virtual, length, pageSize);
    if (!Number.isInteger(physical) || physical < 0 || physical % pageSize !== 0) {
      throw new RangeError(
        `physical address ${String(physical)} must be a non-negative multiple of 0x${pageSize.toString(16)}`,
      );
    }
    const region = this.memory.regionOf(physical);
    if (region === undefined || physical + length > region.base + region.size) {
      throw new RangeError(
        `physical range 0x${physical.toString(16)}+0x${length.toString(16)} is not inside RAM or PMEM`,
      );
    }
    const domain = attrs.domain ?? 0;
    this.checkDomain(domain);
    const mapped = this.pageTables.firstMapped(root, start, start + length);
    if (mapped !== undefined)
      throw new RangeError(`${formatAddress(mapped)} is already mapped in address space ${space}`);
    this.pageTables.map(root, start, physical, length, {
      user: attrs.user,
      writable: attrs.writable,
      executable: attrs.executable,
      pkey: domain,
      global: attrs.global ?? false,
      pageSize,
    });
    // No flush: x86 never caches a not-present translation (SDM 4.10.2.3).
  }

  private checkFullyMapped(root: number, start: number, length: number, space: AddressSpaceId): void {
    const hole = this.pageTables.firstUnmapped(root, start, start + length);
    if (hole !== undefined) throw new RangeError(`${formatAddress(hole)} is not mapped in address space ${space}`);
  }

  unmap(space: AddressSpaceId, virtual: number, length: number): void {
    const root = this.rootOf(space);
    const start = this.checkRange(virtual, length, PAGE_SIZE);
    this.checkFullyMapped(root, start, length, space);
    this.pageTables.unmap(root, start, length);
    this.invalidateRange(start, length);
  }

  /**
   * Re-key [virtual, virtual+length): split straddling large pages, write the key into every leaf,
   * then INVLPG on the initiating CPU and one shootdown (IPI + INVLPG) per other CPU
   * (Linux flush_tlb_kernel_range). `initiator` is the CPU doing it (default 0).
   */
  attach(space: AddressSpaceId, virtual: number, length: number, domain: number, initiator = 0): void {
    const root = this.rootOf(space);
    const start = this.checkRange(virtual, length, PAGE_SIZE);
    this.checkDomain(domain);
    this.cpu(initiator);
    this.checkFullyMapped(root, start, length, space);
    this.pageTables.setKey(root, start, length, domain);
    this.invalidateRange(start, length, initiator);
  }

  /** Invalidate a changed range on every CPU: INVLPG per page up to the ceiling, else a full flush. */
  private invalidateRange(start: number, length: number, initiator = 0): void {
    const pages = length / PAGE_SIZE;
    for (let index = 0; index < this.cpuCount; index++) {
      const cpu = this.cpus[index];
      if (index !== initiator) this.events.count(initiator, MachineEvent.Shootdown);
      if (pages > TLB_SINGLE_PAGE_FLUSH_CEILING) cpu.flushTlbAll();
      else
        cpu.asKernel((c) => {
          for (let p = 0; p < pages; p++) c.invlpg(start + p * PAGE_SIZE);
        });
    }
  }

  translate(space: AddressSpaceId, virtual: number): Translation | undefined {
    const root = this.rootOf(space);
    const address = toLinearAddress(virtual, 'virtual address');
    if (!isCanonical(address, this.pagingLevels)) return undefined;
    const walker = this.walker;
    if (
      walker.walk(root, this.pagingLevels, address, reservedHighMask(this.maxPhysAddr, true), false, false) !== WALK_OK
    )
      return undefined;
    const flags = walker.flags;
    return {
      physical: walker.frame + (address & (PAGE_SIZE - 1)),
      user: (flags & T_USER) !== 0,
      writable: (flags & T_WRITE) !== 0,
      executable: (flags & T_XD) === 0,
      domain: translationPkey(flags),
      pageSize: PAGE_SIZES[translationSizeCode(flags)] as PageSize,
    };
  }

  // ---- physical memory --------------------------------------------------------------------------

  allocatePhysical(length: number, options?: { persistent?: boolean; align?: number }): number {
    return this.memory.allocate(length, options);
  }

  readPhysical(physical: number, length: number): Uint8Array {
    return this.memory.read(physical, length);
  }

  writePhysical(physical: number, bytes: Uint8Array): void {
    this.memory.write(physical, bytes);
  }

  /** Power cycle: RAM (page tables included) and CPU state are lost; PMEM and the event counts are kept. */
  reboot(): void {
    this.memory.reboot();
    for (const cpu of this.cpus) cpu.reset();
    this.boot();
  }

  // ---- accesses ---------------------------------------------------------------------------------

  setMode(cpu: number, mode: Privilege): void {
    if (mode !== Privilege.User && mode !== Privilege.Supervisor)
      throw new RangeError(`mode ${String(mode)} must be Privilege.User or Privilege.Supervisor`);
    this.cpu(cpu).setCpl(mode === Privilege.User ? 3 : 0);
  }

  mode(cpu: number): Privilege {
    return this.cpu(cpu).cpl === 3 ? Privilege.User : Privilege.Supervisor;
  }

  access(cpu: number, virtual: number, kind: AccessKind): number {
    const c = this.cpus[cpu];
    if (c === undefined) throw new RangeError(`CPU ${String(cpu)} does not exist (the machine has ${this.cpuCount})`);
    return c.access(virtual, kind);
  }

  /** Check every page of the range first; return the first fault code, or the frames of the pages. */
  private checkPages(cpu: X86Cpu, start: number, length: number, kind: AccessKind): number | number[] {
    const frames: number[] = [];
    let at = start;
    const end = start + length;
    while (at < end) {
      const code = cpu.access(at, kind);
      if (code !== 0) return code;
      frames.push(cpu.cachedFrame(at));
      at = (Math.floor(at / PAGE_SIZE) + 1) * PAGE_SIZE;
    }
    return frames;
  }

  write(cpu: number, virtual: number, bytes: Uint8Array): number {
    const c = this.cpu(cpu);
    const start = toLinearAddress(virtual, 'virtual address');
    if (bytes.length === 0) return 0;
    const checked = this.checkPages(c, start, bytes.length, AccessKind.Write);
    if (typeof checked === 'number') return checked;
    let done = 0;
    for (const frame of checked) {
      const offset = (start + done) & (PAGE_SIZE - 1);
      const n = Math.min(PAGE_SIZE - offset, bytes.length - done);
      this.memory.write(frame + offset, bytes.subarray(done, done + n));
      done += n;
    }
    return 0;
  }

  read(cpu: number, virtual: number, length: number): Uint8Array | undefined {
    const c = this.cpu(cpu);
    const start = toLinearAddress(virtual, 'virtual address');
    if (!Number.isInteger(length) || length < 0)
      throw new RangeError(`length ${String(length)} must be a non-negative integer`);
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const checked = this.checkPages(c, start, length, AccessKind.Read);
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
    const record = this.cpu(cpu).faultRecord;
    if (record.code === 0) return undefined;
    const mode = record.user === 1 ? Privilege.User : Privilege.Supervisor;
    if ((record.code & FAULT_GP) !== 0) {
      return {
        cpu,
        address: record.address,
        access: record.kind,
        mode,
        cause: 'not-present',
        detail: { vector: '#GP', errorCode: 0, reason: 'non-canonical address' },
        summary: describeFault(FAULT_GP, record.address),
      };
    }
    const errorCode = record.code & 0xffff & ~CHECK_GUARD;
    const cause: FaultCause =
      (errorCode & PF.P) === 0
        ? 'not-present'
        : (errorCode & PF.RSVD) !== 0
          ? 'reserved'
          : (errorCode & PF.PK) !== 0
            ? 'domain'
            : (record.code & CHECK_GUARD) !== 0
              ? 'privilege-guard'
              : 'permission';
    return {
      cpu,
      address: record.address,
      access: record.kind,
      mode,
      cause,
      detail: { vector: '#PF', errorCode, cr2: record.address },
      summary: describeFault(record.code, record.address),
    };
  }
}
