/**
 * One logical processor: control registers, EFER, EFLAGS.AC, CPL, its own PKRU and IA32_PKRS, an MSR
 * file, CPUID leaf 7, XCR0 with XSAVE/XRSTOR of PKRU, and its instructions. Instructions validate
 * everything first and raise {@link X86Exception} before changing any register. The TLB, the page
 * walk and the access path are the machine kit's (X86Machine): the CPU tells its machine when a
 * register the walk or the check depends on changes, and reads its TLB through it.
 *
 * This class holds the state and dispatches; each family of instructions lives in its own file under
 * cpu/, as Bochs splits its CPU: control registers (cpu/control-registers.ts), MSRs (cpu/msr.ts),
 * XSAVE and PKRU (cpu/xsave.ts), CPUID (cpu/cpuid.ts). Accesses go to the machine (the host).
 */
import { MACHINE_EVENT_COUNT, type AccessKind, type EventCounters, type MachineEvent } from '@pkeysim/core';
import { invalidArgument, type Tlb } from '@pkeysim/machine-kit';
import { machineCheckTables } from './access-check';
import { cpuid, type CpuidResult } from './cpu/cpuid';
import { flushTlbAll, invlpg, modeWordOf, movToCr0, movToCr3, movToCr4, walkControlOf } from './cpu/control-registers';
import { invlpgEach } from './cpu/control-registers';
import { CpuRegisters, requireCpl0, ud, type CpuContext } from './cpu/core';
import { rdmsr, wrmsr, type RegisterPair } from './cpu/msr';
import { rdpkru, wrpkru, xrstor, xsave, xsetbv, type XsaveArea } from './cpu/xsave';
import { CR0, CR4, EFER, EFLAGS_AC, XCR0, type X86CpuFeatures } from './registers';

export { cr3Root } from './cpu/control-registers';
export type { CpuidResult } from './cpu/cpuid';
export type { RegisterPair } from './cpu/msr';
export type { XsaveArea } from './cpu/xsave';

/** What a CPU needs from its machine: the kit's TLB and access path, and a word when state changes. */
export interface X86CpuHost {
  readonly events: EventCounters;
  /** The CPU's TLB (the machine kit's): the same object for the machine's life (the CPU keeps it). */
  tlbOf(cpu: number): Tlb;
  /** CPL, CR0, CR4, EFER or EFLAGS.AC changed: recompute the mode and walk-control words. */
  cpuStateChanged(cpu: number): void;
  /** PKRU or IA32_PKRS was written: the access check reads the new value from now on (O(1), no flush). */
  rightsChanged(cpu: number): void;
  /** MOV to CR3: the CPU walks from `root` now (no flush: the CPU flushes itself). */
  loadRoot(cpu: number, root: number): void;
  /** A checked access through the CPU's TLB: 0 or a fault code. */
  access(cpu: number, address: number, kind: AccessKind): number;
  /** Checked accesses to each of `addresses`, each result written to `out`. */
  accessBatch(cpu: number, addresses: Float64Array, kind: AccessKind, out: Int32Array | Uint32Array): number;
  /** The physical frame the CPU's TLB caches for `address`, or -1. */
  cachedFrame(cpu: number, address: number): number;
}

/** What an {@link X86Cpu} is built from: its index, CPUID features, paging mode and its machine. */
export interface X86CpuOptions {
  readonly index: number;
  readonly features: X86CpuFeatures;
  readonly pagingLevels: 4 | 5;
  readonly maxPhysAddr: number;
  readonly host: X86CpuHost;
}

/** One logical processor: control registers, EFER, EFLAGS.AC, CPL, PKRU, IA32_PKRS, MSRs, CPUID and its instructions. */
export class X86Cpu {
  readonly index: number;
  readonly features: X86CpuFeatures;

  // Derived state used by the machine's access path.
  /** The mode word of translation-flags.ts. */
  modeWord = 0;
  /** The machine's check table for `modeWord` (access-check.ts machineCheckTables). */
  checkTable: Int32Array = machineCheckTables.tableFor(0);
  /** The walk-control word (codec.ts): reserved high-word bits, CONTROL_PGE. */
  walkControl = 0;

  /** Architectural state (reset() gives the boot values). */
  private readonly regs = new CpuRegisters();
  /** What the instruction families of cpu/ work with. */
  private readonly context: CpuContext;
  private readonly host: X86CpuHost;
  private readonly pagingLevels: 4 | 5;

