import type { z } from 'zod';
import type { AccessResult, Cpu, ExceptionFrame, Kernel } from '@pkeysim/kernel';
import type { SignalContext, UserKernel, UserResult, UserThread } from '@pkeysim/pkeys-user';
import type { BtrfsDebug } from '@pkeysim/btrfs-debug';
import type { MemoryTarget, ThreadRun, YieldRequest } from '../context';
import type { RunEvent } from '../events';
import type { LoadedScenario, PathSegment } from '../load';
import type { Scenario } from '../schema';

/** The data fields an access op or assertion may carry. */
export interface DataLike {
  bytes?: number[] | string;
  text?: string;
  fill?: number;
  length?: number;
}

/** What an op's reference check can ask: names and CPUs declared in the file, checked before anything runs. */
export interface ReferenceChecks {
  readonly scenario: Scenario;
  /** The op's own path (`threads[0].program[3]`); fields are given relative to it. */
  readonly at: readonly PathSegment[];
  /** The op runs in an interrupt, NMI, signal or fault-callback handler (which runs to completion). */
  readonly inHandler: boolean;
  /** The op runs in a signal handler's program. */
  readonly inSignalHandler: boolean;
  /** Report a problem at a field of the op. */
  bad(field: readonly PathSegment[], message: string): void;
  /** A key name must be bound somewhere (numbers are the kernel's to judge). */
  key(ref: string | number | undefined, field?: string): void;
  /** An object or view must be declared or bound somewhere. */
  object(name: string, field?: string): void;
  /** Data at an offset must fit inside its object. */
  fits(v: { object: string; offset: number } & DataLike): void;
  /** A CPU number must exist. */
  cpu(cpu: number | undefined, field?: string): void;
}

/** The names an op binds for the ops after it (checked before the run). */
export interface Bindings {
  key(name: string): void;
  /** An object or view of `bytes` bytes (or of the same size as `sameAs`). */
  object(name: string, bytes: number | { sameAs: string }): void;
}

/** How a call that returns 0, a count or -errno is checked against the op's `expect`. */
export type Call = (expected: string, fn: () => number | void) => number | undefined;

/** Everything an op's `run` may use: the live kernel, the thread running the op and the run's helpers. */
export interface OpContext {
  readonly kernel: Kernel;
  /** The CPU the op runs on. */
  readonly cpu: Cpu;
  readonly run: ThreadRun;
  readonly loaded: LoadedScenario;
  readonly scenario: Scenario;
  /** The op's path in the file. */
  readonly path: readonly PathSegment[];
  /** The op's event in the log (its `result` is set by `done`). */
  readonly event: RunEvent;
  /** User space, when the scenario uses it. */
  readonly userKernel: UserKernel | undefined;
  /** The running thread's user-space side (set for user-space ops, which need a task). */
  readonly user: UserThread;
  /** The Btrfs debugging consumer, when the file has a btrfs_debug section. */
  readonly btrfs: BtrfsDebug | undefined;
  /** Set the op's result in the log. */
  done(result: string): void;
  /** Record an assertion failure at a field of the op. */
  fail(field: readonly PathSegment[], message: string): void;
  /** Run a kernel call and check its 0/-errno result (or thrown KernelError) against `expected`. */
  call: Call;
  /** The signal delivery the op runs in, inside a signal handler's program. */
  readonly signal: SignalContext | undefined;
  /** The exception frame of the key fault the op runs in, inside a fault callback's program. */
  readonly faultFrame: ExceptionFrame | undefined;
  /** The user-space side of another scenario thread, by name (it must be a task that exists by now). */
  userThread(name: string, field: string): UserThread;
  /** Print a line to the event log (as the kernel's log lines are). */
  print(line: string): void;
  /** A key number for a scenario key reference (a name must be bound by now). */
  keyNumber(ref: string | number, field: string): number;
  /** A memory object or view by name (it must exist by now). */
  target(name: string, field: string): MemoryTarget;
  /** Bind a key name (with the scenario's fault mode for supervisor keys). */
  bindKey(name: string, key: number, supervisor: { owner: string } | undefined): void;
  /** Bind an object or view name. */
  bindTarget(target: MemoryTarget): void;
  /** A kernel access: label its faults and check `expected` (at the op's `expect`, or `field`). */
  access(expected: string | undefined, perform: () => AccessResult, field?: readonly PathSegment[]): void;
  /** A user-mode access or syscall that may fault or signal: label its faults and check `expected`. */
  userAccess(expected: string | undefined, perform: () => UserResult<unknown>, field?: readonly PathSegment[]): void;
  /** Copy kernel log lines written so far into the event log. */
  flushLog(): void;
  /** A problem only a run can find (bad input, exit 2), at a field of the op. */
  error(field: readonly PathSegment[], message: string): Error;
}

/**
 * One scenario op in one place: its schema (what the file may say), the names it binds and the
 * references it checks before the run, and what it does when it runs. `userSpace` ops need a
 * thread of kind task and make the run build the kernel's user-space support.
 */
export interface OpSpec<S extends z.ZodType<{ op: string }> = z.ZodType<{ op: string }>> {
  readonly schema: S;
  readonly userSpace?: boolean;
  bind?(op: z.output<S>, names: Bindings): void;
  check?(op: z.output<S>, refs: ReferenceChecks): void;
  /** Run the op; a scheduling op returns what the driver should do next. */
  run(op: z.output<S>, ctx: OpContext): YieldRequest | void;
}

/** Define an op: the schema types `bind`, `check` and `run`. */
export function defineOp<S extends z.ZodType<{ op: string }>>(schema: S, parts: Omit<OpSpec<S>, 'schema'>): OpSpec<S> {
  return { schema, ...parts };
}
