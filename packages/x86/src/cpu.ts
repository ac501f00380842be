/**
 * One logical processor: control registers, EFER, EFLAGS.AC, CPL, its own PKRU and IA32_PKRS, an MSR
 * file, CPUID leaf 7, XCR0 with XSAVE/XRSTOR of PKRU, and its instructions. Instructions validate
 * everything first and raise {@link X86Exception} before changing any register. The TLB, the page
 * walk and the access path are the machine kit's (X86Machine): the CPU tells its machine when a
 * register the walk or the check depends on changes, and reads its TLB through it.
 */
import { MACHINE_EVENT_COUNT, MachineEvent, type AccessKind, type EventCounters } from '@pkeysim/core';
import { invalidArgument, type Tlb } from '@pkeysim/machine-kit';
import { PAGE_SIZE, TWO_32 } from './address';
import { machineCheckTables } from './access-check';
import { CONTROL_PGE } from './codec';
import { reservedHighMask } from './entry';
import { X86Exception } from './exception';
import {
  CPUID1_ECX,
  CPUID7_EBX,
  CPUID7_ECX,
  CR0,
  CR0_DEFINED,
  CR4,
  CR4_ALWAYS_DEFINED,
  EFER,
  EFER_DEFINED,
  EFLAGS_AC,
  MSR,
  XCR0,
  type X86CpuFeatures,
} from './registers';
import { M_AC, M_NXE, M_PKE, M_PKS, M_SMAP, M_SMEP, M_USER, M_WP } from './translation-flags';

/** Physical address of the root table in CR3 (bits 51:12; the low 12 bits are PCID or PWT/PCD). */
export function cr3Root(cr3: number): number {
  return cr3 - (cr3 % PAGE_SIZE);
}

/** Registers as a pair of 32-bit halves (RDMSR/RDPKRU/CPUID results). */
export interface RegisterPair {
  readonly eax: number;
  readonly edx: number;
}

/** The four registers a CPUID leaf returns. */
export interface CpuidResult {
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

/** The XSAVE area as far as the model keeps it: the header's XSTATE_BV and component 9 (PKRU). */
export interface XsaveArea {
  readonly xstateBv: number;
  readonly pkru: number;
}

/** What a CPU needs from its machine: the kit's TLB and access path, and a word when state changes. */
export interface X86CpuHost {
  readonly events: EventCounters;
  /** The CPU's TLB (the machine kit's). */
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

function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw invalidArgument(`${what} ${String(value)} must be an unsigned 32-bit integer`);
  }
  return value;
}

const gp = (message: string): X86Exception => new X86Exception('#GP', 0, message);
const ud = (message: string): X86Exception => new X86Exception('#UD', 0, message);

/** One logical processor: control registers, EFER, EFLAGS.AC, CPL, PKRU, IA32_PKRS, MSRs, CPUID and its instructions. */
export class X86Cpu {
  readonly index: number;
  readonly features: X86CpuFeatures;

  // Architectural state (reset() gives the boot values).
  private cr0Value = 0;
  private cr3Value = 0;
  private cr4Value = 0;
  private eferValue = 0;
  private xcr0Value = 0;
  private cplValue: 0 | 3 = 0;
  private eflagsAcValue = 0;
  private cr2Value = 0;
  /** PKRU and IA32_PKRS as int32 (the machine keeps a copy its access check reads at every access). */
  pkruValue = 0;
  pkrsValue = 0;

  // Derived state used by the machine's access path.
  /** The mode word of translation-flags.ts. */
  modeWord = 0;
  /** The machine's check table for `modeWord` (access-check.ts machineCheckTables). */
  checkTable: Int32Array = machineCheckTables.tableFor(0);
  /** The walk-control word (codec.ts): reserved high-word bits, CONTROL_PGE. */
  walkControl = 0;

  private readonly host: X86CpuHost;
  private readonly counts: Float64Array;
  private readonly eventBase: number;
  private readonly maxPhysAddr: number;
  private readonly pagingLevels: 4 | 5;

  constructor(options: X86CpuOptions) {
    this.index = options.index;
    this.features = Object.freeze({ ...options.features });
    this.host = options.host;
    this.maxPhysAddr = options.maxPhysAddr;
    this.pagingLevels = options.pagingLevels;
    this.counts = options.host.events.counts;
    this.eventBase = options.index * MACHINE_EVENT_COUNT;
    this.reset();
  }

