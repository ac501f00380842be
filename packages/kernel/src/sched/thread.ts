import type { RightsState } from '@pkeysim/core';
import type { ExceptionFrame } from '../entry/frame';
import type { OopsReport } from '../oops';

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
    return this.atomicDepth > 0 || this.frames.some((f) => f.kind !== 'exception');
  }
}

/** "name (tid N)" for messages. */
export function describeThread(thread: Thread): string {
  return `${thread.name} (tid ${thread.tid})`;
}
