import { echoValue, type EventCounters, MachineEvent, type RightsState } from '@pkeysim/core';
import { KernelError } from '../errors';
import type { PanicStatus } from '../panic';
import type { LiveRights } from '../rights/live';
import type { PkrsWriter } from '../rights/pkrs-writer';
import type { Sched } from '../sched/sched';
import { describeThread } from '../sched/thread';
import { requireOneOf } from '../validate';
import { ExceptionFrame, type FrameKind, type PtRegsAuxiliary } from './frame';

const DEFAULT_VECTOR: Record<FrameKind, string> = { exception: '#PF', interrupt: 'irq', nmi: 'NMI' };
const FRAME_KINDS: readonly FrameKind[] = ['exception', 'interrupt', 'nmi'];

/**
 * The deepest nesting of entries on one thread. Linux counts nested hard interrupts in
 * preempt_count's HARDIRQ field, 4 bits wide (include/linux/preempt.h: HARDIRQ_BITS 4), so at most
 * 15 nest, plus NMI (NMI_BITS 4) and exceptions taken inside them: 32 frames is past anything the
 * kernel can reach, and stops a runaway caller before memory grows.
 */
export const MAX_ENTRY_DEPTH = 32;

/**
 * Kernel entry and exit for exceptions, interrupts and NMIs, nested to any depth. Frames live on the
 * interrupted thread's stack, so a thread switched out in a (sleepable) exception handler resumes it
 * on whichever CPU it next runs on.
 */
export class EntryCode {
  /** The all-zero window counts every entry without an open window saves (see saveWindowCounts). */
  private noWindows: Uint16Array | undefined;
  /**
   * @param savesRights entry saves the interrupted rights in pt_regs_auxiliary and runs the handler
   *   at `initValue` (V9/V10 with supervisor keys working; not RFC V1's legacy entry)
   */
  constructor(
    private readonly savesRights: boolean,
    private readonly initValue: RightsState,
    private readonly sched: Sched,
    private readonly writer: PkrsWriter,
    private readonly live: LiveRights,
    private readonly events: EventCounters,
    private readonly panic: PanicStatus,
  ) {}

  enter(cpu: number, kind: FrameKind, vector?: string): ExceptionFrame {
    this.panic.assertRunning();
    requireOneOf(kind, FRAME_KINDS, 'enter: kind');
    if (vector !== undefined && typeof vector !== 'string')
      throw new KernelError('EINVAL', `enter: vector must be a string, got ${echoValue(vector)}`);
    const thread = this.sched.current(cpu);
    if (thread.frames.length >= MAX_ENTRY_DEPTH) {
      throw new KernelError(
        'EINVAL',
        `enter ${kind}: ${describeThread(thread)} on CPU ${cpu} already has ${thread.frames.length} nested frames (the limit is ${MAX_ENTRY_DEPTH})`,
      );
    }
    vector ??= DEFAULT_VECTOR[kind];
    let aux: PtRegsAuxiliary | undefined;
    if (this.savesRights) {
      // V9/V10 pkrs_save_irq(): save the thread's PKRS in pt_regs_auxiliary, then run the handler
      // with PKS_INIT_VALUE. RFC V1 skipped this ("not saved/restored during irqs").
      aux = { pkrs: thread.pkrs, windowCounts: this.saveWindowCounts(thread.windowCounts) };
      thread.pkrs = this.initValue;
      this.writer.write(cpu, this.live.of(cpu));
    }
    const frame = new ExceptionFrame(kind, vector, cpu, thread, thread.frames.length + 1, aux, thread.kmaps.length);
    thread.frames.push(frame);
    this.events.count(cpu, MachineEvent.ExceptionEntry);
    return frame;
  }

  /** Return from the innermost frame on `cpu`. With `frame`, checks that it is that frame. */
  exit(cpu: number, frame?: ExceptionFrame): void {
    this.panic.assertRunning();
    const thread = this.sched.current(cpu);
    const top = thread.frames[thread.frames.length - 1];
    if (!top) {
      throw new KernelError(
        'EINVAL',
        `exit without entry: ${describeThread(thread)} on CPU ${cpu} has no open exception frame`,
      );
    }
    if (frame && frame !== top) {
      const why = frame.live
        ? `is not the innermost frame of ${describeThread(thread)} on CPU ${cpu} (that is ${top.vector} at depth ${top.depth})`
        : 'has already returned';
      throw new KernelError('EINVAL', `unbalanced exit: frame ${frame.vector} at depth ${frame.depth} ${why}`);
    }
    if (thread.kmaps.length > top.kmapDepth) {
      throw new KernelError(
        'EINVAL',
        `exit from ${top.vector} with ${thread.kmaps.length - top.kmapDepth} kmap_local mapping(s) still open: a handler must kunmap what it kmaps`,
      );
    }
    thread.frames.pop();
    top.live = false;
    if (top.aux) {
      // V9/V10 pkrs_restore_irq(): the interrupted context resumes with the saved (possibly
      // pks_update_exception-updated) value, in the thread and in the MSR.
      thread.pkrs = top.aux.pkrs;
      thread.windowCounts.set(top.aux.windowCounts);
      this.writer.write(cpu, this.live.of(cpu));
    }
    this.events.count(cpu, MachineEvent.ExceptionExit);
  }

  /**
   * The counts to save in the frame, leaving the thread's at zero. Most entries interrupt a context
   * with no window open: they all share one all-zero array (only ever read, by exit()), so an
   * interrupt allocates no copy.
   */
  private saveWindowCounts(counts: Uint16Array): Uint16Array {
    let open = false;
    for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) open = true;
    if (open) {
      const saved = counts.slice();
      counts.fill(0);
      return saved;
    }
    if (this.noWindows === undefined || this.noWindows.length !== counts.length)
      this.noWindows = new Uint16Array(counts.length);
    return this.noWindows;
  }
}