  /** The CPU's TLB (the machine kit's Tlb). */
  get tlb(): Tlb {
    return this.host.tlbOf(this.index);
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
    this.cr0Value = CR0.PE | CR0.MP | CR0.ET | CR0.NE | CR0.WP | CR0.PG;
    this.cr4Value =
      CR4.PAE | CR4.PGE | CR4.OSFXSR | CR4.OSXMMEXCPT | CR4.OSXSAVE | (this.pagingLevels === 5 ? CR4.LA57 : 0);
    this.eferValue = EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE;
    this.xcr0Value = XCR0.X87 | XCR0.SSE | (this.features.pku ? XCR0.PKRU : 0);
    this.cr3Value = 0;
    this.host.loadRoot(this.index, 0);
    this.cplValue = 0;
    this.eflagsAcValue = 0;
    this.pkruValue = 0;
    this.pkrsValue = 0;
    this.cr2Value = 0;
    this.tlb.flushAll();
    this.updateDerived();
  }

  private updateDerived(): void {
    const cr4 = this.cr4Value;
    this.modeWord =
      (this.cplValue === 3 ? M_USER : 0) |
      ((this.cr0Value & CR0.WP) !== 0 ? M_WP : 0) |
      ((cr4 & CR4.PKE) !== 0 ? M_PKE : 0) |
      ((cr4 & CR4.PKS) !== 0 ? M_PKS : 0) |
      ((cr4 & CR4.SMEP) !== 0 ? M_SMEP : 0) |
      ((cr4 & CR4.SMAP) !== 0 ? M_SMAP : 0) |
      (this.eflagsAcValue !== 0 ? M_AC : 0) |
      ((this.eferValue & EFER.NXE) !== 0 ? M_NXE : 0);
    this.checkTable = machineCheckTables.tableFor(this.modeWord);
    this.walkControl =
      reservedHighMask(this.maxPhysAddr, (this.eferValue & EFER.NXE) !== 0) | ((cr4 & CR4.PGE) !== 0 ? CONTROL_PGE : 0);
    this.host.cpuStateChanged(this.index);
  }

  private count(event: MachineEvent, n = 1): void {
    this.counts[this.eventBase + event] += n;
  }

  private requireCpl0(what: string): void {
    if (this.cplValue !== 0) throw gp(`${what} at CPL 3`);
  }

  // ---- register views -------------------------------------------------------------------------

  get cr0(): number {
    return this.cr0Value >>> 0;
  }
  get cr2(): number {
    return this.cr2Value;
  }
  get cr3(): number {
    return this.cr3Value;
  }
  get cr4(): number {
    return this.cr4Value >>> 0;
  }
  get efer(): number {
    return this.eferValue >>> 0;
  }
  get xcr0(): number {
    return this.xcr0Value >>> 0;
  }
  get cpl(): 0 | 3 {
    return this.cplValue;
  }
  get eflagsAc(): boolean {
    return this.eflagsAcValue !== 0;
  }
  /** The live PKRU (a debugger's view; software uses RDPKRU). */
  get pkru(): number {
    return this.pkruValue >>> 0;
  }
  /** The live IA32_PKRS (a debugger's view; software uses RDMSR). */
  get pkrs(): number {
    return this.pkrsValue >>> 0;
  }
  get pagingLevelsActive(): 4 | 5 {
    return (this.cr4Value & CR4.LA57) !== 0 ? 5 : 4;
  }

  /** The privilege level of the code running: changed by the kernel model on entry and exit. */
  setCpl(cpl: 0 | 3): void {
    if (cpl !== 0 && cpl !== 3)
      throw invalidArgument(`CPL ${String(cpl)} must be 0 or 3 (rings 1 and 2 are not modelled)`);
    this.cplValue = cpl;
    this.updateDerived();
  }

  /** EFLAGS.AC as POPF at CPL 0 sets it. */
  setEflagsAc(ac: boolean): void {
    this.eflagsAcValue = ac ? EFLAGS_AC : 0;
    this.updateDerived();
  }

  /** STAC/CLAC: #UD without SMAP enumerated (always enumerated here) or at CPL 3 (SDM vol. 2, STAC). */
  stac(): void {
    if (this.cplValue !== 0) throw ud('STAC at CPL 3');
    this.setEflagsAc(true);
  }

  /** CLAC: clear EFLAGS.AC; #UD at CPL 3 (SDM vol. 2, CLAC). */
  clac(): void {
    if (this.cplValue !== 0) throw ud('CLAC at CPL 3');
    this.setEflagsAc(false);
  }

  // ---- CPUID ----------------------------------------------------------------------------------

