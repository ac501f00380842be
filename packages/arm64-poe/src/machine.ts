/**
 * An arm64 machine with FEAT_S1POE, built on @pkeysim/machine-kit: VMSAv8-64 stage-1 translation
 * (4 KiB granule, 48-bit VA, TTBR0 per address space, TTBR1 shared), per-CPU POR_EL0, POR_EL1,
 * TCR2_EL1, SCTLR_EL1.WXN, CPACR_EL1.E0POE and PSTATE.PAN, and the overlay access check.
 * Privilege.User is EL0, Privilege.Supervisor is EL1.
 */
import { AccessKind, DomainError, MachineEvent, Privilege, type DomainSpace, type MachineConfig } from '@pkeysim/core';
import {
  invalidArgument,
  splitU64,
  FAULT_KIND_MASK,
  FaultKind,
  formatAddress,
  type FaultReport,
  KitMachine,
  type KitFaultRecord,
  TF_DOMAIN_SHIFT,
} from '@pkeysim/machine-kit';
import { checkPoeAccess, OVERLAY_OFF } from './access-check';
import { arm64Descriptors, armLevel } from './descriptor';
import { PorSpace, type PorRegisters } from './domain-spaces';
import { Arm64Exception } from './exception';
import { overlayField } from './overlay';
import {
  CPACR_E0POE,
  EC_DABT_CUR,
  EC_DABT_LOW,
  EC_IABT_CUR,
  EC_IABT_LOW,
  ESR_IL,
  ESR_ISS2_OVERLAY,
  ESR_WNR,
  FSC_PERMISSION,
  FSC_TRANSLATION,
  SCTLR_WXN,
  TCR2_E0POE,
  TCR2_POE,
} from './registers';

/** Which ELs the CPUs implement FEAT_S1POE for. */
export interface Arm64PoeFeatures {
  /** FEAT_S1POE usable for EL0 accesses (POR_EL0, TCR2_EL1.E0POE). Default true. */
  readonly el0Overlay: boolean;
  /** FEAT_S1POE usable for EL1 accesses (POR_EL1, TCR2_EL1.POE). Default true. */
  readonly el1Overlay: boolean;
}

/** How to build an {@link Arm64PoeMachine}: CPUs, memory, TLB size and POE features. */
export interface Arm64PoeMachineOptions {
  readonly cpus?: number;
  readonly ramBytes?: number;
  readonly persistentBytes?: number;
  readonly tlbEntries?: number;
  readonly features?: Partial<Arm64PoeFeatures>;
}

/** The system registers the model implements. */
export type Arm64SysReg = 'POR_EL0' | 'POR_EL1' | 'TCR2_EL1' | 'SCTLR_EL1' | 'CPACR_EL1';
const SYS_REGS: readonly Arm64SysReg[] = ['POR_EL0', 'POR_EL1', 'TCR2_EL1', 'SCTLR_EL1', 'CPACR_EL1'];

function checkEl(el: unknown): void {
  if (el !== 0 && el !== 1) throw invalidArgument(`exception level ${String(el)} must be 0 or 1`);
}

export class Arm64PoeMachine extends KitMachine implements PorRegisters {
  readonly features: Arm64PoeFeatures;
  private readonly por0Lo: Uint32Array;
  private readonly por0Hi: Uint32Array;
  private readonly por1Lo: Uint32Array;
  private readonly por1Hi: Uint32Array;
  private readonly tcr2: Uint32Array;
  private readonly sctlr: Uint32Array;
  private readonly cpacr: Uint32Array;
  private readonly pan: Uint8Array;
  private readonly el0Space: PorSpace;
  private readonly el1Space: PorSpace;

