import {
  AccessKind,
  accessKindName,
  type CostModel,
  createMachine,
  formatRightsState,
  listPlugins,
  MachineEvent,
  type Machine,
} from '@pkeysim/core';
import {
  type AccessResult,
  type Cpu,
  type ExceptionFrame,
  Kernel,
  KernelError,
  MAX_ENTRY_DEPTH,
  pksVersionTraits,
  resolveKernelConfig,
  Scheduler,
  type Thread,
} from '@pkeysim/kernel';
import { SA_ONSTACK, type SignalContext, UserKernel, type UserResult, type UserThread } from '@pkeysim/pkeys-user';
import { BtrfsDebug } from '@pkeysim/btrfs-debug';
import { checkExpectations } from './assertions';
import {
  describeOp,
  errnoOfCall,
  errnoOfError,
  type Failure,
  type FaultRecord,
  hex,
  type MemoryTarget,
  runtimeError,
  threadState,
  type ThreadRun,
  type YieldRequest,
} from './context';
import { costModel, costReport, type CostReport } from './costs';
import type { NewEvent, RunEvent } from './events';
import { formatPath, type LoadedScenario, type PathSegment, ScenarioError } from './load';
import { ObservedMachine } from './observe';
import { dataBytes, eachProgram } from './references';
import { budgetMessage, type Limits, resolveLimits } from './limits';
import { type InjectSpec, type Scenario, type ScenarioOp, SIGNALS, USER_SPACE_OPS } from './schema';
import { type OpContext, opSpec, type TableOp } from './ops';
import type { Call } from './ops/spec';
import { RIGHTS_DENIALS } from './format';

/** Options for runScenario. */
export interface RunOptions {
  /** Cycle costs that override the scenario's `costs:` (e.g. from `--costs FILE`). */
  readonly costs?: Readonly<Record<string, number>>;
  /** Run on this architecture plugin instead of `machine.arch` (the same ops, its own semantics). */
  readonly arch?: string;
  /** Budgets for the run (default: the ones the scenario was loaded with, else {@link DEFAULT_LIMITS}). */
  readonly limits?: Partial<Limits>;
  /**
   * Called once per event, right after it is logged, with the machine and kernel as they stand
   * (a recorder snapshots them: @pkeysim/timeline). Events may still be completed later (a fault's
   * outcome); read them from the result. Absent, nothing is done per event.
   */
  readonly observe?: (seq: number, view: RunView) => void;
}

/** What an {@link RunOptions.observe} callback may read: the live machine, kernel and named objects. */
export interface RunView {
  /** The architecture's machine (not the observing decorator). */
  readonly machine: Machine;
  readonly kernel: Kernel;
  /** Scenario key names to key numbers, as bound so far. */
  readonly keys: ReadonlyMap<string, number>;
  /** Memory objects and views created so far, by name. */
  readonly objects: ReadonlyMap<string, MemoryTarget>;
  /** The scenario's cost model (its `costs:` and the run's overrides). */
  readonly costs: CostModel;
}

/** What a run did and whether its assertions held. */
export interface RunResult {
  readonly file: string;
  readonly name: string;
  readonly seed: number;
  readonly events: readonly RunEvent[];
  readonly faults: readonly FaultRecord[];
  /** Assertions that did not hold, in file order; empty when the scenario passed. */
  readonly failures: readonly Failure[];
  readonly passed: boolean;
  readonly costs: CostReport;
  readonly threads: readonly { readonly name: string; readonly state: 'finished' | 'oops' | 'killed' | 'unfinished' }[];
  readonly panic: string | undefined;
  /** Accesses the machine checked, for throughput reports. */
  readonly accesses: number;
}

export { RIGHTS_DENIALS };

/** Thrown through the program stack when the kernel panics: nothing runs after a panic. */
class KernelPanicked extends Error {}

/**
 * Run a loaded scenario on a fresh machine and kernel. The architecture plugin named by
 * `machine.arch` must be registered (import its package, e.g. `@pkeysim/x86`). Throws
 * {@link ScenarioError} for problems only a run can find; assertion failures are in the result.
 */
export function runScenario(loaded: LoadedScenario, options: RunOptions = {}): RunResult {
  return new ScenarioRun(loaded, options).run();
}

class ScenarioRun {
  private readonly s: Scenario;
  private readonly events: RunEvent[] = [];
  private readonly faults: FaultRecord[] = [];
  private readonly failures: Failure[] = [];
  private readonly keys = new Map<string, number>();
  private readonly targets = new Map<string, MemoryTarget>();
  private readonly runs: ThreadRun[] = [];
  private readonly frameStacks = new Map<number, { vector: string; depth: number }[]>();
  private readonly lastOnCpu: string[] = [];
  private readonly warnedKeys = new Set<number>();
  /** Signal deliveries whose handler programs are running (innermost last). */
  private readonly signals: SignalContext[] = [];
  /** Key faults whose fault-callback programs are running (innermost last). */
  private readonly faultFrames: ExceptionFrame[] = [];
  /** The last not-present user fault, until the kernel's handling shows whether it was demand paging. */
  private notPresent: { record: FaultRecord; logMark: number } | undefined;
  private readonly inner: Machine;
  private readonly machine: ObservedMachine;
  private readonly kernel: Kernel;
  /** User space (processes, pkey syscalls, signals), built only when a program uses it. */
  private readonly user: UserKernel | undefined;
  private kernelReady = false;
  private logMark = 0;
  private strayCount = 0;
  private scheduler: Scheduler | undefined;
  private readonly injections = new Map<string, { spec: InjectSpec; index: number }[]>();
  /** The Btrfs debugging consumer, when the scenario has a btrfs_debug section. */
  private btrfs: BtrfsDebug | undefined;
  /** What each CPU is running, for culprit reports: the op's path and note (the program label). */
  private readonly sites: string[] = [];
  private view: RunView | undefined;
  private readonly limits: Limits;
  /** Ops executed plus scheduler steps so far, against `limits.steps`. */
  private steps = 0;

