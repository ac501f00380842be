import type { RightsState } from '@pkeysim/core';
import type { Thread } from '../sched/thread';

/** What entered the kernel: a synchronous exception (#PF), a device interrupt, or an NMI. */
export type FrameKind = 'exception' | 'interrupt' | 'nmi';

/**
 * `struct pt_regs_auxiliary` (V9/V10 arch/x86/include/asm/ptrace.h): what the entry code saves
 * beside the registers. `pkrs` is the interrupted context's rights. `windowCounts` (pkeysim's
 * choice, not in the series) saves the interrupted context's access-window nesting counts with
 * them: a handler starts with every key closed, so it must also start with no window counted open.
 */
export interface PtRegsAuxiliary {
  pkrs: RightsState;
  readonly windowCounts: Uint16Array;
}

let nextFrameId = 1;

/** One level of kernel entry: the saved frame (pt_regs) of the context it interrupted. */
export class ExceptionFrame {
  readonly id = nextFrameId++;
  /** False once the frame's handler has returned. */
  live = true;
  constructor(
    readonly kind: FrameKind,
    /** "#PF", "irq 32", "NMI", ... */
    readonly vector: string,
    /** The CPU that took the entry. */
    readonly cpu: number,
    readonly thread: Thread,
    /** 1 for the outermost entry, 2 for one nested inside it, ... */
    readonly depth: number,
    /** Undefined in legacy RFC V1 mode, or when the machine has no supervisor keys. */
    readonly aux: PtRegsAuxiliary | undefined,
    /** The thread's kmap_local stack depth at entry: the handler must unmap what it maps. */
    readonly kmapDepth: number,
  ) {}

  /** The rights the interrupted context resumes with (undefined without an auxiliary area). */
  get savedRights(): RightsState | undefined {
    return this.aux?.pkrs;
  }
}

/** A short description for reports: "#PF (exception, depth 1, CPU 0)". */
export function describeFrame(frame: Pick<ExceptionFrame, 'kind' | 'vector' | 'depth' | 'cpu'>): string {
  return `${frame.vector} (${frame.kind}, depth ${frame.depth}, CPU ${frame.cpu})`;
}