  constructor(options: X86CpuOptions) {
    this.index = options.index;
    this.features = Object.freeze({ ...options.features });
    this.host = options.host;
    this.pagingLevels = options.pagingLevels;
    const { host, index } = options;
    const counts = host.events.counts;
    const eventBase = index * MACHINE_EVENT_COUNT;
    this.context = {
      regs: this.regs,
      features: this.features,
      maxPhysAddr: options.maxPhysAddr,
      tlb: host.tlbOf(index),
      stateChanged: () => this.updateDerived(),
      rightsChanged: () => host.rightsChanged(index),
      loadRoot: (root) => host.loadRoot(index, root),
      count: (event: MachineEvent) => {
        counts[eventBase + event] += 1;
      },
    };
    this.reset();
  }

  /** The CPU's TLB (the machine kit's Tlb). */
  get tlb(): Tlb {
    return this.context.tlb;
  }

  /**
   * The state the model boots into: 64-bit mode at CPL 0 with paging on (CR0.PG|PE|WP, CR4.PAE|PGE,
   * CR4.LA57 for 5-level machines, EFER.LME|LMA|NXE), XSAVE enabled with XCR0 = x87|SSE|PKRU (PKRU
   * only if enumerated), and the protection-key features OFF with PKRU = PKRS = 0, their reset
   * values (SDM vol. 3, 9.1.1): the kernel enables them. CR3 = 0 until an address space is activated.
   */
  reset(): void {
    if (this.pagingLevels === 5 && !this.features.la57)
      throw invalidArgument('5-level paging needs a CPU that enumerates LA57');
    const regs = this.regs;
    regs.cr0 = CR0.PE | CR0.MP | CR0.ET | CR0.NE | CR0.WP | CR0.PG;
    regs.cr4 = CR4.PAE | CR4.PGE | CR4.OSFXSR | CR4.OSXMMEXCPT | CR4.OSXSAVE | (this.pagingLevels === 5 ? CR4.LA57 : 0);
    regs.efer = EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE;
    regs.xcr0 = XCR0.X87 | XCR0.SSE | (this.features.pku ? XCR0.PKRU : 0);
    regs.cr3 = 0;
    this.host.loadRoot(this.index, 0);
    regs.cpl = 0;
    regs.eflagsAc = 0;
    regs.pkru = 0;
    regs.pkrs = 0;
    regs.cr2 = 0;
    this.tlb.flushAll();
    this.updateDerived();
  }

  private updateDerived(): void {
    this.modeWord = modeWordOf(this.regs);
    this.checkTable = machineCheckTables.tableFor(this.modeWord);
    this.walkControl = walkControlOf(this.regs, this.context.maxPhysAddr);
    this.host.cpuStateChanged(this.index);
  }

  // ---- register views -------------------------------------------------------------------------

  get cr0(): number {
    return this.regs.cr0 >>> 0;
  }
  get cr2(): number {
    return this.regs.cr2;
  }
  get cr3(): number {
    return this.regs.cr3;
  }
  get cr4(): number {
    return this.regs.cr4 >>> 0;
  }
  get efer(): number {
    return this.regs.efer >>> 0;
  }
  get xcr0(): number {
    return this.regs.xcr0 >>> 0;
  }
  get cpl(): 0 | 3 {
    return this.regs.cpl;
  }
  get eflagsAc(): boolean {
    return this.regs.eflagsAc !== 0;
  }
  /** The live PKRU (a debugger's view; software uses RDPKRU). */
  get pkru(): number {
    return this.regs.pkru >>> 0;
  }
  /** The live IA32_PKRS (a debugger's view; software uses RDMSR). */
  get pkrs(): number {
    return this.regs.pkrs >>> 0;
  }
  /** PKRU as int32 (what the machine's access check reads). */
  get pkruValue(): number {
    return this.regs.pkru;
  }
  /** IA32_PKRS as int32 (what the machine's access check reads). */
  get pkrsValue(): number {
    return this.regs.pkrs;
  }
  get pagingLevelsActive(): 4 | 5 {
    return (this.regs.cr4 & CR4.LA57) !== 0 ? 5 : 4;
  }

  /** The privilege level of the code running: changed by the kernel model on entry and exit. */
  setCpl(cpl: 0 | 3): void {
    if (cpl !== 0 && cpl !== 3)
      throw invalidArgument(`CPL ${String(cpl)} must be 0 or 3 (rings 1 and 2 are not modelled)`);
    this.regs.cpl = cpl;
    this.updateDerived();
  }

  /** EFLAGS.AC as POPF at CPL 0 sets it. */
  setEflagsAc(ac: boolean): void {
    this.regs.eflagsAc = ac ? EFLAGS_AC : 0;
    this.updateDerived();
  }

  /** STAC/CLAC: #UD without SMAP enumerated (always enumerated here) or at CPL 3 (SDM vol. 2, STAC). */
  stac(): void {
    if (this.regs.cpl !== 0) throw ud('STAC at CPL 3');
    this.setEflagsAc(true);
  }