  /** CPUID leaves 0, 1 and 7.0 as configured; any other leaf reads zeros. */
  cpuid(leaf: number, subleaf = 0): CpuidResult {
    const f = this.features;
    if (leaf === 0) return { eax: 7, ebx: 0x756e6547, ecx: 0x6c65746e, edx: 0x49656e69 }; // "GenuineIntel"
    if (leaf === 1) {
      return {
        eax: 0,
        ebx: 0,
        ecx: CPUID1_ECX.XSAVE | ((this.cr4Value & CR4.OSXSAVE) !== 0 ? CPUID1_ECX.OSXSAVE : 0),
        edx: 0,
      };
    }
    if (leaf === 7 && subleaf === 0) {
      const ecx =
        (f.pku ? CPUID7_ECX.PKU : 0) |
        // OSPKE reads as CR4.PKE (SDM vol. 2, CPUID leaf 7).
        ((this.cr4Value & CR4.PKE) !== 0 ? CPUID7_ECX.OSPKE : 0) |
        (f.la57 ? CPUID7_ECX.LA57 : 0) |
        (f.pks ? CPUID7_ECX.PKS : 0);
      return { eax: 0, ebx: CPUID7_EBX.SMEP | CPUID7_EBX.SMAP, ecx: ecx >>> 0, edx: 0 };
    }
    return { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  }

  // ---- control registers ----------------------------------------------------------------------

  /** CR4 bits this CPU implements: the rest are reserved and setting them is #GP (SDM 2.5). */
  private cr4Defined(): number {
    const f = this.features;
    return CR4_ALWAYS_DEFINED | (f.pku ? CR4.PKE : 0) | (f.pks ? CR4.PKS : 0) | (f.la57 ? CR4.LA57 : 0);
  }

  /**
   * MOV to CR4 (SDM vol. 2, MOV-Move to/from Control Registers; vol. 3, 2.5, 4.10.4.1): #GP at CPL 3;
   * #GP for a reserved bit, which includes PKE/PKS/LA57 the CPU does not enumerate (QEMU hangs
   * instead; the model follows the SDM); #GP for changing LA57 or clearing PAE in IA-32e mode, or
   * setting PCIDE with CR3[11:0] != 0. Toggling PGE, or changing PCIDE, flushes the whole TLB.
   */
  movToCr4(value: number): void {
    this.requireCpl0('MOV to CR4');
    if (!Number.isInteger(value) || value < 0 || value >= TWO_32 || (value & ~this.cr4Defined()) !== 0) {
      throw gp(`MOV to CR4 sets reserved bits (value ${String(value)})`);
    }
    const old = this.cr4Value;
    const changed = old ^ value;
    const longMode = (this.eferValue & EFER.LMA) !== 0;
    if (longMode && (changed & CR4.LA57) !== 0) throw gp('MOV to CR4 changes LA57 in IA-32e mode');
    if (longMode && (value & CR4.PAE) === 0) throw gp('MOV to CR4 clears PAE in IA-32e mode');
    if ((changed & value & CR4.PCIDE) !== 0 && (this.cr3Value & 0xfff) !== 0)
      throw gp('MOV to CR4 sets PCIDE with CR3[11:0] != 0');
    this.cr4Value = value | 0;
    this.updateDerived();
    if ((changed & (CR4.PGE | CR4.PCIDE | CR4.LA57)) !== 0) this.flushTlbAll();
  }

  /**
   * MOV to CR0: #GP at CPL 3, for reserved bits, and for clearing PG or PE in IA-32e mode (the model
   * stays in 64-bit mode) or setting NW without CD (SDM vol. 2, MOV CR). CR0.WP changes flush nothing:
   * the TLB caches no rights.
   */
  movToCr0(value: number): void {
    this.requireCpl0('MOV to CR0');
    if (!Number.isInteger(value) || value < 0 || value >= TWO_32 || (value & ~CR0_DEFINED) !== 0) {
      throw gp(`MOV to CR0 sets reserved bits (value ${String(value)})`);
    }
    if ((value & (CR0.PG | CR0.PE)) !== (CR0.PG | CR0.PE)) throw gp('MOV to CR0 clears PG or PE in IA-32e mode');
    if ((value & CR0.NW) !== 0 && (value & CR0.CD) === 0) throw gp('MOV to CR0 sets NW without CD');
    this.cr0Value = value | 0;
    this.updateDerived();
  }

  /** MOV to CR3: #GP at CPL 3 or for bits at or above MAXPHYADDR; flushes non-global entries (SDM 4.10.4.1). */
  movToCr3(value: number): void {
    this.requireCpl0('MOV to CR3');
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** this.maxPhysAddr) {
      throw gp(`MOV to CR3 with bits at or above MAXPHYADDR ${this.maxPhysAddr} (value ${String(value)})`);
    }
    this.cr3Value = value;
    this.host.loadRoot(this.index, cr3Root(value));
    this.flushTlbNonGlobal();
  }