  constructor(
    private readonly loaded: LoadedScenario,
    private readonly options: RunOptions,
  ) {
    this.s = options.arch
      ? { ...loaded.scenario, machine: { ...loaded.scenario.machine, arch: options.arch } }
      : loaded.scenario;
    this.limits = resolveLimits({ ...loaded.limits, ...options.limits });
    const m = this.s.machine;
    // 4-level paging is the default wherever paging levels exist; passing only a different value
    // keeps the scenario runnable on architectures without the option (arm64-poe, power).
    const machineOptions = m.paging_levels === 4 ? {} : { pagingLevels: m.paging_levels };
    try {
      this.inner = createMachine({
        arch: m.arch,
        cpus: m.cpus,
        features: { supervisorDomains: m.features.pks, userDomains: m.features.pku },
        memory: { ramBytes: m.memory, persistentBytes: m.pmem },
        options: machineOptions,
      }).machine;
    } catch (error) {
      throw runtimeError(loaded, ['machine'], `cannot build the machine: ${(error as Error).message}`);
    }
    this.machine = new ObservedMachine(this.inner, {
      access: (cpu, kind, address, length, fault) => this.onAccess(cpu, kind, address, length, fault),
      rightsWrite: (cpu, space, state) =>
        this.emit({
          type: 'rights_write',
          cpu,
          thread: this.threadOn(cpu),
          register: space.info.register,
          value: space.format(state),
          skipped: false,
        }),
      counted: (cpu, event) => this.onCounted(cpu, event),
    });
    const k = this.s.kernel;
    const version = k.pks_version ? pksVersionTraits(k.pks_version) : undefined;
    if (version && k.key_design !== version.keyDesign && k.key_design !== 'dynamic')
      throw runtimeError(
        loaded,
        ['kernel', 'key_design'],
        `${version.title} has ${version.keyDesign} keys, not ${k.key_design}`,
      );
    try {
      const config = resolveKernelConfig({
        arch: m.arch,
        cpus: m.cpus,
        seed: this.s.seed,
        // pks_version decides the design; an entry mode other than the default overrides the version's.
        keyDesign: version ? version.keyDesign : k.key_design,
        entryMode: version && k.entry_mode === 'aux-pt-regs' ? version.entryMode : k.entry_mode,
        ...(k.pks_version ? { pksVersion: k.pks_version } : {}),
        ...(k.page_table_protection !== undefined ? { pageTableProtection: k.page_table_protection } : {}),
        features: { supervisorDomains: m.features.pks, userDomains: m.features.pku },
        machineOptions,
        ...(k.consumers
          ? { consumers: k.consumers.map((c) => ({ name: c.name, key: c.key, defaultRights: c.default })) }
          : {}),
      });
      this.kernel = new Kernel(this.machine, config);
    } catch (error) {
      throw runtimeError(loaded, ['kernel'], `cannot boot the kernel: ${(error as Error).message}`);
    }
    this.kernelReady = true;
    let usesUserSpace = false;
    const plugins = listPlugins().map((p) => p.name);
    eachProgram(this.s, ({ ops, path }) => {
      if (ops.some((o) => (USER_SPACE_OPS as readonly string[]).includes(o.op))) usesUserSpace = true;
      // A per-architecture expectation for a plugin nobody registered would silently never apply.
      ops.forEach((o, i) => {
        const on = o.op === 'check_pkey' || o.op === 'user_access' ? o.on : undefined;
        const unknown = Object.keys(on ?? {}).find((arch) => !plugins.includes(arch));
        if (unknown !== undefined)
          throw runtimeError(
            loaded,
            [...path, i, 'on', unknown],
            `no architecture plugin named "${unknown}" is registered (registered: ${plugins.join(', ')})`,
          );
      });
    });
    this.user = usesUserSpace
      ? new UserKernel(this.kernel, { signalPolicy: k.signal_policy, ptracePkru: k.ptrace_pkru })
      : undefined;
    for (let cpu = 0; cpu < m.cpus; cpu++) this.lastOnCpu[cpu] = this.kernel.cpu(cpu).current.name;
    // Boot is the same for every scenario: the report counts from here.
    this.inner.events.reset();
    if (options.observe) {
      const costs = costModel(this.s.costs, options.costs);
      this.view = { machine: this.inner, kernel: this.kernel, keys: this.keys, objects: this.targets, costs };
    }
    this.s.inject.forEach((spec, index) => {
      const at = `${spec.at.thread}\0${spec.at.op}`;
      this.injections.set(at, [...(this.injections.get(at) ?? []), { spec, index }]);
    });
  }

  run(): RunResult {
    this.setup();
    try {
      if (this.s.schedule.policy === 'random') this.runRandom();
      else this.runRoundRobin();
    } catch (error) {
      if (!(error instanceof KernelPanicked)) throw error;
    }
    this.classifyNotPresent();
    this.flushLog();
    const model = costModel(this.s.costs, this.options.costs);
    const costs = costReport(this.inner.events, model);
    const accesses = this.inner.events.total(MachineEvent.Access) + this.inner.events.total(MachineEvent.Fault);
    this.failures.push(
      ...checkExpectations({
        scenario: this.s,
        loaded: this.loaded,
        kernel: this.kernel,
        machine: this.inner,
        faults: this.faults,
        keys: this.keys,
        targets: this.targets,
        runs: this.runs,
      }),
    );
    this.failures.sort((a, b) => a.line - b.line);
    return {
      file: this.loaded.file,
      name: this.s.name ?? this.loaded.file,
      seed: this.s.seed,
      events: this.events,
      faults: this.faults,
      failures: this.failures,
      passed: this.failures.length === 0,
      costs,
      threads: this.runs.map((r) => ({
        name: r.name,
        state: threadState(r),
      })),
      panic: this.kernel.panic?.reason,
      accesses,
    };
  }