  /** Build from a core MachineConfig (`features.userDomains` -> EL0 overlay, `supervisorDomains` -> EL1). */
  static fromConfig(config: MachineConfig): Arm64PoeMachine {
    const options = config.options ?? {};
    const known = ['tlbEntries'];
    for (const key of Object.keys(options)) {
      if (!known.includes(key))
        throw new DomainError('invalid', `unknown arm64-poe option "${key}" (known: ${known.join(', ')})`);
    }
    return new Arm64PoeMachine({
      cpus: config.cpus,
      tlbEntries: options.tlbEntries as number | undefined,
      ramBytes: config.memory?.ramBytes,
      persistentBytes: config.memory?.persistentBytes,
      features: {
        el0Overlay: config.features?.userDomains ?? true,
        el1Overlay: config.features?.supervisorDomains ?? true,
      },
    });
  }

  constructor(options: Arm64PoeMachineOptions = {}) {
    super({
      arch: 'arm64-poe',
      cpus: options.cpus,
      codec: arm64Descriptors,
      ramBytes: options.ramBytes,
      persistentBytes: options.persistentBytes,
      tlbEntries: options.tlbEntries,
      maxPhysAddr: 48,
      // Linux arm64 flush_tlb_kernel_range: per-page TLBI up to MAX_DVM_OPS (PTRS_PER_PTE), else flush_tlb_all.
      flushCeiling: 512,
    });
    this.features = Object.freeze({
      el0Overlay: options.features?.el0Overlay ?? true,
      el1Overlay: options.features?.el1Overlay ?? true,
    });
    const n = this.cpuCount;
    this.por0Lo = new Uint32Array(n);
    this.por0Hi = new Uint32Array(n);
    this.por1Lo = new Uint32Array(n);
    this.por1Hi = new Uint32Array(n);
    this.tcr2 = new Uint32Array(n);
    this.sctlr = new Uint32Array(n);
    this.cpacr = new Uint32Array(n);
    this.pan = new Uint8Array(n);
    this.el0Space = new PorSpace(this, 0);
    this.el1Space = new PorSpace(this, 1);
  }

  /** POR_EL0 governs user pages, POR_EL1 supervisor pages. */
  domainSpace(governs: Privilege): DomainSpace | undefined {
    return governs === Privilege.User ? this.el0Space : governs === Privilege.Supervisor ? this.el1Space : undefined;
  }

  /** Reset: POR_ELx are architecturally UNKNOWN, modelled as 0; TCR2, SCTLR.WXN, CPACR.E0POE and PAN clear. */
  protected resetArchitecture(): void {
    for (const register of [this.por0Lo, this.por0Hi, this.por1Lo, this.por1Hi, this.tcr2, this.sctlr, this.cpacr])
      register.fill(0);
    this.pan.fill(0);
  }

  /** The exception level of the CPU's accesses. */
  el(cpu: number): 0 | 1 {
    return this.mode(cpu) === Privilege.User ? 0 : 1;
  }

  // ---- system-register instructions -------------------------------------------------------------

  /**
   * MSR <reg>, Xt at the CPU's current EL. UNDEFINED at EL0 except POR_EL0, which traps unless
   * CPACR_EL1.E0POE (Arm ARM D8.4.1.3; Linux cpu_enable_poe); POR_ELx are UNDEFINED without
   * FEAT_S1POE. Raises before any register changes. Writes to POR_ELx do not invalidate TLBs.
   */
  msr(cpu: number, reg: Arm64SysReg, value: number | bigint): void {
    this.checkCpu(cpu);
    this.checkRegister(cpu, reg);
    const [hi, lo] = splitU64(value, reg);
    switch (reg) {
      case 'POR_EL0':
        this.por0Hi[cpu] = hi;
        this.por0Lo[cpu] = lo;
        this.count(cpu, MachineEvent.RightsWrite);
        return;
      case 'POR_EL1':
        this.por1Hi[cpu] = hi;
        this.por1Lo[cpu] = lo;
        this.count(cpu, MachineEvent.RightsWrite);
        return;
      case 'TCR2_EL1': {
        // POE/E0POE are RES0 when the feature is absent: writes to them are ignored.
        const implemented = (this.features.el1Overlay ? TCR2_POE : 0) | (this.features.el0Overlay ? TCR2_E0POE : 0);
        this.tcr2[cpu] = (lo & ~(TCR2_POE | TCR2_E0POE)) | (lo & implemented);
        return;
      }
      case 'SCTLR_EL1':
        this.sctlr[cpu] = lo;
        return;
      case 'CPACR_EL1':
        this.cpacr[cpu] = lo;
        return;
    }
  }