  /** INVLPG (CPL 0): invalidate the page's translations of every size (SDM 4.10.4.1). */
  invlpg(address: number): void {
    if (typeof address !== 'number' || !Number.isInteger(address) || Math.abs(address) >= 2 ** 53)
      throw invalidArgument(`INVLPG address ${String(address)} must be an integer with |address| < 2^53`);
    this.requireCpl0('INVLPG');
    this.count(MachineEvent.TlbFlushPage);
    this.tlb.invalidatePage(Math.floor(address / PAGE_SIZE));
  }

  private flushTlbNonGlobal(): void {
    this.count(MachineEvent.TlbFlushAll);
    this.tlb.flushNonGlobal();
  }

  /** Invalidate every TLB entry, global ones too (what a CR4.PGE toggle does). */
  flushTlbAll(): void {
    this.count(MachineEvent.TlbFlushAll);
    this.tlb.flushAll();
  }

  // ---- MSRs -----------------------------------------------------------------------------------

  /** Whether this CPU implements MSR `ecx`: EFER always, IA32_PKRS only with CPUID PKS. */
  private msrImplemented(ecx: number): boolean {
    return ecx === MSR.IA32_EFER || (ecx === MSR.IA32_PKRS && this.features.pks);
  }

  /**
   * RDMSR (SDM vol. 2): #GP at CPL 3 and for an MSR the CPU does not implement, which includes
   * IA32_PKRS without CPUID PKS (QEMU ignores both; the model follows the SDM). CR4.PKS and
   * CR4.PKE make no difference to reading IA32_PKRS.
   */
  rdmsr(ecx: number): RegisterPair {
    this.requireCpl0('RDMSR');
    if (!this.msrImplemented(ecx)) throw gp(`RDMSR of unimplemented MSR 0x${Number(ecx).toString(16)}`);
    if (ecx === MSR.IA32_PKRS) {
      this.count(MachineEvent.RightsRead);
      return { eax: this.pkrsValue >>> 0, edx: 0 };
    }
    return { eax: this.eferValue >>> 0, edx: 0 };
  }

  /**
   * WRMSR (SDM vol. 2): #GP at CPL 3, for an unimplemented MSR, for IA32_PKRS with any of bits
   * 63:32 set (EDX != 0, SDM 2.1 table 2-2), and for reserved EFER bits or an LME change while paging.
   * Writing IA32_PKRS flushes nothing (SDM 4.10.2.2).
   */
  wrmsr(ecx: number, eax: number, edx: number): void {
    this.requireCpl0('WRMSR');
    this.wrmsrChecked(ecx, eax, edx);
  }

  /**
   * Run `operation` as kernel code (CPL 0) and return to the current CPL, even when it throws: the
   * path for the kernel model, which calls privileged instructions while its CPU may be at CPL 3.
   */
  asKernel<T>(operation: (cpu: this) => T): T {
    const cpl = this.cplValue;
    if (cpl === 0) return operation(this);
    this.setCpl(0);
    try {
      return operation(this);
    } finally {
      this.setCpl(cpl);
    }
  }

  private wrmsrChecked(ecx: number, eax: number, edx: number): void {
    u32(eax, 'EAX');
    u32(edx, 'EDX');
    if (!this.msrImplemented(ecx)) throw gp(`WRMSR to unimplemented MSR 0x${Number(ecx).toString(16)}`);
    if (ecx === MSR.IA32_PKRS) {
      if (edx !== 0) throw gp('WRMSR IA32_PKRS with bits 63:32 set');
      this.pkrsValue = eax | 0;
      this.host.rightsChanged(this.index);
      this.count(MachineEvent.RightsWrite);
      return;
    }
    // IA32_EFER: reserved bits #GP; LME cannot change while paging is on; LMA is read-only.
    if (edx !== 0 || (eax & ~EFER_DEFINED) !== 0) throw gp('WRMSR IA32_EFER sets reserved bits');
    if (((eax ^ this.eferValue) & EFER.LME) !== 0) throw gp('WRMSR IA32_EFER changes LME with paging on');
    const next = (eax & ~EFER.LMA) | (this.eferValue & EFER.LMA);
    const nxeChanged = ((next ^ this.eferValue) & EFER.NXE) !== 0;
    this.eferValue = next;
    this.updateDerived();
    // XD turns from a reserved bit into a permission with NXE: no cached entry may straddle that.
    if (nxeChanged) this.flushTlbAll();
  }

