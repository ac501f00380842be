import type { RightsState } from '@pkeysim/core';
import { formatAddress } from '@pkeysim/kernel';
import { SA_NODEFER, SA_ONSTACK, SI_KERNEL, SIGSEGV, SS_AUTODISARM, segvCodeName, signalName } from './abi';
import {
  decodeAltstack,
  decodeFrame,
  encodeFrame,
  encodeRights,
  frameAddressBelow,
  RED_ZONE,
  type SigFrameContents,
  SIGFRAME_SIZE,
  type SigInfo,
  UC_STACK_OFFSET,
  UC_STACK_SIZE,
  XSAVE_PKRU_OFFSET,
} from './sigframe';
import type { UserResult, UserThread } from './thread';
import { allOpen } from './rights';
import { copyFromUser, copyToUser } from './uaccess';
import type { UserEnv } from './world';

/** What a handler sees: its thread, the siginfo and the frame the kernel wrote. */
export interface SignalContext {
  readonly thread: UserThread;
  readonly info: SigInfo;
  readonly frame: {
    readonly address: number;
    /** The rights the kernel saved in the frame's XSAVE area (what sigreturn restores). */
    readonly savedPkru: RightsState | undefined;
    readonly onAltstack: boolean;
  };
  /**
   * Change the rights sigreturn restores: a user-mode store into the frame's XSAVE PKRU slot, as
   * protection_keys.c's handler does (it may fault, like any store the handler makes).
   */
  setSavedPkru(state: RightsState): UserResult<void>;
}

/** A user signal handler: called with the delivery's context. */
export type SignalHandler = (ctx: SignalContext) => void;

/** sigaction(2): the handler (or the default action, or ignore), SA_* flags and sa_mask. */
export interface SigAction {
  readonly handler: SignalHandler | 'default' | 'ignore';
  readonly flags: number;
  /** Signals blocked while the handler runs, as a bit mask (bit signo-1). */
  readonly mask: number;
}

export const DEFAULT_ACTION: SigAction = Object.freeze({ handler: 'default', flags: 0, mask: 0 });

export function signalBit(signo: number): number {
  return (1 << (signo - 1)) >>> 0;
}

/** Deeper nesting would overflow any real stack; the model stops there instead of recursing forever. */
export const MAX_SIGNAL_NESTING = 32;

/**
 * Signal delivery on return to user mode (arch/x86/kernel/signal.c handle_signal, setup_rt_frame,
 * get_sigframe; sys_rt_sigreturn), with the rights handling of the selected policy.
 */
export class SignalDelivery {
  constructor(private readonly w: UserEnv) {}

  /**
   * force_sig_fault() / force_sig(): a signal the thread cannot block or ignore. If it is blocked or
   * ignored, its handler is reset to the default and it is unblocked (force_sig_info_to_task), so
   * a fault inside its own handler kills the process. Delivered at once (exit to user mode).
   */
  force(thread: UserThread, info: SigInfo): void {
    const process = thread.process;
    const blocked = thread.isBlocked(info.signo);
    if (blocked || process.actionOf(info.signo).handler === 'ignore') {
      process.setAction(info.signo, DEFAULT_ACTION);
      if (blocked) thread.blocked &= ~signalBit(info.signo);
    }
    thread.pending.push(info);
    this.deliverPending(thread);
  }

  /** exit_to_user_mode_loop(): deliver every pending signal the thread does not block. */
  deliverPending(thread: UserThread): void {
    while (thread.alive && thread.running) {
      const index = thread.pending.findIndex((s) => !thread.isBlocked(s.signo));
      if (index === -1) return;
      const [info] = thread.pending.splice(index, 1);
      this.deliver(thread, info);
    }
  }

  private deliver(thread: UserThread, info: SigInfo): void {
    const action = thread.process.actionOf(info.signo);
    if (action.handler === 'ignore') return;
    if (action.handler === 'default') {
      thread.process.kill(info, `${describe(info)}: default action, terminate`);
      return;
    }
    if (thread.signalDepth >= MAX_SIGNAL_NESTING) {
      thread.process.kill(
        info,
        `${describe(info)}: signal frames nested ${MAX_SIGNAL_NESTING} deep, the stack overflows`,
      );
      return;
    }
    const frame = this.setupFrame(thread, info, action);
    if (typeof frame === 'string') {
      this.forceSigsegv(thread, info.signo, frame);
      return;
    }
    thread.delivered.push(info);
    const handler = action.handler;
    thread.signalDepth++;
    try {
      handler({
        thread,
        info,
        frame: { address: frame.address, savedPkru: frame.contents.pkru, onAltstack: frame.onAltstack },
        setSavedPkru: (state) => thread.store(frame.address + XSAVE_PKRU_OFFSET, encodeRights(state)),
      });
    } finally {
      thread.signalDepth--;
    }
    if (thread.alive) this.sigreturn(thread, frame.address);
  }