  // --- setup ------------------------------------------------------------------------------------

  private setup(): void {
    const kernel = this.kernel;
    this.s.keys.forEach((spec, i) => {
      const path = ['keys', i];
      let key: number | undefined;
      if (kernel.config.keyDesign === 'static') {
        const owner = spec.owner ?? spec.name;
        key = kernel.keyOf(owner);
        if (key === undefined) {
          const names = kernel
            .pks_keys_allocated()
            .rows.filter((r) => r.key !== 0)
            .map((r) => r.owner);
          throw runtimeError(
            this.loaded,
            [...path, 'owner'],
            `no static consumer "${owner}" (consumers: ${names.join(', ') || 'none'})`,
          );
        }
      } else {
        const result = kernel.pks_key_alloc(spec.owner ?? spec.name);
        if (result < 0) {
          throw runtimeError(
            this.loaded,
            path,
            `pks_key_alloc(${spec.owner ?? spec.name}) failed with ${errnoOfCall(result)} (to test a refusal, allocate in a program with alloc_key ... expect: ${errnoOfCall(result)})`,
          );
        }
        key = result;
      }
      this.bindKey(spec.name, key, spec.fault_mode ?? this.s.kernel.fault_mode, spec.owner ?? spec.name);
    });
    this.s.memory.forEach((spec, i) => {
      const path = ['memory', i];
      let physical: number;
      try {
        physical = kernel.alloc_pages(spec.pages, { persistent: spec.pmem });
      } catch (error) {
        throw runtimeError(this.loaded, path, `cannot allocate ${spec.pages} page(s): ${(error as Error).message}`);
      }
      const address = kernel.page_address(physical);
      this.targets.set(spec.name, {
        name: spec.name,
        address,
        length: spec.pages * 4096,
        physical,
        pages: spec.pages,
        pmem: spec.pmem,
      });
      const bytes = dataBytes(spec);
      if (bytes) this.inner.writePhysical(physical, bytes);
      if (spec.key !== undefined) {
        const key = this.keyNumber(spec.key, [...path, 'key']);
        const result = kernel.set_memory_pks(address, spec.pages, key);
        if (result < 0)
          throw runtimeError(this.loaded, [...path, 'key'], `set_memory_pks failed with ${errnoOfCall(result)}`);
      }
    });
    if (this.s.btrfs_debug) this.setupBtrfsDebug(this.s.btrfs_debug);
    this.s.threads.forEach((spec, i) => {
      const path = ['threads', i, 'program'];
      if (spec.kind === 'task' && this.user) {
        const main = this.user.spawn(spec.name, spec.cpu).main;
        this.addRun(spec.name, main.task, spec.program, path, true, main);
        return;
      }
      const thread =
        spec.kind === 'task' ? kernel.task_create(spec.name, spec.cpu) : kernel.kthread_create(spec.name, spec.cpu);
      this.addRun(spec.name, thread, spec.program, path, true);
    });
    this.flushLog();
  }

  private addRun(
    name: string,
    thread: Thread,
    program: readonly ScenarioOp[],
    path: PathSegment[],
    top: boolean,
    user?: UserThread,
  ): ThreadRun {
    const run: ThreadRun = { name, thread, user, body: undefined, windows: [], sleep: 0, done: false, path };
    run.body = this.program(run, program, path, top);
    this.runs.push(run);
    if (this.scheduler) this.scheduler.start(thread, () => this.randomBody(run));
    return run;
  }

  /** Watch the btrfs_debug objects and declare its writers (reports name the op running on the CPU). */
  private setupBtrfsDebug(spec: NonNullable<Scenario['btrfs_debug']>): void {
    const key = this.keyNumber(spec.key, ['btrfs_debug', 'key']);
    const debug = new BtrfsDebug(this.kernel, { key, mode: spec.mode, callSite: (cpu) => this.sites[cpu] });
    spec.objects.forEach((name, i) => {
      const target = this.target(name, ['btrfs_debug', 'objects', i]);
      debug.watch(name, target.address, target.pages);
    });
    for (const writer of spec.writers) debug.declareWriter(writer);
    this.btrfs = debug;
  }

  /** Bind a key name and install its fault mode: relaxed keys get a callback, strict ones none (oops). */
  private bindKey(name: string, key: number, mode: 'strict' | 'relaxed', owner: string): void {
    this.keys.set(name, key);
    if (mode !== 'relaxed') return;
    this.kernel.pks_set_fault_callback(key, (frame: ExceptionFrame, address: number) => {
      // The series' relaxed pks_fault_mode (V10 mm/memremap.c): WARN once, then open the key in the
      // faulting context with pks_update_exception and let the access go on.
      if (!this.warnedKeys.has(key)) {
        this.warnedKeys.add(key);
        this.kernel.log.warn(
          `pks: key ${key} (${owner}) fault at ${hex(address)}: protection disabled (relaxed fault mode)`,
        );
      }
      return this.kernel.pks_update_exception(frame, key, 0) === 0;
    });
  }

  // --- drivers ----------------------------------------------------------------------------------

