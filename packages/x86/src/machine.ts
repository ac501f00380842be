/**
 * The x86 machine behind the core {@link Machine} contract, built on @pkeysim/machine-kit: the kit's
 * sparse physical memory, radix page-table engine (driven by the x86 codec), per-CPU TLBs and access
 * path, with x86's CPUs (registers and instructions), the per-mode check table of SDM 4.6, #GP for
 * non-canonical addresses and the PKU/PKS domain spaces.
 */
import {
  DomainError,
  type AccessKind,
  Privilege,
  type DomainSpace,
  type FaultCause,
  type MachineConfig,
} from '@pkeysim/core';
import {
  invalidArgument,
  KitMachine,
  TF_ARCH_SHIFT,
  type FaultReport,
  type KitFaultRecord,
} from '@pkeysim/machine-kit';
import { accessErrorBits, CHECK_GUARD } from './access-check';
import { x86Descriptors } from './codec';
import { X86Cpu, type X86CpuHost } from './cpu';
import { X86PksSpace, X86PkuSpace } from './domain-spaces';
import { reservedHighMask } from './entry';
import { describeFault, FAULT_GP, FAULT_PF, PF } from './exception';
import { X86PageTables } from './page-tables';
import type { X86CpuFeatures } from './registers';

/** How to build an {@link X86Machine}: CPUs, paging levels, MAXPHYADDR, CPUID features, memory and TLB sizes. */
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

function checkOptions(options: X86MachineOptions): { levels: 4 | 5; maxPhysAddr: number; features: X86CpuFeatures } {
  if (typeof options !== 'object' || options === null)
    throw new DomainError('invalid', 'x86 options must be an object');
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
  for (const [name, value] of Object.entries(features)) {
    if (typeof value !== 'boolean') throw new DomainError('invalid', `features.${name} must be true or false`);
  }
  if (levels === 5 && !features.la57) throw new DomainError('invalid', '5-level paging needs features.la57');
  return { levels, maxPhysAddr, features };
}

