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

export interface SchedulerOptions {
  /** Probability of each decision at a step (the rest runs the current thread). */
  readonly preempt?: number;
  readonly migrate?: number;
  readonly interrupt?: number;
}

/**
 * A deterministic, seeded scheduler over thread bodies: at each step it picks a CPU and, from its
 * own mulberry32 stream, runs the current thread to its next preemption point, preempts it, migrates
 * a waiting thread, or delivers an interrupt. The same seed gives the same interleaving.
 */
export class Scheduler {
  private readonly prng: Prng;
  private readonly bodies = new Map<number, Generator<unknown, void, unknown>>();
  private readonly interrupts: InterruptHandler[] = [];
  private stepCount = 0;
  private readonly p: Required<SchedulerOptions>;

  constructor(
    private readonly kernel: Kernel,
    seed = kernel.config.seed,
    options: SchedulerOptions = {},
  ) {
    this.prng = new Prng(seed);
    this.p = { preempt: options.preempt ?? 0.2, migrate: options.migrate ?? 0.1, interrupt: options.interrupt ?? 0.1 };
  }

  /** Give `thread` a body; it runs when the scheduler switches to it. */
  start(thread: Thread, body: ThreadBody): void {
    if (this.bodies.has(thread.tid)) throw new RangeError(`${thread.name} already has a body`);
    const kernel = this.kernel;
    const self: ThreadContext = {
      thread,
      get cpu() {
        return kernel.cpu(thread.cpu);
      },
    };
    this.bodies.set(thread.tid, body(self));
  }

  /** Add an interrupt source the scheduler may deliver at any step. */
  onInterrupt(handler: InterruptHandler): void {
    this.interrupts.push(handler);
  }

  /** True while some thread with a body has not finished. */
  get busy(): boolean {
    return this.bodies.size > 0;
  }

  /** Run until every body finished or `maxSteps` decisions were made; returns the trace. */
  run(maxSteps = 10_000): SchedEvent[] {
    const trace: SchedEvent[] = [];
    while (this.busy && trace.length < maxSteps) trace.push(this.step());
    return trace;
  }

  step(): SchedEvent {
    const step = this.stepCount++;
    const cpu = this.kernel.cpu(this.prng.below(this.kernel.cpuCount));
    const current = cpu.current;
    const roll = this.prng.next();
    const atomic = current.frames.length > 0 || current.kmaps.some((m) => m.kind === 'atomic');
    let edge = this.p.interrupt;
    if (roll < edge && this.interrupts.length > 0) {
      const handler = this.prng.pick(this.interrupts);
      cpu.interrupt((frame) => handler(cpu, frame), `irq ${32 + this.interrupts.indexOf(handler)}`);
      return { step, cpu: cpu.id, action: 'interrupt', thread: current.name };
    }
    edge += this.p.migrate;
    if (roll < edge) {
      const waiting = this.waiting().filter((t) => t.state === 'runnable');
      if (waiting.length > 0 && this.kernel.cpuCount > 1) {
        const thread = this.prng.pick(waiting);
        const target = this.prng.below(this.kernel.cpuCount);
        this.kernel.migrate(thread, target);
        return { step, cpu: target, action: 'migrate', thread: thread.name, detail: `to CPU ${target}` };
      }
    }
    edge += this.p.preempt;
    const runnable = this.waiting().filter((t) => t.state === 'runnable' && t.cpu === cpu.id);
    const body = this.bodies.get(current.tid);
    if ((roll < edge || !body) && runnable.length > 0 && !atomic) {
      const next = this.prng.pick(runnable);
      cpu.switchTo(next);
      return { step, cpu: cpu.id, action: 'preempt', thread: next.name, detail: `from ${current.name}` };
    }
    if (!body) return { step, cpu: cpu.id, action: 'idle', thread: current.name };
    const result = body.next();
    if (result.done || current.state === 'dead') {
      this.bodies.delete(current.tid);
      if (current.state !== 'dead') this.kernel.exitCurrent(cpu.id);
      return { step, cpu: cpu.id, action: 'finish', thread: current.name, detail: current.oops ? 'oops' : undefined };
    }
    return { step, cpu: cpu.id, action: 'run', thread: current.name };
  }

  /** Threads with a body that are not running. */
  private waiting(): Thread[] {
    return this.kernel.threads().filter((t) => this.bodies.has(t.tid) && t.state !== 'running');
  }
}
