import type { Cpu } from '../cpu';
import type { ExceptionFrame } from '../entry/frame';
import type { Kernel } from '../kernel';
import { Prng } from '../prng';
import type { Thread } from './thread';

/** What a thread body sees: itself and the CPU it is running on right now (it may migrate between steps). */
export interface ThreadContext {
  readonly thread: Thread;
  readonly cpu: Cpu;
}

/** A thread's program. Every `yield` is a preemption point. */
export type ThreadBody = (self: ThreadContext) => Generator<unknown, void, unknown>;

/** An interrupt source: what its handler does on the CPU it hits. */
export type InterruptHandler = (cpu: Cpu, frame: ExceptionFrame) => void;

/** One scheduling decision, for traces. */
export interface SchedEvent {
  readonly step: number;
  readonly cpu: number;
  readonly action: 'run' | 'finish' | 'preempt' | 'migrate' | 'interrupt' | 'idle';
  readonly thread?: string;
  readonly detail?: string;
}

/** Options for the seeded scheduler: the per-step probabilities of its decisions. */
export interface SchedulerOptions {
  /** Probability of each decision at a step (the rest runs the current thread). */
  readonly preempt?: number;
  readonly migrate?: number;
  readonly interrupt?: number;
}

/** The decisions {@link Scheduler.advance} returns, as numbers (no object per step). */
export const SchedAction = {
  Run: 0,
  Finish: 1,
  Preempt: 2,
  Migrate: 3,
  Interrupt: 4,
  Idle: 5,
} as const;
export type SchedAction = (typeof SchedAction)[keyof typeof SchedAction];

const ACTION_NAMES: readonly SchedEvent['action'][] = ['run', 'finish', 'preempt', 'migrate', 'interrupt', 'idle'];

/** A thread the scheduler still runs: its body is not finished. */
interface LiveThread {
  readonly thread: Thread;
  readonly body: Generator<unknown, void, unknown>;
  /** The CPU whose runnable count includes the thread, or -1 while it is not counted (running or dead). */
  countedOn: number;
}

/**
 * What a body sees as `self`: a class rather than an object literal with a getter, so each start()
 * builds a plain instance of one shape (a literal's accessor is defined anew for every object).
 */
class BodyContext implements ThreadContext {
  constructor(
    readonly thread: Thread,
    private readonly kernel: Kernel,
  ) {}

  get cpu(): Cpu {
    return this.kernel.cpu(this.thread.cpu);
  }
}

/**
 * A deterministic, seeded scheduler over thread bodies: at each step it picks a CPU and, from its
 * own mulberry32 stream, runs the current thread to its next preemption point, preempts it, migrates
 * a waiting thread, or delivers an interrupt. The same seed gives the same interleaving.
 *
 * Cost: a step looks only at the threads whose bodies have not finished (kept in tid order, the
 * order its picks are made in), so it is O(live threads) and a finished thread is forgotten; the
 * runnable counts a preemption or migration needs are kept current as the kernel reports each
 * thread's state or CPU change (Kernel.watchRunqueue), so no step recounts them. A step allocates
 * nothing: {@link advance} returns a number and leaves the decision in fields; the
 * {@link SchedEvent} of {@link step} and the trace of {@link run} are built only for callers that ask.
 */
export class Scheduler {
  private readonly prng: Prng;
  /** Threads with an unfinished body, in tid order. */
  private readonly live: LiveThread[] = [];
  /** The same records by tid (a finished thread's slot is emptied): the current thread's body in O(1). */
  private readonly byTid: (LiveThread | undefined)[] = [];
  private readonly interrupts: InterruptHandler[] = [];
  /** "irq 32", "irq 33", ...: each source's vector, made once. */
  private readonly vectors: string[] = [];
  private stepCount = 0;
  private readonly pInterrupt: number;
  private readonly pMigrate: number;
  private readonly pPreempt: number;
  // The last decision, for step()'s event: the CPU, the thread it concerns and the one it replaced.
  private lastCpu = 0;
  private lastThread: Thread | undefined;
  private lastOther: Thread | undefined;
  private lastDetail = 0;
  /** Runnable live threads per CPU, and anywhere in the last slot (see LiveThread.countedOn). */
  private readonly counts: Int32Array;