  /** Each thread in declaration order (forked children after), each until it yields, round after round. */
  private runRoundRobin(): void {
    const maxRounds = this.s.schedule.max_steps;
    for (let round = 0; this.runs.some((r) => !r.done); round++) {
      if (round >= maxRounds) {
        this.fail(['schedule', 'max_steps'], `the threads did not finish within ${maxRounds} rounds`);
        return;
      }
      for (let i = 0; i < this.runs.length; i++) {
        const run = this.runs[i];
        if (run.done) continue;
        this.step(['schedule', 'max_steps']);
        if (run.sleep > 0) {
          run.sleep--;
          continue;
        }
        const cpu = this.kernel.cpu(run.thread.cpu);
        if (cpu.current !== run.thread && !this.switchTo(cpu, run)) return;
        const step = run.body!.next();
        if (step.done || dead(run)) this.finish(run);
        else if (step.value.kind === 'exit') this.finish(run);
        else if (step.value.kind === 'sleep') run.sleep = step.value.rounds;
        else if (step.value.kind === 'migrate') {
          const target = step.value.cpu;
          if (!this.switchTo(cpu, undefined)) return;
          this.kernel.migrate(run.thread, target);
          this.emit({
            type: 'sched',
            cpu: target,
            thread: run.name,
            action: 'migrate',
            detail: `from CPU ${cpu.id} to CPU ${target}`,
          });
        }
      }
    }
  }

  /** The kernel's seeded scheduler: the seed decides every preemption, migration and interrupt. */
  private runRandom(): void {
    const sched = this.s.schedule;
    const scheduler = new Scheduler(this.kernel, this.s.seed, {
      preempt: sched.preempt,
      migrate: sched.migrate,
      interrupt: sched.interrupt,
    });
    this.scheduler = scheduler;
    for (const run of this.runs) scheduler.start(run.thread, () => this.randomBody(run));
    sched.interrupts?.forEach((source, i) =>
      scheduler.onInterrupt((cpu) =>
        this.drain(this.program(this.runOn(cpu), source.program, ['schedule', 'interrupts', i, 'program'], false)),
      ),
    );
    let steps = 0;
    while (scheduler.busy) {
      if (steps++ >= sched.max_steps) {
        this.fail(['schedule', 'max_steps'], `the threads did not finish within ${sched.max_steps} scheduler steps`);
        return;
      }
      this.step(['schedule', 'max_steps']);
      let event;
      try {
        event = scheduler.step();
      } catch (error) {
        if (error instanceof KernelError) {
          this.fail(['schedule'], `the kernel refused a scheduling step: ${error.message}`);
          return;
        }
        throw error;
      }
      if (event.action === 'migrate') {
        this.emit({
          type: 'sched',
          cpu: event.cpu,
          thread: event.thread ?? '',
          action: 'migrate',
          detail: event.detail ?? '',
        });
      }
      if (event.action === 'finish') {
        const run = this.runs.find((r) => r.name === event.thread);
        if (run) run.done = true;
      }
    }
    for (const run of this.runs) run.done = true;
  }

  /** A program under the random scheduler: every op is a preemption point. */
  private *randomBody(run: ThreadRun): Generator<unknown, void, unknown> {
    for (const request of run.body!) {
      if (request.kind === 'exit') return;
      const times = request.kind === 'sleep' ? request.rounds : 1;
      for (let i = 0; i < times; i++) yield;
    }
  }

  /** Context-switch `cpu` to `run` (or its idle thread); a refusal (scheduling while atomic) ends the run. */
  private switchTo(cpu: Cpu, run: ThreadRun | undefined): boolean {
    const next = run ? run.thread : this.kernel.idle(cpu.id);
    try {
      cpu.switchTo(next);
      return true;
    } catch (error) {
      if (!(error instanceof KernelError)) throw error;
      const blocker = this.runs.find((r) => r.thread === cpu.current);
      this.fail(blocker?.path ?? ['threads'], error.message);
      for (const r of this.runs) r.done = true;
      return false;
    }
  }

  private finish(run: ThreadRun): void {
    run.done = true;
    const thread = run.thread;
    if (dead(run)) return;
    const cpu = this.kernel.cpu(thread.cpu);
    if (cpu.current !== thread && !this.switchTo(cpu, run)) return;
    try {
      if (run.user) run.user.exit();
      else this.kernel.exitCurrent(thread.cpu);
    } catch (error) {
      if (!(error instanceof KernelError)) throw error;
      this.fail(run.path, `${run.name} could not exit: ${error.message}`);
    }
  }

  // --- programs ---------------------------------------------------------------------------------

  /** A program as a generator: it yields at preemption points and returns when the program ends or the thread dies. */
  private *program(
    run: ThreadRun,
    ops: readonly ScenarioOp[],
    path: PathSegment[],
    top: boolean,
  ): Generator<YieldRequest, void, unknown> {
    for (let i = 0; i < ops.length; i++) {
      const at = [...path, i];
      if (top) this.inject(run, i);
      if (dead(run)) return;
      run.path = at;
      this.step(at);
      const request = yield* this.op(run, ops[i], at);
      this.flushLog();
      if (this.kernel.panic) throw new KernelPanicked();
      if (dead(run)) return;
      if (request) {
        yield request;
        if (request.kind === 'exit') return;
      }
    }
  }

  /** Run a handler's program to completion (handlers cannot yield; the loader rejects it). */
  private drain(body: Generator<YieldRequest, void, unknown>): void {
    for (const request of body) throw new Error(`a handler program yielded (${request.kind})`);
  }

  /** The scenario thread running on a CPU, or a stand-in for an unnamed kernel thread. */
  private runOn(cpu: Cpu): ThreadRun {
    const thread = cpu.current;
    return (
      this.runs.find((r) => r.thread === thread) ?? {
        name: thread.name,
        thread,
        body: undefined,
        windows: [],
        sleep: 0,
        done: false,
        path: [],
      }
    );
  }

  private cpuOf(run: ThreadRun): Cpu {
    return this.kernel.cpu(run.thread.cpu);
  }

