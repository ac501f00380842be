/**
 * The two x86 domain spaces: PKS (supervisor pages, IA32_PKRS) and PKU (user pages, PKRU). 16 keys,
 * AD (bit 2k) and WD (bit 2k+1) per key (SDM vol. 3, 4.6.2); key 0 is every mapping's default.
 */
import {
  Deny,
  DENY_ALL_FLAGS,
  DomainError,
  Privilege,
  rightsState,
  type Denials,
  type DomainSpace,
  type DomainSpaceInfo,
  type RightsState,
} from '@pkeysim/core';
import type { X86Cpu } from './cpu';
import { isX86Exception } from './exception';
import { CR4, MSR } from './registers';

/** Key 0 open, keys 1..15 access-disabled: Linux init_pkru_value and the PKS series' INIT_PKRS_VALUE. */
export const X86_INIT_RIGHTS = 0x55555554;

/** What a key space needs from its machine: the CPU with a given index. */
export interface CpuSource {
  /** The CPU with this index. */
  cpu(index: number): X86Cpu;
}

abstract class X86KeySpace implements DomainSpace {
  abstract readonly info: DomainSpaceInfo;
  protected abstract readonly feature: 'pku' | 'pks';
  protected abstract readonly cr4Bit: number;

  constructor(protected readonly machine: CpuSource) {}

  available(cpu: number): boolean {
    // Two named loads, not a keyed one by a field's value (every rights load asks).
    const features = this.machine.cpu(cpu).features;
    return this.feature === 'pks' ? features.pks : features.pku;
  }

  enabled(cpu: number): boolean {
    return (this.machine.cpu(cpu).cr4 & this.cr4Bit) !== 0;
  }

  /** Set the CR4 bit with MOV to CR4, as the kernel does at CPL 0. */
  enable(cpu: number): void {
    this.requireAvailable(cpu);
    const c = this.machine.cpu(cpu);
    c.asKernel((k) => k.movToCr4(k.cr4 | this.cr4Bit));
  }

  /** Throw DomainError('unsupported') when the CPU does not enumerate the feature. */
  protected requireAvailable(cpu: number): void {
    if (!this.available(cpu)) {
      throw new DomainError(
        'unsupported',
        `CPU ${cpu} does not enumerate ${this.feature.toUpperCase()} (CPUID.7.0:ECX)`,
      );
    }
  }

  /** What an instruction's error means here: a hardware exception is DomainError('unsupported'); anything else stays. */
  protected refusal(cpu: number, error: unknown): unknown {
    return isX86Exception(error)
      ? new DomainError('unsupported', `${this.info.register} on CPU ${cpu}: ${error.message}`)
      : error;
  }

  /** The rights register value of a one-word rights state (throws DomainError('invalid') if malformed). */
  protected registerValue(state: RightsState): number {
    if (
      !Array.isArray(state) ||
      state.length !== 1 ||
      !Number.isInteger(state[0]) ||
      state[0] < 0 ||
      state[0] > 0xffffffff
    ) {
      throw new DomainError(
        'invalid',
        `${this.info.register} state must be one unsigned 32-bit word, got [${String(state)}]`,
      );
    }
    return state[0];
  }

  abstract read(cpu: number): RightsState;
  abstract load(cpu: number, state: RightsState): void;

  initialState(): RightsState {
    return rightsState(X86_INIT_RIGHTS);
  }

  private checkDomain(domain: number): void {
    if (!Number.isInteger(domain) || domain < 0 || domain >= 16) {
      throw new DomainError('invalid', `${this.info.register} key ${String(domain)} must be 0..15`);
    }
  }

  denialsOf(state: RightsState, domain: number): Denials {
    const value = this.registerValue(state);
    this.checkDomain(domain);
    const bits = (value >>> (2 * domain)) & 3;
    return ((bits & 1) !== 0 ? Deny.Access : 0) | ((bits & 2) !== 0 ? Deny.Write : 0);
  }

  withDenials(state: RightsState, domain: number, denials: Denials): RightsState {
    const value = this.registerValue(state);
    this.checkDomain(domain);
    if (!Number.isInteger(denials) || (denials & ~DENY_ALL_FLAGS) !== 0) {
      throw new DomainError('invalid', `denials 0x${Number(denials).toString(16)} use unknown flags`);
    }
    if ((denials & ~this.info.deniable) !== 0) {
      throw new DomainError(
        'unsupported',
        `${this.info.register} can deny only access and write (AD/WD), not execute or read alone`,
      );
    }
    const bits = ((denials & Deny.Access) !== 0 ? 1 : 0) | ((denials & Deny.Write) !== 0 ? 2 : 0);
    const shift = 2 * domain;
    return rightsState(((value & ~(3 << shift)) | (bits << shift)) >>> 0);
  }

