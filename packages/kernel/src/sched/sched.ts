import { type DomainSpace, type EventCounters, MachineEvent, type RightsState } from '@pkeysim/core';
import { KernelError } from '../errors';
import type { PanicStatus } from '../panic';
import type { PkrsWriter } from '../rights/pkrs-writer';
import { rightsSavedPerThread } from '../rights/scope';
import { describeThread, type Thread, type ThreadKind, TaskStruct } from './thread';

/** Called after every context switch on `cpu`, once `next` is current (e.g. switch_mm for user processes). */
export type ContextSwitchHook = (cpu: number, prev: Thread, next: Thread) => void;

/** Per-CPU scheduler state: the running thread and the idle thread. */
interface CpuState {
  current: TaskStruct;
  readonly idle: TaskStruct;
}

/**
 * Threads and the context switch. The scheduler owns the CPUs' current threads and every thread:
 * it alone writes them, and other services read them through {@link current}, {@link idleOf},
 * {@link threads} and {@link alive}. Rights travel with threads: `thread.pkrs` is always current
 * (every update writes it), so a switch only loads the next thread's value.
 */
export class Sched {
  private nextTid = 1;
  /** Consumers' context-switch hooks, in registration order (see Kernel.onContextSwitch). */
  readonly switchHooks: ContextSwitchHook[] = [];
  /** The PKRU every kernel thread runs with (the user space's init value), built once. */
  private kthreadPkru: RightsState | undefined;
  /** Per CPU, 1 while PKRU holds the kernel threads' init value as the scheduler loaded it. */
  private readonly holdsKthreadPkru: Uint8Array;
  private readonly cpus: CpuState[] = [];
  /** Every thread ever created, by tid - 1 (kernel.threads()). */
  private readonly all: TaskStruct[] = [];
  /** The threads not dead, in no particular order: what per-thread scans walk (rights/live.ts). */
  private readonly live: TaskStruct[] = [];
  /** Whether a switch restores the next thread's rights (computed once: it never changes). */
  private readonly restoresRights: boolean;
  /**
   * Bumped whenever a thread's state or runqueue changes (create, switch, migrate, death): a reader
   * that derived something from them (the Scheduler's runnable counts) knows when to derive again.
   */
  runqueueVersion = 0;
  /**
   * Told about each thread whose state or runqueue just changed (after the change): what lets a
   * scheduler keep its runnable counts current without scanning its threads (Kernel.watchRunqueue).
   */
  private readonly watchers: ((thread: TaskStruct) => void)[] = [];

  constructor(
    cpuCount: number,
    private readonly events: EventCounters,
    private readonly writer: PkrsWriter,
    space: DomainSpace | undefined,
    private readonly userSpace: DomainSpace | undefined,
    private readonly initValue: RightsState,
    private readonly domains: number,
    private readonly panic: PanicStatus,
  ) {
    this.restoresRights = rightsSavedPerThread(space);
    // Boot loads init_pkru_value on every CPU (Kernel.boot) before anything is scheduled.
    this.holdsKthreadPkru = new Uint8Array(cpuCount).fill(1);
    for (let cpu = 0; cpu < cpuCount; cpu++) {
      // The per-CPU idle thread (swapper/N) is what each CPU runs at boot.
      const idle = this.create(`swapper/${cpu}`, 'kthread', cpu, undefined, true);
      idle.state = 'running';
      this.cpus.push({ current: idle, idle });
    }
  }

  get cpuCount(): number {
    return this.cpus.length;
  }

  /** The thread running on `cpu` (during a handler: the interrupted thread). */
  current(cpu: number): TaskStruct {
    return this.cpus[cpu].current;
  }

  /** `cpu`'s idle thread (swapper/N). */
  idleOf(cpu: number): TaskStruct {
    return this.cpus[cpu].idle;
  }

  /** Every thread created so far, in tid order. */
  get threads(): readonly TaskStruct[] {
    return this.all;
  }

  /** The threads not dead, in no particular order. */
  get alive(): readonly TaskStruct[] {
    return this.live;
  }

  /**
   * kthread_create(): a kernel thread starts at PKS_INIT_VALUE (V6..V10 pks_init_task(), called
   * from copy_thread for every new thread) and has no user state.
   */
  kthreadCreate(name: string, cpu: number): TaskStruct {
    this.checkNewThread(name, cpu);
    return this.create(name, 'kthread', cpu, undefined);
  }

  /** A new user task (as exec leaves one): PKRS at PKS_INIT_VALUE, PKRU at init_pkru_value. */
  taskCreate(name: string, cpu: number): TaskStruct {
    this.checkNewThread(name, cpu);
    return this.create(name, 'task', cpu, this.userSpace?.initialState());
  }

  /**
   * fork(): PKRS is NOT inherited, the child starts at PKS_INIT_VALUE (pks_init_task in copy_thread);
   * PKRU IS inherited, because the XSAVE area is copied (arch/x86/kernel/fpu/core.c fpu_clone; the
   * pkeys selftest checks it after fork()). A running parent's live PKRU is saved first.
   */
  fork(parent: Thread, name: string, cpu = parent.cpu): TaskStruct {
    const p = this.own(parent);
    if (p.state === 'dead') throw new KernelError('EINVAL', `fork: ${describeThread(p)} is dead`);
    this.checkNewThread(name, cpu);
    let pkru = p.pkru;
    if (pkru !== undefined && p.state === 'running' && this.userSpace) pkru = this.userSpace.read(p.cpu);
    return this.create(name, p.kind === 'kthread' ? 'kthread' : 'task', cpu, p.kind === 'kthread' ? undefined : pkru);
  }