  private *op(
    run: ThreadRun,
    op: ScenarioOp,
    path: PathSegment[],
  ): Generator<YieldRequest, YieldRequest | undefined, unknown> {
    const cpu = this.cpuOf(run);
    const event = this.emit({
      type: 'op',
      cpu: cpu.id,
      thread: this.threadOn(cpu.id),
      path: formatPath(path),
      op: op.op,
      detail: describeOp(op),
      result: '',
    });
    this.sites[cpu.id] = `${run.name} ${formatPath(path)}${op.note ? ` (${op.note})` : ''}`;
    const done = (result: string) => {
      if (event.type === 'op') event.result = result;
    };
    const expectCall = (expected: string, got: string) => {
      done(got);
      if (expected !== got) this.fail([...path, 'expect'], `${op.op}: expected ${expected}, got ${got}`);
    };
    const call = (expected: string, fn: () => number | void): number | undefined => {
      try {
        const r = fn();
        expectCall(expected, typeof r === 'number' ? errnoOfCall(r) : 'ok');
        if (typeof r === 'number' && r > 0) done(`ok (${r})`);
        return typeof r === 'number' ? r : 0;
      } catch (error) {
        expectCall(expected, errnoOfError(error));
        if (error instanceof KernelError)
          this.emit({
            type: 'log',
            cpu: cpu.id,
            thread: this.threadOn(cpu.id),
            line: `(${error.code}) ${error.message}`,
          });
        return undefined;
      }
    };

    const spec = opSpec(op.op);
    if (spec) {
      if (spec.userSpace && !run.user) {
        throw runtimeError(
          this.loaded,
          [...path, 'op'],
          `${op.op} is a user-space op: it runs in a thread of kind task (this is ${run.thread.kind === 'task' ? 'a handler of' : 'a kernel thread'} ${run.name})`,
        );
      }
      return spec.run(op as never, this.opContext(run, cpu, path, event, done, call)) ?? undefined;
    }

    const driven = op as Exclude<ScenarioOp, TableOp>;
    switch (driven.op) {
      case 'migrate':
        if (this.scheduler)
          throw runtimeError(
            this.loaded,
            [...path, 'op'],
            'migrate needs schedule policy round-robin (the random scheduler migrates on its own)',
          );
        return { kind: 'migrate', cpu: driven.cpu };
      case 'interrupt':
      case 'nmi': {
        const vector = driven.op === 'nmi' ? 'NMI' : (driven.vector ?? 'irq');
        this.handler(cpu, driven.op, vector, driven.program, [...path, 'program']);
        return undefined;
      }
      case 'fork': {
        let child: Thread | undefined;
        let userChild: UserThread | undefined;
        call('ok', () => {
          if (run.user && this.user) {
            userChild = this.user.fork(run.user, driven.name, driven.cpu ?? run.thread.cpu).main;
            child = userChild.task;
          } else child = this.kernel.fork(run.thread, driven.name, driven.cpu ?? run.thread.cpu);
        });
        if (child) {
          this.addRun(driven.name, child, driven.program, [...path, 'program'], false, userChild);
          done(`${driven.name} (tid ${child.tid}) on CPU ${child.cpu}`);
        }
        return undefined;
      }
      case 'repeat': {
        for (let i = 0; i < driven.times; i++) {
          yield* this.program(run, driven.program, [...path, 'program'], false);
          if (dead(run)) return undefined;
        }
        return undefined;
      }
      case 'signal': {
        const user = run.user;
        if (!user)
          throw runtimeError(
            this.loaded,
            [...path, 'op'],
            `signal is a user-space op: it runs in a thread of kind task (this is ${run.thread.kind === 'task' ? 'a handler of' : 'a kernel thread'} ${run.name})`,
          );
        const signo = SIGNALS[driven.signo];
        const handlerPath = [...path, 'handler'];
        call('ok', () =>
          user.sigaction(signo, {
            handler: (signal) =>
              // The handler runs in the thread the signal is delivered to (any thread of the process).
              this.inSignal(signal, () =>
                this.drain(this.program(this.runOfUser(signal.thread) ?? run, driven.handler, handlerPath, false)),
              ),
          }),
        );
        this.userAccess(event, [...path, 'op'], undefined, () => user.raise(signo));
        return undefined;
      }
      case 'sigaction': {
        const user = this.requireUser(run, path, 'sigaction');
        const handlerPath = [...path, 'handler'];
        const program = driven.handler;
        call('ok', () =>
          user.sigaction(SIGNALS[driven.signo], {
            handler: (signal) =>
              // The handler runs in the thread the signal is delivered to (any thread of the process).
              this.inSignal(signal, () =>
                this.drain(this.program(this.runOfUser(signal.thread) ?? run, program, handlerPath, false)),
              ),
            flags: driven.flags?.includes('onstack') ? SA_ONSTACK : 0,
          }),
        );
        return undefined;
      }
      case 'clone': {
        const user = this.requireUser(run, path, 'clone');
        const stack = this.target(driven.stack, [...path, 'stack']);
        let child: UserThread | undefined;
        call('ok', () => {
          child = user.clone(driven.name, {
            cpu: driven.cpu ?? run.thread.cpu,
            stack: stack.address + (driven.sp ?? stack.length),
          });
        });
        if (child) {
          this.addRun(driven.name, child.task, driven.program, [...path, 'program'], false, child);
          done(`${driven.name} (tid ${child.tid}) on CPU ${child.cpu}`);
        }
        return undefined;
      }
      case 'set_fault_callback': {
        const key = this.keyNumber(driven.key, [...path, 'key']);
        const program = driven.program;
        const programPath = [...path, 'program'];
        const handled = driven.handled ?? true;
        call('ok', () =>
          this.kernel.pks_set_fault_callback(key, (frame: ExceptionFrame) => {
            const cpuId = Array.from({ length: this.kernel.cpuCount }, (_, i) => i).find((i) =>
              this.kernel.cpu(i).current.frames.includes(frame),
            );
            const faulting = this.runOn(this.kernel.cpu(cpuId ?? cpu.id));
            this.faultFrames.push(frame);
            try {
              this.drain(this.program(faulting, program, programPath, false));
            } finally {
              this.faultFrames.pop();
            }
            return handled;
          }),
        );
        return undefined;
      }
      default: {
        // Every op is either in the table (ops/) or one of the cases above: a new one is a compile error here.
        const unhandled: never = driven;
        throw runtimeError(
          this.loaded,
          [...path, 'op'],
          `op ${(unhandled as ScenarioOp).op} is not supported by this runner`,
        );
      }
    }
  }

