import { type RightsState } from '@pkeysim/core';
import { isDomainError } from '@pkeysim/core';
import { UserErrno } from './abi';
import { USER_PAGE_SIZE } from './layout';
import { hasXstateBv, type RegsetNote, regsetNote } from './regset';
import { allOpen } from './rights';
import type { UserThread } from './thread';
import type { UserWorld } from './world';

/** PTRACE_PEEKDATA/POKEDATA move one word. */
export const PTRACE_WORD = 8;

/**
 * A tracer attached to a stopped tracee (PTRACE_ATTACH). Memory goes through access_process_vm()
 * with FOLL_FORCE | FOLL_REMOTE: a foreign access, so neither process's PKRU applies
 * (arch_vma_access_permitted returns true for foreign VMAs). Registers go through the tracee's
 * XSAVE area (PTRACE_GETREGSET / SETREGSET NT_X86_XSTATE), which holds its PKRU.
 */
export class Ptrace {
  /** @internal Built by UserKernel.ptraceAttach. */
  constructor(
    private readonly w: UserWorld,
    readonly tracer: UserThread,
    readonly tracee: UserThread,
  ) {}

  /** A tracee that is running or dead cannot be traced: -ESRCH (ptrace_check_attach). */
  private stopped(): number {
    if (!this.tracee.alive || this.tracee.running) return -UserErrno.ESRCH;
    return 0;
  }

  /** PTRACE_PEEKDATA: the word at `address`, or -ESRCH / -EIO (nothing mapped there). */
  peekData(address: number): Uint8Array | number {
    const bad = this.stopped() || this.checkWord(address);
    if (bad !== 0) return bad;
    const frame = this.tracee.process.mm.frameFor(address);
    if (frame === undefined) return -UserErrno.EIO;
    return this.w.machine.readPhysical(frame + (address % USER_PAGE_SIZE), PTRACE_WORD);
  }

  /** PTRACE_POKEDATA: 0, -ESRCH or -EIO. FOLL_FORCE writes even read-only private memory. */
  pokeData(address: number, bytes: Uint8Array): number {
    const bad = this.stopped() || this.checkWord(address);
    if (bad !== 0) return bad;
    if (!(bytes instanceof Uint8Array) || bytes.length !== PTRACE_WORD) return -UserErrno.EIO;
    const frame = this.tracee.process.mm.frameFor(address);
    if (frame === undefined) return -UserErrno.EIO;
    this.w.machine.writePhysical(frame + (address % USER_PAGE_SIZE), bytes);
    return 0;
  }

  /** The tracee's PKRU from its XSAVE area, or -ESRCH / -ENODEV (no user keys: no such regset). */
  getPkru(): RightsState | number {
    const bad = this.stopped();
    if (bad !== 0) return bad;
    const saved = this.tracee.rights();
    return saved ?? -UserErrno.ENODEV;
  }

  /** Write the tracee's PKRU into its XSAVE area; it runs with it when next switched in. */
  setPkru(state: RightsState): number {
    return this.setRegset(state, true);
  }

  /**
   * PTRACE_GETREGSET of the keys regset (NT_X86_XSTATE, NT_ARM_POE, NT_PPC_PKEY): the tracee's
   * rights and, on x86, XSTATE_BV[PKRU]; or -ESRCH / -ENODEV (no user keys).
   */
  getRegset(): RegsetNote | number {
    const bad = this.stopped();
    if (bad !== 0) return bad;
    return regsetNote(this.w, this.tracee) ?? -UserErrno.ENODEV;
  }

  /**
   * PTRACE_SETREGSET NT_X86_XSTATE with the PKRU slot `state` and XSTATE_BV[PKRU] = `xstateBvPkru`.
   * With the bit clear the tracee gets PKRU's init value, 0, as XRSTOR would (d7e5aceace51); under
   * the 'ignored-5.14' mode the PKRU in the buffer is dropped (the regression 4a804c4f8356 fixed).
   * Where the register has no XSTATE_BV (arm64, POWER) the bit must be set: -EINVAL otherwise.
   */
  setRegset(state: RightsState, xstateBvPkru: boolean): number {
    const bad = this.stopped();
    if (bad !== 0) return bad;
    const keys = this.w.keys;
    if (!keys) return -UserErrno.ENODEV;
    if (typeof xstateBvPkru !== 'boolean') return -UserErrno.EINVAL;
    if (!xstateBvPkru && !hasXstateBv(this.w)) return -UserErrno.EINVAL;
    try {
      keys.format(state); // validates the shape: one 32-bit word on x86
    } catch (error) {
      if (isDomainError(error)) return -UserErrno.EINVAL;
      throw error;
    }
    // 5.14..4a804c4f8356: copy_uabi_to_xstate() skipped PKRU, kept in thread.pkru since 5.14.
    if (hasXstateBv(this.w) && this.w.ptracePkru === 'ignored-5.14') return 0;
    // d7e5aceace51: "XRSTOR resets PKRU to its hardware init value (0) if the PKRU bit is not set".
    const written = xstateBvPkru ? state : allOpen(keys);
    // NT_X86_XSTATE and NT_ARM_POE set the whole register; NT_PPC_PKEY only UAMOR-enabled AMR bits.
    const saved = this.tracee.rights();
    const abi = this.w.abi;
    this.tracee.setSavedRights(abi && saved ? abi.ptraceWrite(keys, saved, written) : written);
    return 0;
  }

  /** A word must not cross a page (the model moves words within one frame). */
  private checkWord(address: number): number {
    if (!Number.isInteger(address) || address < 0) return -UserErrno.EIO;
    return (address % USER_PAGE_SIZE) + PTRACE_WORD > USER_PAGE_SIZE ? -UserErrno.EIO : 0;
  }
}
