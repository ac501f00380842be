/**
 * The two POE domain spaces: POR_EL0 (EL0 accesses, user pages) and POR_EL1 (EL1 accesses,
 * supervisor pages). 8 overlays (POIndex 3 bits); index 0 is every mapping's default and stays RWX
 * (Linux reserves pkey 0); new indices start with no access (POR_EL0_INIT). A rights state is the
 * low word of the register: Perm<0..7>; Perm<8..15> exist only with 128-bit descriptors.
 */
import {
  DENY_ALL_FLAGS,
  DomainError,
  Privilege,
  rightsState,
  type Denials,
  type DomainSpace,
  type DomainSpaceInfo,
  type RightsState,
} from '@pkeysim/core';
import { hex32 } from '@pkeysim/machine-kit';
import { isArm64Exception } from './exception';
import { denialsOfOverlay, overlayField, overlayOfDenials, withOverlayField } from './overlay';
import { POE_OVERLAYS, POR_INIT } from './registers';

/** What a POR space needs from the machine. */
export interface PorRegisters {
  /** True when the CPU implements FEAT_S1POE for accesses from `el`. */
  poeAvailable(cpu: number, el: 0 | 1): boolean;
  /** True when overlays are enabled for `el` (TCR2_EL1.E0POE or TCR2_EL1.POE). */
  poeEnabled(cpu: number, el: 0 | 1): boolean;
  /** Enable overlays for `el` as Linux cpu_enable_poe does. */
  enablePoe(cpu: number, el: 0 | 1): void;
  /** MRS as EL1: the low word of POR_ELx. */
  readPor(cpu: number, el: 0 | 1): number;
  /** MSR as EL1: POR_ELx = value (high word cleared). */
  writePor(cpu: number, el: 0 | 1, value: number): void;
}

const INDEX0_RESERVED = Object.freeze({
  domain: 0,
  reason: 'POIndex 0 is the default of every mapping and stays RWX (Linux reserves pkey 0)',
});

/** A POE domain space: POR_EL0 (user pages) or POR_EL1 (supervisor pages), 8 overlays, index 0 kept RWX. */
export class PorSpace implements DomainSpace {
  readonly info: DomainSpaceInfo;

  constructor(
    private readonly machine: PorRegisters,
    private readonly el: 0 | 1,
  ) {
    this.info = Object.freeze({
      id: el === 0 ? 'arm64.por_el0' : 'arm64.por_el1',
      register: el === 0 ? 'POR_EL0' : 'POR_EL1',
      // The overlay is chosen by the EL of the access (Arm ARM D8.4.1.3); EL0 reaches user pages, EL1 kernel pages.
      governs: el === 0 ? Privilege.User : Privilege.Supervisor,
      domains: POE_OVERLAYS,
      defaultDomain: 0,
      reserved: Object.freeze([INDEX0_RESERVED]),
      // R, W and X are separate overlay bits: all four PKEY_DISABLE_* flags are expressible (arm64 uapi mman.h).
      deniable: DENY_ALL_FLAGS,
      scope: 'thread',
      switchCost: 'register-write',
      // Linux saves POR_EL0 in thread_struct on context switch (arch/arm64/kernel/process.c permission_overlay_switch).
      contextSave: 'software',
      // ESR_ELx carries ISS2.Overlay but not the POIndex: Linux finds the pkey from the VMA (arch/arm64/mm/fault.c).
      faultReportsDomain: false,
    });
  }

  available(cpu: number): boolean {
    return this.machine.poeAvailable(cpu, this.el);
  }

  enabled(cpu: number): boolean {
    return this.machine.poeEnabled(cpu, this.el);
  }

  enable(cpu: number): void {
    this.requireAvailable(cpu);
    this.machine.enablePoe(cpu, this.el);
  }

  private requireAvailable(cpu: number): void {
    if (!this.available(cpu)) {
      throw new DomainError(
        'unsupported',
        `CPU ${cpu} does not implement FEAT_S1POE for EL${this.el} (ID_AA64MMFR3_EL1.S1POE)`,
      );
    }
  }

  private instruction<T>(cpu: number, run: () => T): T {
    this.requireAvailable(cpu);
    try {
      return run();
    } catch (error) {
      if (isArm64Exception(error))
        throw new DomainError('unsupported', `${this.info.register} on CPU ${cpu}: ${error.message}`);
      throw error;
    }
  }

  read(cpu: number): RightsState {
    return this.instruction(cpu, () => rightsState(this.machine.readPor(cpu, this.el)));
  }

  /** MSR POR_ELx: no TLB maintenance (overlays are not cached in TLBs, Arm ARM D8.4.1.3). */
  load(cpu: number, state: RightsState): void {
    const value = this.wordOf(state);
    this.instruction(cpu, () => this.machine.writePor(cpu, this.el, value));
  }

  initialState(): RightsState {
    return rightsState(POR_INIT);
  }

  denialsOf(state: RightsState, domain: number): Denials {
    const value = this.wordOf(state);
    this.checkDomain(domain);
    return denialsOfOverlay(overlayField(value, domain));
  }

  withDenials(state: RightsState, domain: number, denials: Denials): RightsState {
    const value = this.wordOf(state);
    this.checkDomain(domain);
    // Index 0 is reserved for allocation only: POR field 0 is writable like any other (core domain.ts).
    if (!Number.isInteger(denials) || (denials & ~DENY_ALL_FLAGS) !== 0) {
      throw new DomainError('invalid', `denials 0x${Number(denials).toString(16)} use unknown flags`);
    }
    return rightsState(withOverlayField(value, domain, overlayOfDenials(denials)));
  }

  format(state: RightsState): string {
    return hex32(this.wordOf(state));
  }

  private checkDomain(domain: number): void {
    if (!Number.isInteger(domain) || domain < 0 || domain >= POE_OVERLAYS) {
      throw new DomainError(
        'invalid',
        `${this.info.register} overlay index ${String(domain)} must be 0..${POE_OVERLAYS - 1}`,
      );
    }
  }

  private wordOf(state: RightsState): number {
    if (
      !Array.isArray(state) ||
      state.length !== 1 ||
      !Number.isInteger(state[0]) ||
      state[0] < 0 ||
      state[0] > 0xffffffff
    ) {
      throw new DomainError(
        'invalid',
        `${this.info.register} state must be one unsigned 32-bit word (Perm<0..7>), got [${String(state)}]`,
      );
    }
    return state[0];
  }
}