  format(state: RightsState): string {
    return '0x' + this.registerValue(state).toString(16).padStart(8, '0');
  }
}

const KEY0_RESERVED = { domain: 0, reason: 'key 0 is the default key of every mapping and stays open' } as const;

/** What the PKS space is (one frozen object for every machine). */
const PKS_INFO: DomainSpaceInfo = Object.freeze({
  id: 'x86.pks',
  register: 'PKRS',
  governs: Privilege.Supervisor,
  domains: 16,
  defaultDomain: 0,
  reserved: Object.freeze([KEY0_RESERVED]),
  deniable: Deny.Access | Deny.Write,
  scope: 'thread',
  switchCost: 'register-write',
  // PKRS is not XSAVE-managed: the kernel saves it per thread (PKS series, thread_struct.pkrs).
  contextSave: 'software',
  faultReportsDomain: false,
});

/** What the PKU space is (one frozen object for every machine). */
const PKU_INFO: DomainSpaceInfo = Object.freeze({
  id: 'x86.pku',
  register: 'PKRU',
  governs: Privilege.User,
  domains: 16,
  defaultDomain: 0,
  reserved: Object.freeze([KEY0_RESERVED]),
  deniable: Deny.Access | Deny.Write,
  scope: 'thread',
  switchCost: 'register-write',
  // PKRU is XSAVE state component 9 (SDM vol. 1, 13.1).
  contextSave: 'extended-state',
  faultReportsDomain: false,
});

/** Supervisor keys: IA32_PKRS (MSR 0x6E1), CR4.PKS, CPUID.7.0:ECX[31]. */
export class X86PksSpace extends X86KeySpace {
  readonly info: DomainSpaceInfo = PKS_INFO;
  protected readonly feature = 'pks' as const;
  protected readonly cr4Bit = CR4.PKS;

  // read and load run on every context switch, mostly at CPL 0: there they call the instruction
  // directly, without asKernel's closure.

  /** RDMSR IA32_PKRS at CPL 0. */
  read(cpu: number): RightsState {
    this.requireAvailable(cpu);
    const c = this.machine.cpu(cpu);
    try {
      return rightsState((c.cpl === 0 ? c.rdmsr(MSR.IA32_PKRS) : c.asKernel((k) => k.rdmsr(MSR.IA32_PKRS))).eax);
    } catch (error) {
      throw this.refusal(cpu, error);
    }
  }

  /** WRMSR IA32_PKRS at CPL 0: no TLB flush (SDM 4.10.2.2). */
  load(cpu: number, state: RightsState): void {
    const value = this.registerValue(state);
    this.requireAvailable(cpu);
    const c = this.machine.cpu(cpu);
    try {
      if (c.cpl === 0) c.wrmsr(MSR.IA32_PKRS, value, 0);
      else c.asKernel((k) => k.wrmsr(MSR.IA32_PKRS, value, 0));
    } catch (error) {
      throw this.refusal(cpu, error);
    }
  }
}

/** User keys: PKRU, CR4.PKE, CPUID.7.0:ECX[3]. */
export class X86PkuSpace extends X86KeySpace {
  readonly info: DomainSpaceInfo = PKU_INFO;
  protected readonly feature = 'pku' as const;
  protected readonly cr4Bit = CR4.PKE;

  /** RDPKRU: unsupported until CR4.PKE=1 (#UD). */
  read(cpu: number): RightsState {
    this.requireAvailable(cpu);
    const c = this.machine.cpu(cpu);
    try {
      return rightsState(c.rdpkru(0).eax);
    } catch (error) {
      throw this.refusal(cpu, error);
    }
  }

  /** WRPKRU: unsupported until CR4.PKE=1 (#UD); no TLB flush (SDM 4.10.2.2). */
  load(cpu: number, state: RightsState): void {
    const value = this.registerValue(state);
    this.requireAvailable(cpu);
    const c = this.machine.cpu(cpu);
    try {
      c.wrpkru(value, 0, 0);
    } catch (error) {
      throw this.refusal(cpu, error);
    }
  }
}