/** The x86 machine behind the core Machine contract, built on the machine kit, with PKU and PKS domain spaces. */
export class X86Machine extends KitMachine {
  readonly pagingLevels: 4 | 5;
  readonly maxPhysAddr: number;
  readonly features: X86CpuFeatures;
  /** The machine's page tables under their x86 names (the kit's engine). */
  readonly pageTables: X86PageTables;
  private readonly cpus: X86Cpu[];
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
    const { levels, maxPhysAddr, features } = checkOptions(options);
    super({
      arch: 'x86',
      cpus: options.cpus,
      codec: x86Descriptors(levels),
      ramBytes: options.ramBytes,
      persistentBytes: options.persistentBytes,
      maxPhysAddr,
      tlbEntries: options.tlbEntries,
      flushCeiling: TLB_SINGLE_PAGE_FLUSH_CEILING,
      layout: 'shared-upper', // one PML4/PML5 per CR3, the kernel half shared (Linux pgd_alloc)
      faultInvalidates: true, // a #PF invalidates the faulting page's entries (SDM 4.10.4.1)
      internalFaultBits: CHECK_GUARD,
      // The check of SDM 4.6 from the CPU's mode table (access-check.ts machineCheckTables): indexed
      // by TF_X86_USER/WRITE/EXEC, the kind and the key's AD/WD bits in the register the PAGE's
      // mode selects (PKRS for supervisor pages, PKRU for user pages: SDM 4.6.2).
      tableCheck: { indexShift: TF_ARCH_SHIFT, indexBits: 3, rightsBits: 2 },
    });
    this.pagingLevels = levels;
    this.maxPhysAddr = maxPhysAddr;
    this.features = Object.freeze(features);
    this.pageTables = new X86PageTables(this.pageTable);
    const host: X86CpuHost = {
      events: this.events,
      tlbOf: (cpu) => this.tlbs[cpu],
      cpuStateChanged: (cpu) => this.cpuStateChanged(cpu),
      rightsChanged: (cpu) => this.rightsChanged(cpu),
      loadRoot: (cpu, root) => this.loadRoot(cpu, root),
      access: (cpu, address, kind) => this.access(cpu, address, kind),
      accessBatch: (cpu, addresses, kind, out) => this.accessBatch(cpu, addresses, kind, out),
      cachedFrame: (cpu, address) => this.cachedFrame(cpu, address),
    };
    this.cpus = [];
    for (let index = 0; index < this.cpuCount; index++) {
      this.cpus.push(new X86Cpu({ index, features, pagingLevels: levels, maxPhysAddr, host }));
      this.cpuStateChanged(index);
    }
    this.pks = new X86PksSpace(this);
    this.pku = new X86PkuSpace(this);
    this.boot();
    // Building the machine is not part of any run: count from zero. A reboot keeps the counts, so
    // a campaign that reboots to check persistence keeps its accesses and cycles.
    this.events.reset();
  }

  /** Address space 0 (the kernel's initial one) is active on every CPU, loaded with MOV to CR3. */
  private boot(): void {
    for (let cpu = 0; cpu < this.cpuCount; cpu++) this.activate(cpu, 0);
  }

  /** The X86Cpu with its registers and instructions. */
  cpu(index: number): X86Cpu {
    const cpu = this.cpus[index];
    if (cpu === undefined)
      throw invalidArgument(`CPU ${String(index)} does not exist (the machine has ${this.cpuCount})`);
    return cpu;
  }

  /** PKS governs supervisor pages, PKU user pages. */
  domainSpace(governs: Privilege): DomainSpace | undefined {
    return governs === Privilege.Supervisor ? this.pks : governs === Privilege.User ? this.pku : undefined;
  }

  // ---- the kit's hooks --------------------------------------------------------------------------

  private cpuStateChanged(cpu: number): void {
    const c = this.cpus?.[cpu];
    if (c === undefined) return; // the CPU's first reset, before the machine lists it
    this.modes[cpu] = c.cpl === 3 ? Privilege.User : Privilege.Supervisor;
    this.walkControl[cpu] = c.walkControl;
    this.setCheckTable(cpu, c.checkTable);
    this.rightsChanged(cpu);
  }

  private rightsChanged(cpu: number): void {
    const c = this.cpus?.[cpu];
    if (c === undefined) return;
    // IA32_PKRS governs supervisor pages, PKRU user pages (SDM 4.6.2).
    this.setRights(cpu, c.pkrsValue, c.pkruValue);
  }

  /** MOV to CR3 on the CPU (as kernel code): non-global translations are flushed (SDM 4.10.4.1). */
  protected override switchRoot(cpu: number, root: number): void {
    this.cpu(cpu).asKernel((c) => c.movToCr3(root));
  }

  /** Not present: P=0 in the error code, the access bits set (SDM 4.7). */
  protected override translationFaultCode(cpu: number, kind: AccessKind): number {
    return FAULT_PF | accessErrorBits(kind, this.cpus[cpu].modeWord);
  }

  /** A reserved bit: P=1 and RSVD=1, never PK (SDM 4.7). */
  protected override reservedFaultCode(cpu: number, kind: AccessKind): number {
    return FAULT_PF | accessErrorBits(kind, this.cpus[cpu].modeWord) | PF.P | PF.RSVD;
  }

  /** A non-canonical address raises #GP(0), not #PF (SDM 3.3.7.1). */
  protected override outOfRangeFaultCode(): number {
    return FAULT_GP;
  }

  /** Software's translate: XD is a permission, not a reserved bit (as with EFER.NXE=1). */
  protected override translationControl(): number {
    return reservedHighMask(this.maxPhysAddr, true);
  }

  protected override faultRecorded(cpu: number, code: number, address: number): void {
    if ((code & FAULT_PF) !== 0) this.cpus[cpu].pageFaultAt(address);
  }

  protected resetArchitecture(): void {
    for (const cpu of this.cpus) cpu.reset();
  }

  protected describeFault(record: KitFaultRecord): FaultReport {
    if ((record.code & FAULT_GP) !== 0) {
      return {
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
      cause,
      detail: { vector: '#PF', errorCode, cr2: record.address },
      summary: describeFault(FAULT_PF | errorCode, record.address),
    };
  }

  // ---- CPU state --------------------------------------------------------------------------------

  /** Power cycle: RAM (page tables included) and CPU state are lost; PMEM keeps its contents. */
  override reboot(): void {
    super.reboot();
    this.boot();
  }

  /** Set the CPU's CPL: 3 for user mode, 0 for supervisor. */
  override setMode(cpu: number, mode: Privilege): void {
    this.checkCpu(cpu);
    if (mode !== Privilege.User && mode !== Privilege.Supervisor)
      throw invalidArgument(`mode ${String(mode)} must be Privilege.User or Privilege.Supervisor`);
    this.cpus[cpu].setCpl(mode === Privilege.User ? 3 : 0);
  }
}
