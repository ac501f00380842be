import type { DomainSpace, RightsState, UserPkeyAbi } from '@pkeysim/core';
import { recordingView, registeredUserPkeyAbi } from './arch-abi';
import { KernelError } from '@pkeysim/kernel';
import type { Kernel } from '@pkeysim/kernel';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE, UserErrno } from './abi';
import { USER_STACK_SIZE, USER_STACK_TOP } from './layout';
import { type CallerRights, UserMm } from './mm';
import { UserProcess } from './process';
import { Ptrace } from './ptrace';
import { enabledUserKeySpace, keyCount, resolveInitRights } from './rights';
import { type SignalPolicy, type SignalPolicyName, signalPolicy } from './signal-policy';
import { SignalDelivery } from './signals';
import { UserThread } from './thread';
import { type PtracePkruMode, ptracePkruMode } from './regset';
import type { UserEnv, UserWorld } from './world';

/** Options for the user-space kernel model: the signal policy and the initial PKRU. */
export interface UserKernelOptions {
  /** How signal delivery treats PKRU (default 'mainline'). */
  readonly signalPolicy?: SignalPolicyName;
  /** init_pkru_value (boot parameter init_pkru=); the architecture's initial state when omitted. */
  readonly initPkru?: RightsState;
  /** For the 'lockdown' policy: keys a handler keeps the interrupted rights for (default [0]). */
  readonly lockdownGlobalKeys?: readonly number[];
  /** The user-space pkey ABI; by default the one the kernel's architecture plugin registers. */
  readonly abi?: UserPkeyAbi;
  /** How PTRACE_SETREGSET NT_X86_XSTATE treats PKRU (default 'mainline'; 'ignored-5.14': the 5.14..6.1 regression). */
  readonly ptracePkru?: PtracePkruMode;
}

/** A caller for set-up work no user thread asked for (the exec'd stack): it never touches keys. */
const NO_CALLER: CallerRights = {
  read: () => {
    throw new KernelError('EINVAL', 'internal: exec set-up has no calling thread');
  },
  write: () => {
    throw new KernelError('EINVAL', 'internal: exec set-up has no calling thread');
  },
};

/**
 * User-space protection keys on a kernel: processes with address spaces, threads on the kernel's
 * CPUs (PKRU in each task's XSAVE slot, switched by the kernel's context switch), the pkey
 * syscalls, user faults and signals. Build one per kernel: `new UserKernel(kernel, options)`.
 */
export class UserKernel {
  readonly keys: DomainSpace | undefined;
  /** The architecture's user-space pkey ABI (undefined exactly when `keys` is). */
  readonly abi: UserPkeyAbi | undefined;
  readonly policy: SignalPolicy;
  private init: RightsState | undefined;
  private readonly world: UserWorld;
  private readonly list: UserProcess[] = [];

  constructor(
    readonly kernel: Kernel,
    options: UserKernelOptions = {},
  ) {
    const machine = kernel.machine;
    const space = enabledUserKeySpace(machine);
    const abi = space ? (options.abi ?? registeredUserPkeyAbi(kernel)) : undefined;
    if (space && abi?.spaceId !== space.info.id) {
      kernel.log.info(
        abi
          ? `user keys: the ${abi.arch} pkey ABI speaks for ${abi.spaceId}, not ${space.info.id}; pkeys disabled`
          : `user keys: ${kernel.config.arch} registers no user-space pkey ABI; pkeys disabled`,
      );
    }
    const usable = space && abi?.spaceId === space.info.id ? space : undefined;
    this.abi = usable ? abi : undefined;
    // A register shared with the kernel (POWER AMR) keeps each thread's user value in its task.
    this.keys =
      usable && usable.info.governs === 'shared'
        ? recordingView(usable, (cpu, state) => {
            const current = kernel.cpu(cpu).current;
            if (this.world.threads.get(current.tid)?.task === current) kernel.userTasks.saveUserRights(current, state);
          })
        : usable;
    const globals = options.lockdownGlobalKeys ?? [0];
    const count = keyCount(this.keys);
    if (!Array.isArray(globals) || !globals.every((k) => Number.isInteger(k) && k >= 0 && k < Math.max(count, 16))) {
      throw new KernelError(
        'EINVAL',
        `lockdownGlobalKeys must be keys 0..${Math.max(count, 16) - 1}, got ${JSON.stringify(globals)}`,
      );
    }
    this.policy = signalPolicy(options.signalPolicy ?? 'mainline', globals, this.abi);
    this.init = resolveInitRights(this.keys, options.initPkru, this.abi);
    let pid = 1;
    const env: UserEnv = {
      kernel,
      machine,
      keys: this.keys,
      abi: this.abi,
      policy: this.policy,
      ptracePkru: ptracePkruMode(options.ptracePkru),
      initPkru: () => this.init,
      threads: new Map(),
      processes: this.list,
      nextPid: () => pid++,
    };
    const world: UserWorld = { ...env, signals: new SignalDelivery(env) };
    this.world = world;
    // switch_mm(): a user thread runs in its process's address space. Kernel threads keep the
    // previous one (lazy TLB, kernel/sched/core.c context_switch).
    kernel.onContextSwitch((cpu, _prev, next) => {
      const thread = world.threads.get(next.tid);
      if (thread && thread.task === next && machine.activeSpace(cpu) !== thread.process.mm.space) {
        machine.activate(cpu, thread.process.mm.space);
      }
      // The shared register: the switch wrote the kernel's value; the thread returns to its own.
      const saved = thread?.task === next ? next.pkru : undefined;
      if (this.keys && this.keys.info.governs === 'shared' && saved) usable?.load(cpu, saved);
    });
  }