  /** MRS Xt, <reg>: the same access rules as {@link msr}. */
  mrs(cpu: number, reg: Arm64SysReg): bigint {
    this.checkCpu(cpu);
    this.checkRegister(cpu, reg);
    const words = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
    switch (reg) {
      case 'POR_EL0':
        this.count(cpu, MachineEvent.RightsRead);
        return words(this.por0Hi[cpu], this.por0Lo[cpu]);
      case 'POR_EL1':
        this.count(cpu, MachineEvent.RightsRead);
        return words(this.por1Hi[cpu], this.por1Lo[cpu]);
      case 'TCR2_EL1':
        return BigInt(this.tcr2[cpu]);
      case 'SCTLR_EL1':
        return BigInt(this.sctlr[cpu]);
      case 'CPACR_EL1':
        return BigInt(this.cpacr[cpu]);
    }
  }

  private checkRegister(cpu: number, reg: Arm64SysReg): void {
    if (!SYS_REGS.includes(reg))
      throw invalidArgument(`unknown system register ${String(reg)} (known: ${SYS_REGS.join(', ')})`);
    const el0 = this.modes[cpu] === Privilege.User;
    if (reg === 'POR_EL0' && !this.features.el0Overlay)
      throw new Arm64Exception('undefined', 'POR_EL0 without FEAT_S1POE is UNDEFINED');
    if (reg === 'POR_EL1' && !this.features.el1Overlay)
      throw new Arm64Exception('undefined', 'POR_EL1 without FEAT_S1POE is UNDEFINED');
    if (!el0) return;
    if (reg !== 'POR_EL0') throw new Arm64Exception('undefined', `${reg} is UNDEFINED at EL0`);
    if ((this.cpacr[cpu] & CPACR_E0POE) === 0)
      throw new Arm64Exception('trap', 'POR_EL0 at EL0 with CPACR_EL1.E0POE = 0 traps to EL1');
  }

  /** MSR PAN, #imm (EL1 only: UNDEFINED at EL0). */
  setPan(cpu: number, on: boolean): void {
    this.checkCpu(cpu);
    if (typeof on !== 'boolean') throw invalidArgument(`PAN ${String(on)} must be true or false`);
    if (this.modes[cpu] === Privilege.User) throw new Arm64Exception('undefined', 'MSR PAN is UNDEFINED at EL0');
    this.pan[cpu] = on ? 1 : 0;
  }

  /** PSTATE.PAN of the CPU. */
  pstatePan(cpu: number): boolean {
    this.checkCpu(cpu);
    return this.pan[cpu] !== 0;
  }

  /** Run `fn` at EL1 and return to the previous EL (how the kernel model issues privileged writes). */
  private atEl1<T>(cpu: number, fn: () => T): T {
    const previous = this.modes[cpu];
    this.modes[cpu] = Privilege.Supervisor;
    try {
      return fn();
    } finally {
      this.modes[cpu] = previous;
    }
  }

  // ---- PorRegisters (for the domain spaces) -----------------------------------------------------

  /** True when the CPU implements FEAT_S1POE for accesses from `el`. */
  poeAvailable(cpu: number, el: 0 | 1): boolean {
    this.checkCpu(cpu);
    return el === 0 ? this.features.el0Overlay : this.features.el1Overlay;
  }

  /** True when overlays are enabled for `el` (TCR2_EL1.E0POE or TCR2_EL1.POE). */
  poeEnabled(cpu: number, el: 0 | 1): boolean {
    this.checkCpu(cpu);
    return (this.tcr2[cpu] & (el === 0 ? TCR2_E0POE : TCR2_POE)) !== 0;
  }

