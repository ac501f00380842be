import type { RightsState } from '@pkeysim/core';
import type { FrameKind } from '../entry/frame-kind';
import type { OopsReport } from '../oops';

// A thread and the exception frames on its stack refer to each other (`thread.frames`,
// `frame.thread`), so both are declared here; entry/frame.ts re-exports the frame for the entry code.

/** A kernel thread, or a user task (which has user state). */
export type ThreadKind = 'kthread' | 'task';
/** Where a thread stands: waiting to run, running on its CPU, or exited. */
export type ThreadState = 'runnable' | 'running' | 'dead';

/** One open access window (kmap_local_page, kmap_atomic or kmap_local_range). */
export interface KmapEntry {
  readonly kind: 'local' | 'atomic';
  readonly address: number;
  readonly length: number;
  /** The keys this window opened (each counted once). */
  readonly keys: readonly number[];
}

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

/** A kernel thread or a task, as the rest of the kernel and its users see it. */
export interface Thread {
  readonly tid: number;
  readonly name: string;
  readonly kind: ThreadKind;
  readonly state: ThreadState;
  /** The CPU whose runqueue holds the thread (where it runs when it runs). */
  readonly cpu: number;
  /** thread_struct.pkrs: the rights the thread runs with, kept current by every update. */
  readonly pkrs: RightsState;
  /** The XSAVE area's PKRU slot (component 9); undefined for kernel threads or without user keys. */
  readonly pkru: RightsState | undefined;
  /** Open entry frames, outermost first. */
  readonly frames: readonly ExceptionFrame[];
  readonly kmaps: readonly KmapEntry[];
  /** Set when the thread died in an oops. */
  readonly oops: OopsReport | undefined;
  /** True for the per-CPU idle thread (swapper/N). */
  readonly idle: boolean;
}

/** The kernel's own, mutable view of a thread. */
export class TaskStruct implements Thread {
  state: ThreadState = 'runnable';
  frames: ExceptionFrame[] = [];
  kmaps: KmapEntry[] = [];
  /** preempt_disable/pagefault_disable depth from kmap_atomic. */
  atomicDepth = 0;
  oops: OopsReport | undefined = undefined;
  /** Per-key nesting counts of open access windows (pgmap_set_readwrite's per-thread count, V10 mm/memremap.c). */
  readonly windowCounts: Uint16Array;

  constructor(
    readonly tid: number,
    readonly name: string,
    readonly kind: ThreadKind,
    public cpu: number,
    public pkrs: RightsState,
    public pkru: RightsState | undefined,
    domains: number,
    readonly idle = false,
  ) {
    this.windowCounts = new Uint16Array(Math.max(domains, 1));
  }

  /** In an interrupt or NMI handler, or inside kmap_atomic: the thread may not sleep or be switched out. */
  get atomic(): boolean {
    return this.atomicDepth > 0 || inHandler(this.frames);
  }
}

/**
 * Whether one of `frames` is an interrupt or NMI handler's (a loop, not `some` with a closure: every
 * context switch asks).
 */
export function inHandler(frames: readonly ExceptionFrame[]): boolean {
  for (let i = 0; i < frames.length; i++) if (frames[i].kind !== 'exception') return true;
  return false;
}

/** "name (tid N)" for messages. */
export function describeThread(thread: Thread): string {
  return `${thread.name} (tid ${thread.tid})`;
}