  /** CLAC: clear EFLAGS.AC; #UD at CPL 3 (SDM vol. 2, CLAC). */
  clac(): void {
    if (this.regs.cpl !== 0) throw ud('CLAC at CPL 3');
    this.setEflagsAc(false);
  }

  /**
   * Run `operation` as kernel code (CPL 0) and return to the current CPL, even when it throws: the
   * path for the kernel model, which calls privileged instructions while its CPU may be at CPL 3.
   */
  asKernel<T>(operation: (cpu: this) => T): T {
    const cpl = this.regs.cpl;
    if (cpl === 0) return operation(this);
    this.setCpl(0);
    try {
      return operation(this);
    } finally {
      this.setCpl(cpl);
    }
  }

  // ---- instructions (each family in cpu/) -----------------------------------------------------

  /** CPUID leaves 0, 1 and 7.0 as configured; any other leaf reads zeros (cpu/cpuid.ts). */
  cpuid(leaf: number, subleaf = 0): CpuidResult {
    return cpuid(this.context, leaf, subleaf);
  }

  /** MOV to CR4 (cpu/control-registers.ts). */
  movToCr4(value: number): void {
    movToCr4(this.context, value);
  }

  /** MOV to CR0 (cpu/control-registers.ts). */
  movToCr0(value: number): void {
    movToCr0(this.context, value);
  }

  /** MOV to CR3: flushes non-global entries (cpu/control-registers.ts). */
  movToCr3(value: number): void {
    movToCr3(this.context, value);
  }

  /** INVLPG (CPL 0): invalidate the page's translations of every size (cpu/control-registers.ts). */
  invlpg(address: number): void {
    invlpg(this.context, address);
  }

  /** INVLPG of each of `addresses[0..count)` (CPL 0): a kernel's page-by-page flush loop (cpu/control-registers.ts). */
  invlpgEach(addresses: ArrayLike<number>, count: number): void {
    invlpgEach(this.context, addresses, count);
  }

  /** Invalidate every TLB entry, global ones too (what a CR4.PGE toggle does). */
  flushTlbAll(): void {
    flushTlbAll(this.context);
  }

  /** RDMSR: #GP at CPL 3 or for an unimplemented MSR (cpu/msr.ts). */
  rdmsr(ecx: number): RegisterPair {
    requireCpl0(this.regs, 'RDMSR');
    return rdmsr(this.context, ecx);
  }

  /** WRMSR: #GP at CPL 3, for an unimplemented MSR or a reserved value (cpu/msr.ts). */
  wrmsr(ecx: number, eax: number, edx: number): void {
    requireCpl0(this.regs, 'WRMSR');
    wrmsr(this.context, ecx, eax, edx);
  }

  /** WRPKRU: #UD when CR4.PKE=0, #GP(0) when ECX or EDX != 0; any CPL, no flush (cpu/xsave.ts). */
  wrpkru(eax: number, ecx = 0, edx = 0): void {
    wrpkru(this.context, eax, ecx, edx);
  }

  /** RDPKRU: #UD when CR4.PKE=0, #GP(0) when ECX != 0 (cpu/xsave.ts). */
  rdpkru(ecx = 0): RegisterPair {
    return rdpkru(this.context, ecx);
  }

  /** XSETBV (cpu/xsave.ts). */
  xsetbv(ecx: number, eax: number, edx: number): void {
    xsetbv(this.context, ecx, eax, edx);
  }

  /** XSAVE of the components in XCR0 & `mask` (cpu/xsave.ts). */
  xsave(mask = 0xffffffff): XsaveArea {
    return xsave(this.context, mask);
  }

  /** XRSTOR of the components in XCR0 & `mask` (cpu/xsave.ts). */
  xrstor(area: XsaveArea, mask = 0xffffffff): void {
    xrstor(this.context, area, mask);
  }

  // ---- accesses (the machine's access path) ---------------------------------------------------

  /**
   * One checked access through the TLB (the machine's access path): 0 when allowed, else FAULT_PF |
   * error code (CR2 set) or FAULT_GP for a non-canonical address.
   */
  access(address: number, kind: AccessKind): number {
    return this.host.access(this.index, address, kind);
  }

  /** Check every address in `addresses` (same kind); `out[i]` gets each result. Returns the number of faults. */
  accessBatch(addresses: Float64Array, kind: AccessKind, out: Int32Array | Uint32Array): number {
    return this.host.accessBatch(this.index, addresses, kind, out);
  }

  /** A #PF was raised: CR2 = the faulting linear address (SDM 4.7). Called by the machine. */
  pageFaultAt(address: number): void {
    this.regs.cr2 = address;
  }

  /** The physical frame cached for `address`, or -1 (valid right after an allowed access to it). */
  cachedFrame(address: number): number {
    return this.host.cachedFrame(this.index, address);
  }
}
