/**
 * POWER storage keys as one DomainSpace: the AMR (loads, stores) and IAMR (fetches) govern user and
 * kernel accesses alike, so the space is `governs: 'shared'`. A rights state is
 * [AMR hi, AMR lo, IAMR hi, IAMR lo] (core rights-state.ts). UAMOR is not part of it: Linux sets it
 * once per CPU (default_uamor) and does not switch it per thread.
 */
import {
  DENY_ALL_FLAGS,
  DomainError,
  rightsState,
  type Denials,
  type DomainSpace,
  type DomainSpaceInfo,
  type RightsState,
} from '@pkeysim/core';
import { hex64 } from '@pkeysim/machine-kit';
import { isPowerException } from './exception';
import { amrBitsOf, denialsOfBits, iamrBitsOf, keyBits, type PowerDefaults, withKeyBits } from './keys';
import { KEY_DEFAULT, KEY_EXECUTE_ONLY, KEY_KERNEL, KEY_RESERVED_ISA } from './registers';

/** What the space needs from the machine. */
export interface KeyRegisters {
  /** True when the CPU has storage keys. */
  keysAvailable(cpu: number): boolean;
  /** pkey_early_init_devtree: mtspr UAMOR on the CPU. */
  initUamor(cpu: number): void;
  /** True once UAMOR has been set on the CPU. */
  uamorInitialised(cpu: number): boolean;
  /** mfspr AMR and IAMR in privileged state. */
  readKeyRegisters(cpu: number): RightsState;
  /** mtspr AMR and IAMR in privileged state (no TLB maintenance: keys are checked at access time). */
  writeKeyRegisters(cpu: number, amrHi: number, amrLo: number, iamrHi: number, iamrLo: number): void;
}

/** POWER storage keys as one shared domain space over AMR (loads, stores) and IAMR (fetches). */
export class PowerKeySpace implements DomainSpace {
  readonly info: DomainSpaceInfo;

  constructor(
    private readonly machine: KeyRegisters,
    private readonly keys: number,
    private readonly defaults: PowerDefaults,
  ) {
    this.info = Object.freeze({
      id: 'power.amr',
      register: 'AMR/IAMR',
      // One AMR for problem and privileged state (Power ISA; QEMU ppc_hash64_amr_prot ignores MSR[PR]).
      governs: 'shared' as const,
      domains: keys,
      defaultDomain: KEY_DEFAULT,
      reserved: Object.freeze([
        Object.freeze({
          domain: KEY_RESERVED_ISA,
          reason: 'key 1: Power ISA 3.0 programming note, not to be used (Linux pkeys.c)',
        }),
        Object.freeze({
          domain: KEY_EXECUTE_ONLY,
          reason: 'key 2: Linux execute_only_key for PROT_EXEC-only mappings',
        }),
        Object.freeze({ domain: KEY_KERNEL, reason: 'key 3: the kernel KUAP/KUEP key on hash (Linux v5.11+)' }),
      ]),
      // AMR load-disable and store-disable are separate bits, IAMR is execute-disable: all four are expressible.
      deniable: DENY_ALL_FLAGS,
      scope: 'thread',
      switchCost: 'register-write',
      // Linux saves AMR/IAMR in thread_struct (thread_pkey_regs_save/restore).
      contextSave: 'software',
      // A DSI reports DSISR_AMR, not the key: Linux reads it from the PTE (fault.c, pkey from the VMA).
      faultReportsDomain: false,
    });
  }

  available(cpu: number): boolean {
    return this.machine.keysAvailable(cpu);
  }

  /** The hardware checks AMR/IAMR whenever translation is on; "enabled" = the OS has set UAMOR up. */
  enabled(cpu: number): boolean {
    return this.available(cpu) && this.machine.uamorInitialised(cpu);
  }

  enable(cpu: number): void {
    this.requireAvailable(cpu);
    this.machine.initUamor(cpu);
  }

  private requireAvailable(cpu: number): void {
    if (!this.available(cpu))
      throw new DomainError('unsupported', `CPU ${cpu} has no storage keys (no ibm,processor-storage-keys)`);
  }

  private instruction<T>(cpu: number, run: () => T): T {
    this.requireAvailable(cpu);
    try {
      return run();
    } catch (error) {
      if (isPowerException(error)) throw new DomainError('unsupported', `AMR/IAMR on CPU ${cpu}: ${error.message}`);
      throw error;
    }
  }

  read(cpu: number): RightsState {
    return this.instruction(cpu, () => this.machine.readKeyRegisters(cpu));
  }

  load(cpu: number, state: RightsState): void {
    const [amrHi, amrLo, iamrHi, iamrLo] = this.words(state);
    this.instruction(cpu, () => this.machine.writeKeyRegisters(cpu, amrHi, amrLo, iamrHi, iamrLo));
  }

  /** Linux default_amr / default_iamr: key 0 (and the kernel key 3) open, every other key denied. */
  initialState(): RightsState {
    return rightsState(this.defaults.amr[0], this.defaults.amr[1], this.defaults.iamr[0], this.defaults.iamr[1]);
  }

  denialsOf(state: RightsState, domain: number): Denials {
    const [amrHi, amrLo, iamrHi, iamrLo] = this.words(state);
    this.checkKey(domain);
    return denialsOfBits(keyBits(amrHi, amrLo, domain), keyBits(iamrHi, iamrLo, domain));
  }

  withDenials(state: RightsState, domain: number, denials: Denials): RightsState {
    const [amrHi, amrLo, iamrHi, iamrLo] = this.words(state);
    this.checkKey(domain);
    // Reserved keys are reserved for allocation only: their AMR/IAMR bits remain writable in privileged
    // mode (user mode is limited by UAMOR, enforced on the register write, not here; core domain.ts).
    if (!Number.isInteger(denials) || (denials & ~DENY_ALL_FLAGS) !== 0) {
      throw new DomainError('invalid', `denials 0x${Number(denials).toString(16)} use unknown flags`);
    }
    const amr = withKeyBits(amrHi, amrLo, domain, amrBitsOf(denials));
    const iamr = withKeyBits(iamrHi, iamrLo, domain, iamrBitsOf(denials));
    return rightsState(amr[0], amr[1], iamr[0], iamr[1]);
  }

  format(state: RightsState): string {
    const [amrHi, amrLo, iamrHi, iamrLo] = this.words(state);
    return `AMR=${hex64(amrHi, amrLo)} IAMR=${hex64(iamrHi, iamrLo)}`;
  }

  private checkKey(key: number): void {
    if (!Number.isInteger(key) || key < 0 || key >= this.keys) {
      throw new DomainError('invalid', `storage key ${String(key)} must be 0..${this.keys - 1}`);
    }
  }

  private words(state: RightsState): [number, number, number, number] {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)
    ) {
      throw new DomainError(
        'invalid',
        `POWER rights state must be four u32 words [AMR hi, AMR lo, IAMR hi, IAMR lo], got [${String(state)}]`,
      );
    }
    return [state[0], state[1], state[2], state[3]];
  }
}