  /** True when pkeys work: the CPUs enumerate user keys and the kernel switched them on (OSPKE). */
  get supported(): boolean {
    return this.keys !== undefined;
  }
  /** init_pkru_value: what new processes and signal handlers start with. */
  get initPkru(): RightsState | undefined {
    return this.init;
  }
  /** Write init_pkru (the debugfs file): 0, or -EINVAL for rights on key 0 or a bad value. */
  setInitPkru(state: RightsState): number {
    try {
      this.init = resolveInitRights(this.keys, state, this.abi);
    } catch (error) {
      if (error instanceof KernelError) return error.errno;
      throw error;
    }
    return 0;
  }

  /** The processes created so far. */
  processes(): readonly UserProcess[] {
    return this.list;
  }
  /** The user thread with `tid`, if any. */
  threadOf(tid: number): UserThread | undefined {
    return this.world.threads.get(tid);
  }

  /**
   * exec a new program: a process with a fresh address space, a 64 KiB stack at USER_STACK_TOP and
   * one thread on `cpu`'s runqueue whose XSAVE PKRU slot holds init_pkru_value. Not yet running.
   */
  spawn(name: string, cpu = 0): UserProcess {
    const task = this.kernel.task_create(name, cpu);
    const mm = new UserMm(this.kernel.machine, this.keys, this.abi);
    const stack = mm.mmap(
      NO_CALLER,
      USER_STACK_TOP - USER_STACK_SIZE,
      USER_STACK_SIZE,
      PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
    );
    if (stack < 0) throw new KernelError('EINVAL', `exec: could not map the stack (${stack})`);
    const process = new UserProcess(this.world, this.world.nextPid(), name, mm);
    const thread = new UserThread(this.world, process, task, USER_STACK_TOP);
    if (this.init) thread.setSavedRights(this.init);
    process.addThread(thread);
    this.list.push(process);
    return process;
  }

  /**
   * fork() by `parent`: a copy of its process (memory copied, keys and execute-only key kept,
   * signal actions kept) with one thread that inherits the caller's PKRU (fpu_clone) and sigaltstack.
   */
  fork(parent: UserThread, name: string, cpu = parent.cpu): UserProcess {
    parent.requireRunning('fork');
    const task = this.kernel.fork(parent.task, name, cpu);
    const process = new UserProcess(this.world, this.world.nextPid(), name, parent.process.mm.fork());
    process.copyActionsFrom(parent.process);
    const child = new UserThread(this.world, process, task, parent.sp);
    child.altstack = parent.altstack;
    child.blocked = parent.blocked;
    process.addThread(child);
    this.list.push(process);
    return process;
  }

  /** Run `thread` on its CPU (a context switch; its address space and PKRU come with it). */
  switchTo(thread: UserThread): void {
    this.kernel.cpu(thread.cpu).switchTo(thread.task);
  }

  /**
   * PTRACE_ATTACH by `tracer` to `tracee`, which must be in another process: a Ptrace handle, or
   * -EPERM (same thread group) / -ESRCH (dead).
   */
  ptraceAttach(tracer: UserThread, tracee: UserThread): Ptrace | number {
    if (!tracee.alive) return -UserErrno.ESRCH;
    if (tracer.process === tracee.process) return -UserErrno.EPERM;
    return new Ptrace(this.world, tracer, tracee);
  }
}