  // ---- PKRU -----------------------------------------------------------------------------------

  /**
   * WRPKRU (SDM vol. 2, WRPKRU): #UD when CR4.PKE=0, checked first; then #GP(0) when ECX != 0 or
   * EDX != 0. Works at any CPL. No TLB invalidation (SDM 4.10.2.2).
   */
  wrpkru(eax: number, ecx = 0, edx = 0): void {
    if ((this.cr4Value & CR4.PKE) === 0) throw ud('WRPKRU with CR4.PKE=0');
    u32(eax, 'EAX');
    if (ecx !== 0 || edx !== 0) throw gp('WRPKRU with ECX or EDX nonzero');
    this.pkruValue = eax | 0;
    this.host.rightsChanged(this.index);
    this.count(MachineEvent.RightsWrite);
  }

  /** RDPKRU (SDM vol. 2): #UD when CR4.PKE=0, then #GP(0) when ECX != 0; EAX = PKRU, EDX = 0. */
  rdpkru(ecx = 0): RegisterPair {
    if ((this.cr4Value & CR4.PKE) === 0) throw ud('RDPKRU with CR4.PKE=0');
    if (ecx !== 0) throw gp('RDPKRU with ECX nonzero');
    this.count(MachineEvent.RightsRead);
    return { eax: this.pkruValue >>> 0, edx: 0 };
  }

  // ---- XSAVE ----------------------------------------------------------------------------------

  /**
   * XSETBV (SDM vol. 2): #UD without CR4.OSXSAVE; #GP at CPL 3, for ECX != 0, for bit 0 clear, for a
   * component the CPU does not support (PKRU, bit 9, needs CPUID PKU).
   */
  xsetbv(ecx: number, eax: number, edx: number): void {
    if ((this.cr4Value & CR4.OSXSAVE) === 0) throw ud('XSETBV with CR4.OSXSAVE=0');
    this.requireCpl0('XSETBV');
    u32(eax, 'EAX');
    const supported = XCR0.X87 | XCR0.SSE | (this.features.pku ? XCR0.PKRU : 0);
    if (ecx !== 0 || edx !== 0 || (eax & ~supported) !== 0 || (eax & XCR0.X87) === 0)
      throw gp('XSETBV with an invalid XCR0 value');
    this.xcr0Value = eax | 0;
  }

  /**
   * XSAVE of the components in XCR0 & `mask` (SDM vol. 1, 13.7): for PKRU (component 9) XSTATE_BV[9]
   * records whether PKRU is in its init state (0) (XINUSE, SDM 13.6). #UD without CR4.OSXSAVE.
   */
  xsave(mask = 0xffffffff): XsaveArea {
    if ((this.cr4Value & CR4.OSXSAVE) === 0) throw ud('XSAVE with CR4.OSXSAVE=0');
    const rfbm = this.xcr0Value & mask;
    const savesPkru = (rfbm & XCR0.PKRU) !== 0;
    return Object.freeze({
      xstateBv: savesPkru && this.pkruValue !== 0 ? XCR0.PKRU : 0,
      pkru: savesPkru ? this.pkruValue >>> 0 : 0,
    });
  }

  /**
   * XRSTOR of the components in XCR0 & `mask` (SDM vol. 1, 13.8): PKRU gets the area's value when
   * XSTATE_BV[9]=1 and its init value 0 otherwise. #UD without CR4.OSXSAVE. Flushes nothing.
   */
  xrstor(area: XsaveArea, mask = 0xffffffff): void {
    if ((this.cr4Value & CR4.OSXSAVE) === 0) throw ud('XRSTOR with CR4.OSXSAVE=0');
    u32(area.pkru, 'XSAVE area PKRU');
    const rfbm = this.xcr0Value & mask;
    if ((area.xstateBv & ~this.xcr0Value) !== 0) throw gp('XRSTOR with XSTATE_BV bits not enabled in XCR0');
    if ((rfbm & XCR0.PKRU) === 0) return;
    this.pkruValue = (area.xstateBv & XCR0.PKRU) !== 0 ? area.pkru | 0 : 0;
    this.host.rightsChanged(this.index);
    this.count(MachineEvent.RightsWrite);
  }

  // ---- accesses -------------------------------------------------------------------------------

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
    this.cr2Value = address;
  }

  /** The physical frame cached for `address`, or -1 (valid right after an allowed access to it). */
  cachedFrame(address: number): number {
    return this.host.cachedFrame(this.index, address);
  }
}