  /** Linux cpu_enable_poe: TCR2_EL1.E0POE and CPACR_EL1.E0POE for EL0; TCR2_EL1.POE for EL1. */
  enablePoe(cpu: number, el: 0 | 1): void {
    this.atEl1(cpu, () => {
      if (el === 0) this.msr(cpu, 'CPACR_EL1', this.cpacr[cpu] | CPACR_E0POE);
      this.msr(cpu, 'TCR2_EL1', this.tcr2[cpu] | (el === 0 ? TCR2_E0POE : TCR2_POE));
    });
  }

  readPor(cpu: number, el: 0 | 1): number {
    checkEl(el);
    return Number(this.atEl1(cpu, () => this.mrs(cpu, el === 0 ? 'POR_EL0' : 'POR_EL1')) & 0xffffffffn);
  }

  writePor(cpu: number, el: 0 | 1, value: number): void {
    checkEl(el);
    this.atEl1(cpu, () => this.msr(cpu, el === 0 ? 'POR_EL0' : 'POR_EL1', value));
  }

  // ---- the access check and its report ----------------------------------------------------------

  protected override checkAccess(cpu: number, flags: number, kind: AccessKind): number {
    const mode = this.modes[cpu] as Privilege;
    const index = (flags >>> TF_DOMAIN_SHIFT) & 0xff;
    const tcr2 = this.tcr2[cpu];
    const privOverlay = (tcr2 & TCR2_POE) !== 0 ? overlayField(this.por1Lo[cpu], index) : OVERLAY_OFF;
    const userOverlay = (tcr2 & TCR2_E0POE) !== 0 ? overlayField(this.por0Lo[cpu], index) : OVERLAY_OFF;
    return checkPoeAccess(
      flags,
      kind,
      mode === Privilege.User,
      privOverlay,
      userOverlay,
      (this.sctlr[cpu] & SCTLR_WXN) !== 0,
      this.pan[cpu] !== 0,
    );
  }

  /** ESR_ELx of the abort (Arm ARM D24 ESR_EL1; Linux esr.h), FAR = the address. */
  protected describeFault(record: KitFaultRecord): FaultReport {
    const fetch = record.access === AccessKind.Fetch;
    const el0 = record.mode === Privilege.User;
    const kind = record.code & FAULT_KIND_MASK;
    const level = armLevel(record.level);
    const ec = fetch ? (el0 ? EC_IABT_LOW : EC_IABT_CUR) : el0 ? EC_DABT_LOW : EC_DABT_CUR;
    const translation = kind === FaultKind.NotPresent;
    const fsc = (translation ? FSC_TRANSLATION : FSC_PERMISSION) | level;
    const write = record.access === AccessKind.Write;
    // An overlay violation is a Permission fault with ISS2.Overlay set (Arm ARM D24.2.40; Linux fault.c fault_from_pkey).
    const overlay = kind === FaultKind.Domain;
    const esr = ec * 2 ** 26 + ESR_IL + fsc + (write ? ESR_WNR : 0) + (overlay ? ESR_ISS2_OVERLAY : 0);
    const exception = fetch ? 'Instruction Abort' : 'Data Abort';
    const esrHex = '0x' + esr.toString(16);
    const what = translation ? 'translation fault' : 'permission fault';
    const extra = overlay ? ', ISS2.Overlay' : kind === FaultKind.PrivilegeGuard ? ' (PSTATE.PAN)' : '';
    return {
      detail: {
        exception,
        esr,
        esrHex,
        ec,
        fsc,
        level,
        wnr: write,
        overlay,
        pan: kind === FaultKind.PrivilegeGuard,
        far: record.address,
        farHex: formatAddress(record.address),
      },
      summary: `${exception} from EL${el0 ? 0 : 1}: ${what}, level ${level}${extra}, ${write ? 'write' : fetch ? 'fetch' : 'read'} at ${formatAddress(record.address)} (ESR_EL1 ${esrHex})`,
    };
  }
}