  /** The user side of the running thread, or bad input naming the op that needs it. */
  private requireUser(run: ThreadRun, path: PathSegment[], name: string): UserThread {
    if (run.user) return run.user;
    throw runtimeError(
      this.loaded,
      [...path, 'op'],
      `${name} is a user-space op: it runs in a thread of kind task (this is ${run.thread.kind === 'task' ? 'a handler of' : 'a kernel thread'} ${run.name})`,
    );
  }

  /** The scenario thread of a user thread (a signal's receiver). */
  private runOfUser(user: UserThread): ThreadRun | undefined {
    return this.runs.find((r) => r.user === user);
  }

  /** Run a signal handler's program with its delivery context visible to the ops inside it. */
  private inSignal(signal: SignalContext, body: () => void): void {
    this.signals.push(signal);
    try {
      body();
    } finally {
      this.signals.pop();
    }
  }

  /** What a table op's `run` sees: the kernel, the thread and CPU, and the run's helpers bound to the op. */
  private opContext(
    run: ThreadRun,
    cpu: Cpu,
    path: PathSegment[],
    event: RunEvent,
    done: (result: string) => void,
    call: Call,
  ): OpContext {
    const at = (field: readonly PathSegment[]) => [...path, ...field];
    const loaded = this.loaded;
    return {
      kernel: this.kernel,
      cpu,
      run,
      loaded,
      scenario: this.s,
      path,
      event,
      userKernel: this.user,
      get user(): UserThread {
        if (!run.user) throw runtimeError(loaded, [...path, 'op'], `${run.name} is not a user-space task`);
        return run.user;
      },
      btrfs: this.btrfs,
      done,
      fail: (field, message) => this.fail(at(field), message),
      call,
      signal: this.signals[this.signals.length - 1],
      faultFrame: this.faultFrames[this.faultFrames.length - 1],
      userThread: (name, field) => {
        const other = this.runs.find((r) => r.name === name);
        if (!other?.user)
          throw runtimeError(loaded, at([field]), `"${name}" is not a user-space thread that exists at this point`);
        return other.user;
      },
      print: (line) => this.emit({ type: 'log', cpu: cpu.id, thread: run.name, line }),
      keyNumber: (ref, field) => this.keyNumber(ref, at([field])),
      target: (name, field) => this.target(name, at([field])),
      bindKey: (name, key, supervisor) => {
        if (supervisor) this.bindKey(name, key, this.s.kernel.fault_mode, supervisor.owner);
        else this.keys.set(name, key);
      },
      bindTarget: (target) => this.targets.set(target.name, target),
      access: (expected, perform, field = ['expect']) => this.access(event, at(field), expected, perform),
      userAccess: (expected, perform, field = ['expect']) => this.userAccess(event, at(field), expected, perform),
      flushLog: () => this.flushLog(),
      error: (field, message) => runtimeError(loaded, at(field), message),
    };
  }

  /** A user-mode access or syscall: label its faults and check the op's expectation. */
  private userAccess(
    event: RunEvent,
    expectPath: PathSegment[],
    expected: string | undefined,
    perform: () => UserResult<unknown>,
  ): void {
    this.classifyNotPresent();
    const before = this.faults.length;
    let result: UserResult<unknown>;
    try {
      result = perform();
    } catch (error) {
      // The kernel refused the request itself (an address no access can name, a thread that is not running).
      if (error instanceof KernelError) throw runtimeError(this.loaded, expectPath.slice(0, -1), error.message);
      throw error;
    }
    this.classifyNotPresent();
    const fresh = this.faults.slice(before).filter((f) => f.event.outcome === 'pending');
    const signals = [...result.signals, ...(!result.ok && result.fatal ? [result.fatal] : [])];
    fresh.forEach((f, i) => {
      // A thread that exits from its handler ended the access there: the fault was handled, not fatal.
      f.event.outcome = !result.ok && result.fate !== 'exited' && i === fresh.length - 1 ? 'killed' : 'handled';
      // A not-present page has no key in its PTE: the kernel reports the VMA's (si_pkey).
      const pkey =
        f.key === undefined ? signals.find((s) => s.addr === f.address && s.pkey !== undefined)?.pkey : undefined;
      if (pkey !== undefined) {
        (f as { key: number | undefined }).key = pkey;
        (f.event as { key: number | null }).key = pkey;
      }
    });
    const got = result.ok ? (result.signals.length > 0 && fresh.length > 0 ? 'handled' : 'ok') : result.fate;
    const shown = result.signals.map((s) => `signal ${s.signo}`).join(', ');
    if (event.type === 'op')
      event.result = `${got}${shown ? ` (${shown})` : ''}${result.ok ? '' : `: ${result.detail}`}`;
    if (expected !== undefined && expected !== got)
      this.fail(expectPath, `expected ${expected}, got ${got}${result.ok ? '' : `: ${result.detail}`}`);
  }