  constructor(
    private readonly kernel: Kernel,
    seed = kernel.config.seed,
    options: SchedulerOptions = {},
  ) {
    this.prng = new Prng(seed);
    this.pInterrupt = options.interrupt ?? 0.1;
    this.pMigrate = options.migrate ?? 0.1;
    this.pPreempt = options.preempt ?? 0.2;
    this.counts = new Int32Array(kernel.cpuCount + 1);
    kernel.watchRunqueue((thread) => {
      const entry = this.byTid[thread.tid];
      if (entry !== undefined && entry.thread === thread) this.recount(entry);
    });
  }

  /** Give `thread` a body; it runs when the scheduler switches to it. */
  start(thread: Thread, body: ThreadBody): void {
    if (this.byTid[thread.tid] !== undefined) throw new RangeError(`${thread.name} already has a body`);
    const entry: LiveThread = { thread, body: body(new BodyContext(thread, this.kernel)), countedOn: -1 };
    this.byTid[thread.tid] = entry;
    const live = this.live;
    let at = live.length;
    live.push(entry);
    for (; at > 0 && live[at - 1].thread.tid > thread.tid; at--) live[at] = live[at - 1];
    live[at] = entry;
    this.recount(entry);
  }

  /** Add an interrupt source the scheduler may deliver at any step. */
  onInterrupt(handler: InterruptHandler): void {
    this.interrupts.push(handler);
    this.vectors.push(`irq ${32 + this.interrupts.length - 1}`);
  }

  /** True while some thread with a body has not finished. */
  get busy(): boolean {
    return this.live.length > 0;
  }

  /** Threads whose bodies have not finished (what a step looks at). */
  get liveThreads(): number {
    return this.live.length;
  }

  /** Run until every body finished or `maxSteps` decisions were made; returns the trace. */
  run(maxSteps = 10_000): SchedEvent[] {
    const trace: SchedEvent[] = [];
    while (this.busy && trace.length < maxSteps) trace.push(this.step());
    return trace;
  }

  /** Run like {@link run} without building a trace; returns the number of decisions made. */
  runQuietly(maxSteps = 10_000): number {
    let steps = 0;
    while (this.live.length > 0 && steps < maxSteps) {
      this.advance();
      steps++;
    }
    return steps;
  }

  /** One decision, as an event (built from the fields {@link advance} leaves). */
  step(): SchedEvent {
    const step = this.stepCount;
    const action = this.advance();
    const cpu = this.lastCpu;
    const thread = this.lastThread?.name;
    switch (action) {
      case SchedAction.Interrupt:
        return { step, cpu, action: 'interrupt', thread };
      case SchedAction.Migrate:
        return { step, cpu, action: 'migrate', thread, detail: `to CPU ${this.lastDetail}` };
      case SchedAction.Preempt:
        return { step, cpu, action: 'preempt', thread, detail: `from ${this.lastOther!.name}` };
      case SchedAction.Finish:
        return { step, cpu, action: 'finish', thread, detail: this.lastDetail === 1 ? 'oops' : undefined };
      default:
        return { step, cpu, action: ACTION_NAMES[action], thread };
    }
  }

