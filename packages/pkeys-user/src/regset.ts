import { echoValue, type RightsState } from '@pkeysim/core';
import { KernelError } from '@pkeysim/kernel';
import { SIGSEGV } from './abi';
import type { UserThread } from './thread';
import type { UserEnv } from './world';

/**
 * How PTRACE_SETREGSET NT_X86_XSTATE treats the PKRU in the buffer:
 * - 'mainline': as XRSTOR would (Linux <= 5.13, and since 4a804c4f8356 "x86/fpu: Allow PKRU to be
 *   (once again) written by ptrace." with d7e5aceace51 "x86/fpu: Emulate XRSTOR's behavior if the
 *   xfeatures PKRU bit is not set", 6.2, backported to 5.15.88 and 6.1): XSTATE_BV[PKRU] set loads
 *   the buffer's PKRU, clear loads PKRU's init value 0;
 * - 'ignored-5.14': the regression from 5.14's FPU rework (PKRU moved out of the XSAVE buffer) to
 *   that fix: the write is accepted and the tracee's PKRU stays as it was (gdb's `set $pkru` lost).
 */
export type PtracePkruMode = 'mainline' | 'ignored-5.14';

/** Every PTRACE_SETREGSET PKRU mode. */
export const PTRACE_PKRU_MODES: readonly PtracePkruMode[] = ['mainline', 'ignored-5.14'];

/** The mode named by an option (default 'mainline'); anything else is EINVAL. */
export function ptracePkruMode(name: unknown): PtracePkruMode {
  if (name === undefined) return 'mainline';
  if (PTRACE_PKRU_MODES.includes(name as PtracePkruMode)) return name as PtracePkruMode;
  throw new KernelError('EINVAL', `ptracePkru must be one of ${PTRACE_PKRU_MODES.join(', ')}, got ${echoValue(name)}`);
}

/**
 * A thread's user-rights register as its regset shows it: to PTRACE_GETREGSET and in a core dump's
 * notes (fill_thread_core_info writes every regset with a core_note_type). `type` is the note
 * (NT_X86_XSTATE, NT_ARM_POE, NT_PPC_PKEY); `xstateBvPkru` is XSTATE_BV bit 9 where the register
 * lives in an XSAVE area (x86), always set here: copy_xstate_to_uabi_buf() writes the thread's PKRU.
 */
export interface RegsetNote {
  readonly tid: number;
  readonly type: string;
  readonly xstateBvPkru: boolean | undefined;
  readonly rights: RightsState;
}

/** What an ELF core dump of a process holds of its keys: one regset note per thread. */
export interface CoreDump {
  readonly pid: number;
  readonly signo: number;
  readonly notes: readonly RegsetNote[];
}

/** True where the register is an XSAVE component with an init state (x86 PKRU: XSTATE_BV applies). */
export function hasXstateBv(w: UserEnv): boolean {
  return w.abi?.selftest.forcesInitState ?? true;
}

/** The thread's regset note, or undefined without user keys (no such regset: -ENODEV). */
export function regsetNote(w: UserEnv, thread: UserThread): RegsetNote | undefined {
  const rights = thread.rights();
  if (!w.keys || !rights) return undefined;
  const xsave = hasXstateBv(w);
  return {
    tid: thread.tid,
    type: w.abi?.ptraceRegset ?? 'NT_X86_XSTATE',
    xstateBvPkru: xsave ? true : undefined,
    rights,
  };
}

/**
 * do_coredump() for a process killed by `signo`: SIGSEGV's default action dumps core (sig_kernel_coredump),
 * with each live thread's regset notes, PKRU included (NT_X86_XSTATE). Undefined for a signal that
 * does not dump core or without user keys.
 */
export function coreDump(w: UserEnv, pid: number, threads: readonly UserThread[], signo: number): CoreDump | undefined {
  if (signo !== SIGSEGV || !w.keys) return undefined;
  const notes: RegsetNote[] = [];
  for (const t of threads) {
    if (!t.alive) continue;
    const note = regsetNote(w, t);
    if (note) notes.push(note);
  }
  return { pid, signo, notes };
}