  private handler(
    cpu: Cpu,
    kind: 'interrupt' | 'nmi',
    vector: string,
    program: readonly ScenarioOp[],
    path: PathSegment[],
  ): void {
    const run = this.runOn(cpu);
    // The kernel bounds nesting (MAX_ENTRY_DEPTH); say so at the op instead of failing inside it.
    if (cpu.current.frames.length >= MAX_ENTRY_DEPTH)
      throw runtimeError(
        this.loaded,
        path.slice(0, -1),
        `${kind} nested ${cpu.current.frames.length + 1} deep: the kernel allows at most ${MAX_ENTRY_DEPTH} nested entries`,
      );
    const body = () => this.drain(this.program(run, program, path, false));
    if (kind === 'nmi') cpu.nmi(body);
    else cpu.interrupt(body, vector);
  }

  /** Perform an access, label the faults it raised, and check the op's expectation. */
  private access(
    event: RunEvent,
    expectPath: PathSegment[],
    expected: string | undefined,
    perform: () => AccessResult,
  ): void {
    this.classifyNotPresent();
    const before = this.faults.length;
    const result = perform();
    this.classifyNotPresent();
    const fresh = this.faults.slice(before).filter((f) => f.event.outcome === 'pending');
    fresh.forEach((f, i) => {
      f.event.outcome = !result.ok && i === fresh.length - 1 ? result.oops.severity : 'handled';
    });
    const got = result.ok ? (result.handledFaults > 0 ? 'handled' : 'ok') : result.oops.severity;
    if (event.type === 'op')
      event.result = result.ok && result.handledFaults > 0 ? `handled (${result.handledFaults} fault)` : got;
    if (expected !== undefined && expected !== got)
      this.fail(expectPath, `expected ${expected}, got ${got}${result.ok ? '' : `: ${result.oops.reason}`}`);
  }

  // --- injections -------------------------------------------------------------------------------

  private inject(run: ThreadRun, opIndex: number): void {
    const list = this.injections.get(`${run.name}\0${opIndex}`);
    if (!list) return;
    for (const { spec, index } of list) {
      if (dead(run) || this.kernel.panic) return;
      const cpu = this.cpuOf(run);
      const path: PathSegment[] = ['inject', index];
      if (spec.kind === 'stray_write') {
        this.strayWrite(run, spec, path);
        continue;
      }
      const vector = spec.kind === 'nmi' ? 'NMI' : (spec.vector ?? 'irq');
      this.emit({
        type: 'inject',
        cpu: cpu.id,
        thread: this.threadOn(cpu.id),
        kind: spec.kind,
        detail: `${vector}${spec.note ? ` (${spec.note})` : ''}`,
      });
      this.handler(cpu, spec.kind, vector, spec.program, [...path, 'program']);
      this.flushLog();
      if (this.kernel.panic) throw new KernelPanicked();
    }
  }

  /** A write from unrelated kernel code: a fresh kernel thread on another CPU (or this one) writes the object. */
  private strayWrite(run: ThreadRun, spec: Extract<InjectSpec, { kind: 'stray_write' }>, path: PathSegment[]): void {
    const cpus = this.kernel.cpuCount;
    const cpuId = spec.cpu ?? (cpus > 1 ? (run.thread.cpu + 1) % cpus : run.thread.cpu);
    const cpu = this.kernel.cpu(cpuId);
    const address = this.address(spec.object, spec.offset, [...path, 'object']);
    const bytes = dataBytes(spec)!;
    const stray = this.kernel.kthread_create(`stray/${++this.strayCount}`, cpuId);
    const previous = cpu.current;
    this.emit({
      type: 'inject',
      cpu: cpuId,
      thread: previous.name,
      kind: 'stray_write',
      detail: `${bytes.length} byte(s) to ${spec.object}+${spec.offset} from ${stray.name}${spec.note ? ` (${spec.note})` : ''}`,
    });
    const strayRun: ThreadRun = {
      name: stray.name,
      thread: stray,
      body: undefined,
      windows: [],
      sleep: 0,
      done: true,
      path,
    };
    if (!this.switchTo(cpu, strayRun)) return;
    this.sites[cpuId] = `${stray.name} ${formatPath(path)}${spec.note ? ` (${spec.note})` : ''}`;
    const event = this.emit({
      type: 'op',
      cpu: cpuId,
      thread: stray.name,
      path: formatPath(path),
      op: 'write',
      detail: `object=${spec.object} offset=${spec.offset}`,
      result: '',
    });
    this.access(event, path, undefined, () => cpu.write(address, bytes));
    this.flushLog();
    if (this.kernel.panic) throw new KernelPanicked();
    if (stray.state !== 'dead') this.kernel.exitCurrent(cpuId);
    if (!previous.idle && previous.state !== 'dead' && cpu.current !== previous) {
      const back = this.runs.find((r) => r.thread === previous);
      this.switchTo(cpu, back);
    }
  }

  // --- names ------------------------------------------------------------------------------------

  keyNumber(ref: string | number, path: PathSegment[]): number {
    if (typeof ref === 'number') return ref;
    const key = this.keys.get(ref);
    if (key === undefined)
      throw runtimeError(
        this.loaded,
        path,
        `key "${ref}" is not bound at this point (its alloc_key has not run, or failed)`,
      );
    return key;
  }

  private target(name: string, path: PathSegment[]): MemoryTarget {
    const target = this.targets.get(name);
    if (!target)
      throw runtimeError(this.loaded, path, `"${name}" does not exist at this point (its map has not run, or failed)`);
    return target;
  }

  private address(name: string, offset: number, path: PathSegment[]): number {
    return this.target(name, path).address + offset;
  }

  // --- events -----------------------------------------------------------------------------------

  private threadOn(cpu: number): string {
    return this.kernelReady ? this.kernel.cpu(cpu).current.name : 'boot';
  }

  private emit<E extends NewEvent>(event: E): RunEvent {
    this.flushLog();
    this.keepEvent();
    const full = { seq: this.events.length, ...event } as RunEvent;
    this.events.push(full);
    if (this.view) this.options.observe!(full.seq, this.view);
    return full;
  }