  /** One decision; what it did is the returned {@link SchedAction}. Allocates nothing. */
  advance(): SchedAction {
    this.stepCount++;
    const kernel = this.kernel;
    const prng = this.prng;
    const cpuCount = kernel.cpuCount;
    const cpu = kernel.cpus[prng.below(cpuCount)];
    const current = cpu.current;
    const roll = prng.next();
    this.lastCpu = cpu.id;
    this.lastThread = current;
    this.lastOther = undefined;
    let edge = this.pInterrupt;
    if (roll < edge && this.interrupts.length > 0) {
      const which = prng.below(this.interrupts.length);
      this.deliver(cpu, this.interrupts[which], this.vectors[which]);
      return SchedAction.Interrupt;
    }
    edge += this.pMigrate;
    if (roll < edge) {
      const waiting = this.countRunnable(-1);
      if (waiting > 0 && cpuCount > 1) {
        const thread = this.nthRunnable(-1, prng.below(waiting));
        const target = prng.below(cpuCount);
        kernel.migrate(thread, target);
        this.lastCpu = target;
        this.lastThread = thread;
        this.lastDetail = target;
        return SchedAction.Migrate;
      }
    }
    edge += this.pPreempt;
    const own = this.byTid[current.tid];
    const mine = own !== undefined && own.thread === current ? own : undefined;
    if ((roll < edge || mine === undefined) && !isAtomic(current)) {
      const runnable = this.countRunnable(cpu.id);
      if (runnable > 0) {
        const next = this.nthRunnable(cpu.id, prng.below(runnable));
        cpu.switchTo(next);
        this.lastThread = next;
        this.lastOther = current;
        return SchedAction.Preempt;
      }
    }
    if (mine === undefined) return SchedAction.Idle;
    const result = mine.body.next();
    if (result.done || current.state === 'dead') {
      this.forget(mine);
      if (current.state !== 'dead') kernel.exitCurrent(cpu.id);
      this.lastDetail = current.oops ? 1 : 0;
      return SchedAction.Finish;
    }
    return SchedAction.Run;
  }

  /** Deliver an interrupt: entry, the handler, exit (also when it throws), as Cpu.interrupt does. */
  private deliver(cpu: Cpu, handler: InterruptHandler, vector: string): void {
    const frame = cpu.enter('interrupt', vector);
    try {
      handler(cpu, frame);
    } finally {
      if (frame.live && !this.kernel.panic) cpu.exit(frame);
    }
  }

  /** Live threads that are runnable (not running, not dead), on `cpu`'s runqueue or anywhere (-1). */
  private countRunnable(cpu: number): number {
    const counts = this.counts;
    return counts[cpu < 0 ? counts.length - 1 : cpu];
  }

  /** Make the counts include `entry`'s thread as it stands now (and only once). */
  private recount(entry: LiveThread): void {
    const counts = this.counts;
    const any = counts.length - 1;
    if (entry.countedOn >= 0) {
      counts[entry.countedOn]--;
      counts[any]--;
    }
    const t = entry.thread;
    if (t.state === 'runnable') {
      counts[t.cpu]++;
      counts[any]++;
      entry.countedOn = t.cpu;
    } else entry.countedOn = -1;
  }

  /** The body finished: the thread leaves the live list (keeping tid order) and the counts. */
  private forget(entry: LiveThread): void {
    const live = this.live;
    let at = live.indexOf(entry);
    for (; at < live.length - 1; at++) live[at] = live[at + 1];
    live.pop();
    this.byTid[entry.thread.tid] = undefined;
    if (entry.countedOn >= 0) {
      const counts = this.counts;
      counts[entry.countedOn]--;
      counts[counts.length - 1]--;
      entry.countedOn = -1;
    }
  }

  /** The `n`th (0-based, in tid order) of the threads {@link countRunnable} counts. */
  private nthRunnable(cpu: number, n: number): Thread {
    const live = this.live;
    for (let i = 0; i < live.length; i++) {
      const t = live[i].thread;
      if (t.state === 'runnable' && (cpu < 0 || t.cpu === cpu) && n-- === 0) return t;
    }
    throw new RangeError(`no runnable thread number ${n}`);
  }
}

/** In a handler or a kmap_atomic section: the thread may not be switched out. */
function isAtomic(thread: Thread): boolean {
  if (thread.frames.length > 0) return true;
  const kmaps = thread.kmaps;
  for (let i = 0; i < kmaps.length; i++) if (kmaps[i].kind === 'atomic') return true;
  return false;
}