  /**
   * get_sigframe() + setup_rt_frame() + the end of handle_signal(): place the frame (on the
   * sigaltstack for SA_ONSTACK unless already on it), write it with the policy's rights, then
   * give the handler its rights, mask and stack. A string says why the frame could not be written.
   */
  private setupFrame(
    thread: UserThread,
    info: SigInfo,
    action: SigAction,
  ): { address: number; contents: SigFrameContents; onAltstack: boolean } | string {
    const keys = this.w.keys;
    const cpu = thread.cpu;
    const alt = thread.altstack;
    const wasOnAltstack = thread.onAltstack();
    const switchStacks = (action.flags & SA_ONSTACK) !== 0 && alt !== undefined && !wasOnAltstack;
    const sp = switchStacks ? alt.sp + alt.size : thread.sp - RED_ZONE;
    const address = frameAddressBelow(sp);
    const interrupted = thread.liveRights();
    // The frame holds the interrupted rights. Under 'mainline' XSAVE runs with PKRU=0, and
    // update_pkru_in_sigframe() (70044df250d0) puts the interrupted value back in the frame.
    const contents: SigFrameContents = {
      info,
      savedSp: thread.sp,
      blocked: thread.blocked,
      altstack: alt,
      pkru: interrupted,
    };
    const writeRights = keys ? this.w.policy.frameWriteRights(keys) : undefined;
    if (keys && writeRights) keys.load(cpu, writeRights);
    const written = copyToUser(this.w, thread, address, encodeFrame(contents));
    if (written !== 0) {
      // get_sigframe(): "Restore PKRU if the frame could not be written".
      if (keys && writeRights && interrupted) keys.load(cpu, interrupted);
      return `the ${signalName(info.signo)} frame at ${formatAddress(address)}${switchStacks ? ' (sigaltstack)' : ''} could not be written with PKRU ${keys && interrupted ? keys.format(writeRights ?? interrupted) : '-'}`;
    }
    // __save_altstack(): with SS_AUTODISARM the altstack is reset while the handler runs; sigreturn
    // brings it back from uc_stack (restore_altstack).
    if (alt !== undefined && alt.flags >= SS_AUTODISARM) thread.altstack = undefined;
    const init = this.w.initPkru();
    if (keys && interrupted && init) {
      keys.load(cpu, this.w.policy.handlerRights(keys, interrupted, init, thread.process.mm.pkeys.executeOnlyKey));
    }
    thread.blocked =
      (thread.blocked | action.mask | ((action.flags & SA_NODEFER) !== 0 ? 0 : signalBit(info.signo))) >>> 0;
    thread.sp = address;
    return { address, contents, onAltstack: switchStacks || wasOnAltstack };
  }

  /**
   * sys_rt_sigreturn(): read the frame back with the live rights (the handler's), restore the
   * altstack, the rights, the mask and sp. Before the 2024 fix ("x86/pkeys: Restore altstack access
   * in sigreturn()") PKRU was restored first and uc_stack read under it. A bad frame: SIGSEGV.
   */
  private sigreturn(thread: UserThread, address: number): void {
    const keys = this.w.keys;
    const raw = copyFromUser(this.w, thread, address, SIGFRAME_SIZE);
    const frame = typeof raw === 'number' ? undefined : decodeFrame(raw);
    if (!frame) {
      this.badFrame(thread, address, 'rt_sigreturn could not read the frame');
      return;
    }
    let altstack = frame.altstack;
    if (keys && frame.pkru && this.w.policy.restoresRights)
      keys.load(thread.cpu, this.w.policy.sigreturnLoadsInit ? allOpen(keys) : frame.pkru);
    if (!this.w.policy.altstackBeforePkru) {
      const stack = copyFromUser(this.w, thread, address + UC_STACK_OFFSET, UC_STACK_SIZE);
      if (typeof stack === 'number') {
        this.badFrame(thread, address, 'restore_altstack could not read uc_stack with the restored PKRU');
        return;
      }
      altstack = decodeAltstack(stack);
    }
    thread.altstack = altstack;
    thread.blocked = frame.blocked;
    thread.sp = frame.savedSp;
    this.deliverPending(thread);
  }

  private badFrame(thread: UserThread, address: number, why: string): void {
    this.w.kernel.log.info(`${thread.describe()}: bad frame in rt_sigreturn at ${formatAddress(address)}: ${why}`);
    this.force(thread, { signo: SIGSEGV, code: SI_KERNEL });
  }

  /**
   * force_sigsegv() (kernel/signal.c), what signal_setup_done() does when the frame could not be
   * written: SIGSEGV itself is fatal; any other signal turns into a forced SIGSEGV.
   */
  private forceSigsegv(thread: UserThread, signo: number, why: string): void {
    this.w.kernel.log.info(`${thread.describe()}: ${why}`);
    if (signo === SIGSEGV) {
      thread.process.kill({ signo: SIGSEGV, code: SI_KERNEL }, `${why}; force_sigsegv: killed by SIGSEGV`);
      return;
    }
    this.force(thread, { signo: SIGSEGV, code: SI_KERNEL });
  }
}

export function describe(info: SigInfo): string {
  const parts = [signalName(info.signo), segvCodeName(info.code)];
  if (info.addr !== undefined) parts.push(`addr ${formatAddress(info.addr)}`);
  if (info.pkey !== undefined) parts.push(`pkey ${info.pkey}`);
  return parts.join(' ');
}