  /** Call `watcher` with each thread whose state or runqueue changes, after the change. */
  watchRunqueue(watcher: (thread: TaskStruct) => void): void {
    this.watchers.push(watcher);
  }

  /** A thread's state or runqueue changed: bump the version and tell the watchers. */
  private changed(thread: TaskStruct): void {
    this.runqueueVersion++;
    const watchers = this.watchers;
    for (let i = 0; i < watchers.length; i++) watchers[i](thread);
  }

  /** Move a thread that is not running to another CPU's runqueue. */
  migrate(thread: Thread, cpu: number): void {
    const t = this.own(thread);
    this.checkCpu(cpu);
    if (t.idle) throw new KernelError('EINVAL', `migrate: ${describeThread(t)} is a per-CPU idle thread`);
    if (t.state === 'dead') throw new KernelError('EINVAL', `migrate: ${describeThread(t)} is dead`);
    if (t.state === 'running') {
      throw new KernelError('EBUSY', `migrate: ${describeThread(t)} is running on CPU ${t.cpu}; switch it out first`);
    }
    t.cpu = cpu;
    this.changed(t);
  }

  /** __switch_to(): run `next` on `cpu`. */
  switchTo(cpu: number, next: Thread): void {
    this.checkCpu(cpu);
    this.panic.assertRunning();
    const n = this.own(next);
    const prev = this.cpus[cpu].current;
    if (n === prev) return;
    if (n.state === 'dead') throw new KernelError('EINVAL', `switch: ${describeThread(n)} is dead`);
    if (n.state === 'running')
      throw new KernelError('EBUSY', `switch: ${describeThread(n)} is already running on CPU ${n.cpu}`);
    if (n.cpu !== cpu) {
      throw new KernelError(
        'EINVAL',
        `switch: ${describeThread(n)} is on CPU ${n.cpu}'s runqueue, not CPU ${cpu}'s; migrate it first`,
      );
    }
    if (prev.atomic) {
      throw new KernelError(
        'EINVAL',
        `BUG: scheduling while atomic: ${describeThread(prev)} on CPU ${cpu} is in an interrupt/NMI handler or kmap_atomic section`,
      );
    }
    this.load(cpu, prev, n);
  }

  /** Switch without the sleep checks: the CPU abandons `prev` (it died in an oops). */
  forceSwitch(cpu: number, next: TaskStruct): void {
    this.load(cpu, this.cpus[cpu].current, next);
  }

  own(thread: Thread): TaskStruct {
    const t = this.all[thread.tid - 1];
    if (t === undefined || t !== thread)
      throw new KernelError('EINVAL', `thread ${String(thread?.tid)} does not belong to this kernel`);
    return t;
  }

  checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus.length) {
      throw new KernelError('EINVAL', `CPU ${String(cpu)} does not exist (0..${this.cpus.length - 1})`);
    }
  }

  private load(cpu: number, prev: TaskStruct, next: TaskStruct): void {
    const user = this.userSpace;
    if (user) {
      // PKRU is XSAVE component 9: saved with prev's extended state, restored with next's.
      if (prev.pkru !== undefined) prev.pkru = user.read(cpu);
      if (next.pkru !== undefined) {
        user.load(cpu, next.pkru);
        this.holdsKthreadPkru[cpu] = 0;
      }
      // A kernel thread runs with the init PKRU, not the previous task's: copy_thread() sets its
      // thread.pkru = pkru_get_init_value() and x86_pkru_load() writes it on the switch
      // ("x86/fpu: Add PKRU storage outside of task XSAVE buffer", 5.14).
      else if (next.kind === 'kthread' && this.holdsKthreadPkru[cpu] === 0) {
        // write_pkru() skips the WRPKRU when PKRU already holds the value (arch/x86/include/asm/pkru.h);
        // Linux compares with RDPKRU, the scheduler remembers what it loaded (no modelled read).
        user.load(cpu, (this.kthreadPkru ??= user.initialState()));
        this.holdsKthreadPkru[cpu] = 1;
      }
    }
    // V10 __switch_to: pkrs_write_current() right after the PKRU switch. Rights global to the
    // address space (contextSave 'none') are not per thread: there is nothing to restore.
    if (this.restoresRights) this.writer.write(cpu, next.pkrs);
    if (prev.state === 'running') prev.state = 'runnable';
    next.state = 'running';
    next.cpu = cpu;
    this.cpus[cpu].current = next;
    this.changed(prev);
    this.changed(next);
    this.events.count(cpu, MachineEvent.ContextSwitch);
    const hooks = this.switchHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i](cpu, prev, next);
  }

  /** The thread is dead: it leaves the live set (its TaskStruct stays for kernel.threads()). */
  bury(thread: TaskStruct): void {
    thread.state = 'dead';
    this.changed(thread);
    const alive = this.live;
    const at = alive.indexOf(thread);
    if (at >= 0) {
      alive[at] = alive[alive.length - 1];
      alive.pop();
    }
  }

  private checkNewThread(name: string, cpu: number): void {
    if (typeof name !== 'string' || name === '') throw new KernelError('EINVAL', 'a thread needs a name');
    this.checkCpu(cpu);
  }

  private create(name: string, kind: ThreadKind, cpu: number, pkru: TaskStruct['pkru'], idle = false): TaskStruct {
    const t = new TaskStruct(this.nextTid++, name, kind, cpu, this.initValue, pkru, this.domains, idle);
    this.all.push(t);
    this.live.push(t);
    this.changed(t);
    return t;
  }
}