  /** Stop the run before the log outgrows the events budget. */
  private keepEvent(): void {
    if (this.events.length >= this.limits.events)
      throw runtimeError(
        this.loaded,
        [],
        `the run's event log ${budgetMessage('events', this.events.length + 1, this.limits.events)}`,
      );
  }

  /** Count one op or scheduler step; stop the run once it would pass the steps budget. */
  private step(path: readonly PathSegment[]): void {
    if (++this.steps > this.limits.steps)
      throw runtimeError(this.loaded, path, `the run ${budgetMessage('steps', this.steps, this.limits.steps)}`);
  }

  /** Kernel log lines written since the last event, as events (so WARNs and oopses sit where they happened). */
  private flushLog(): void {
    if (!this.kernelReady) return;
    const lines = this.kernel.log.lines();
    while (this.logMark < lines.length) {
      const line = lines[this.logMark++];
      this.keepEvent();
      this.events.push({ seq: this.events.length, type: 'log', cpu: -1, thread: '', line });
      if (this.view) this.options.observe!(this.events.length - 1, this.view);
    }
  }

  private objectAt(address: number): { object: string; offset: number } | undefined {
    for (const t of this.targets.values()) {
      if (address >= t.address && address < t.address + t.length)
        return { object: t.name, offset: address - t.address };
    }
    return undefined;
  }

  private onAccess(
    cpu: number,
    kind: AccessKind,
    address: number,
    length: number,
    fault: ReturnType<Machine['lastFault']>,
  ): void {
    this.classifyNotPresent();
    const key = this.inner.translate(this.inner.activeSpace(cpu), address)?.domain ?? null;
    const hit = this.objectAt(address);
    const object = hit ? `${hit.object}+${hit.offset}` : null;
    const thread = this.threadOn(cpu);
    const access = accessKindName(kind);
    this.emit({
      type: 'access',
      cpu,
      thread,
      access,
      address: hex(address),
      length,
      key,
      object,
      allowed: fault === undefined,
    });
    if (!fault) return;
    const event = this.emit({
      type: 'fault',
      cpu,
      thread,
      access,
      address: hex(fault.address),
      key,
      object,
      cause: fault.cause,
      summary: fault.summary,
      outcome: 'pending',
    }) as Extract<RunEvent, { type: 'fault' }>;
    const record: FaultRecord = {
      thread,
      cpu,
      address: fault.address,
      key: key ?? undefined,
      object: hit?.object,
      access,
      event,
    };
    this.faults.push(record);
    // A not-present fault on user memory is demand paging when the kernel maps the page in, but a
    // SIGSEGV (SEGV_PKUERR, SEGV_ACCERR) when the VMA refuses it (arch/x86/mm/fault.c access_error):
    // which one, the kernel decides; see classifyNotPresent.
    if (fault.cause === 'not-present' && kind !== AccessKind.Fetch && address >= 0)
      this.notPresent = { record, logMark: this.kernel.log.lines().length };
  }

  /**
   * Decide the last not-present user fault, once the kernel has handled it: the fault path logs
   * "segfault at ADDR" before it forces SIGSEGV (UserThread.userMode), and maps the page in
   * otherwise. Demand paging is logged but not counted; a refused fault stays a fault.
   */
  private classifyNotPresent(): void {
    const pending = this.notPresent;
    if (!pending) return;
    this.notPresent = undefined;
    const line = `segfault at ${hex(pending.record.address)}`;
    if (this.kernel.log.since(pending.logMark).some((l) => l.includes(line))) return;
    pending.record.event.outcome = 'handled';
    const index = this.faults.lastIndexOf(pending.record);
    if (index >= 0) this.faults.splice(index, 1);
  }

  private onCounted(cpu: number, event: MachineEvent): void {
    if (!this.kernelReady) return;
    const thread = this.kernel.cpu(cpu).current;
    switch (event) {
      case MachineEvent.ContextSwitch: {
        const from = this.lastOnCpu[cpu];
        this.lastOnCpu[cpu] = thread.name;
        this.emit({ type: 'switch', cpu, thread: thread.name, from, to: thread.name });
        break;
      }
      case MachineEvent.ExceptionEntry: {
        const frame = thread.frames[thread.frames.length - 1];
        const stack = this.frameStacks.get(thread.tid) ?? [];
        stack.push({ vector: frame.vector, depth: frame.depth });
        this.frameStacks.set(thread.tid, stack);
        const saved = frame.aux ? formatRightsState(frame.aux.pkrs) : null;
        this.emit({
          type: 'entry',
          cpu,
          thread: thread.name,
          kind: frame.kind,
          vector: frame.vector,
          depth: frame.depth,
          saved,
        });
        break;
      }
      case MachineEvent.ExceptionExit: {
        const frame = this.frameStacks.get(thread.tid)?.pop();
        this.emit({ type: 'exit', cpu, thread: thread.name, vector: frame?.vector ?? '?', depth: frame?.depth ?? 0 });
        break;
      }
      case MachineEvent.RightsWriteSkipped: {
        const cached = this.kernel.cachedRights(cpu);
        const space = this.kernel.space;
        this.emit({
          type: 'rights_write',
          cpu,
          thread: thread.name,
          register: space?.info.register ?? 'rights',
          value: cached && space ? space.format(cached) : '',
          skipped: true,
        });
        break;
      }
      default:
        break;
    }
  }

  private fail(path: readonly PathSegment[], message: string): void {
    this.failures.push({ line: this.loaded.source.lineOf(path), path: formatPath(path), message });
  }
}

/** The thread died (an oops): its program stops. A function, so the checker does not narrow across ops. */
function dead(run: ThreadRun): boolean {
  return run.thread.state === 'dead' || (run.user !== undefined && !run.user.alive);
}

export { hexBytes } from './format';
export { ScenarioError };
