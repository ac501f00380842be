import {
  ACCESS_OK,
  AccessKind,
  type Denials,
  Deny,
  echoValue,
  MachineEvent,
  Privilege,
  type RightsState,
} from '@pkeysim/core';
import { KernelError } from '@pkeysim/kernel';
import { requireAddress, requireInteger, requireOneOf } from '@pkeysim/kernel';
import { formatAddress } from '@pkeysim/kernel';
import { describeThread, type Thread } from '@pkeysim/kernel';
import {
  MINSIGSTKSZ,
  MODELLED_SIGNALS,
  PKEY_ACCESS_MASK,
  SI_TKILL,
  SIGSEGV,
  SS_AUTODISARM,
  SS_DISABLE,
  SS_ONSTACK,
  UserErrno,
} from './abi';
import { TASK_SIZE } from './layout';
import type { CallerRights } from './mm';
import type { UserProcess } from './process';
import { denialsOfInitRights } from './rights';
import { type AltStack, type SigInfo } from './sigframe';
import { type SigAction, signalBit, type SignalHandler } from './signals';
import { futexWait } from './futex';
import { copyToUser, copyFromUser, getUserPages } from './uaccess';
import type { UserWorld } from './world';

/** The most bytes one user access or copy moves here: MAX_RW_COUNT in Linux (INT_MAX & PAGE_MASK, include/linux/fs.h). */
const MAX_USER_COPY = 0x7ffff000;

/**
 * The outcome of something a thread does in user mode. A fault that a handler dealt with is
 * retried (the CPU re-executes the instruction after sigreturn); `signals` lists every signal
 * delivered to a handler meanwhile. Otherwise the thread died: killed by a signal, or it exited
 * (from a handler), or the same access kept faulting after its handler returned.
 */
export type UserResult<T> =
  | { readonly ok: true; readonly value: T; readonly signals: readonly SigInfo[] }
  | {
      readonly ok: false;
      readonly fate: 'killed' | 'exited' | 'stuck';
      readonly signals: readonly SigInfo[];
      /** The signal that killed the process, when one did. */
      readonly fatal: SigInfo | undefined;
      readonly detail: string;
    };

/** After this many handled faults on one access the model stops (the CPU would loop forever). */
export const MAX_FAULT_RETRIES = 8;

/** Options of clone(CLONE_VM | CLONE_THREAD | ...): where the new thread runs and its stack. */
export interface CloneOptions {
  readonly cpu?: number;
  /** The new thread's stack pointer (the top of a stack the caller mapped). */
  readonly stack: number;
}

function withoutValue<T>(r: UserResult<T>): UserResult<void> {
  return r.ok ? { ok: true, value: undefined, signals: r.signals } : r;
}

/**
 * One thread of a user process: a kernel task (scheduled on the kernel's CPUs, with its PKRU in the
 * task's XSAVE slot while it is not running) plus its user-mode state: stack pointer, sigaltstack,
 * signal mask and pending signals. Its instructions run at CPL 3 on the CPU it is running on.
 */
export class UserThread {
  sp: number;
  altstack: AltStack | undefined = undefined;
  /** Blocked signals (bit signo-1). */
  blocked = 0;
  readonly pending: SigInfo[] = [];
  /** Every signal delivered to a handler, in order. */
  readonly delivered: SigInfo[] = [];
  /** Handlers currently running on this thread (nesting depth). */
  signalDepth = 0;
  private exited = false;

  /** @internal Built by UserKernel (spawn and fork) and by clone(). */
  constructor(
    private readonly w: UserWorld,
    readonly process: UserProcess,
    readonly task: Thread,
    sp: number,
  ) {
    this.sp = sp;
  }

  get tid(): number {
    return this.task.tid;
  }
  get cpu(): number {
    return this.task.cpu;
  }
  get running(): boolean {
    return this.task.state === 'running';
  }
  get alive(): boolean {
    return !this.exited && this.task.state !== 'dead';
  }
  /** "process[pid] thread" for messages. */
  describe(): string {
    return `${this.process.name}[${this.process.pid}] ${describeThread(this.task)}`;
  }

  // --- rights ---------------------------------------------------------------------------------------

  /** The live rights register while running (RDPKRU); undefined without user keys. */
  liveRights(): RightsState | undefined {
    this.requireRunning('read its live rights');
    return this.w.keys?.read(this.cpu);
  }

  /** The thread's rights: live while it runs, else its XSAVE slot (what ptrace reads). */
  rights(): RightsState | undefined {
    if (!this.w.keys) return undefined;
    return this.running ? this.w.keys.read(this.cpu) : this.task.pkru;
  }

  /** Write the saved rights of a thread that is not running (its XSAVE slot). */
  setSavedRights(state: RightsState): void {
    if (this.running) throw new KernelError('EINVAL', `${this.describe()} is running; its rights are live, not saved`);
    this.w.kernel.userTasks.saveUserRights(this.task, state);
  }

  /** RDPKRU (#UD without OSPKE, reported as EOPNOTSUPP). */
  rdpkru(): RightsState {
    const keys = this.requireKeys('RDPKRU');
    this.requireRunning('RDPKRU');
    this.w.machine.events.count(this.cpu, MachineEvent.RightsRead);
    return keys.read(this.cpu);
  }

  /** WRPKRU: a user-mode write of the whole register, no syscall. */
  wrpkru(state: RightsState): void {
    const keys = this.requireKeys('WRPKRU');
    this.requireRunning('WRPKRU');
    // A user-mode write: the whole register on x86 and arm64, UAMOR-enabled AMR bits on POWER.
    const abi = this.w.abi;
    keys.load(this.cpu, abi ? abi.userWrite(keys, keys.read(this.cpu), state) : state);
  }

  /** glibc pkey_set(key, rights): change one key's rights in the live register; 0 or -EINVAL. */
  pkey_set(key: number, rights: number): number {
    const keys = this.w.keys;
    if (!keys || !Number.isInteger(key) || key < 0 || key >= keys.info.domains) return -UserErrno.EINVAL;
    // glibc pkey_set: the flags the architecture's register can take from user mode.
    const accepted = this.w.abi?.setRights ?? PKEY_ACCESS_MASK;
    if (!Number.isInteger(rights) || (rights & ~accepted) !== 0) return -UserErrno.EINVAL;
    this.wrpkru(keys.withDenials(this.rdpkru(), key, denialsOfInitRights(rights)));
    return 0;
  }

  /** glibc pkey_get(key): the key's PKEY_DISABLE_* bits, or -EINVAL. */
  pkey_get(key: number): number {
    const keys = this.w.keys;
    if (!keys || !Number.isInteger(key) || key < 0 || key >= keys.info.domains) return -UserErrno.EINVAL;
    const denied: Denials = keys.denialsOf(this.rdpkru(), key);
    // Deny flags have the PKEY_DISABLE_* values; report those pkey_set could have set.
    return denied & (this.w.abi?.setRights ?? Deny.Access | Deny.Write);
  }

  // --- user-mode accesses ---------------------------------------------------------------------------

  /** A user-mode read of `length` bytes at `address`. */
  load(address: number, length: number): UserResult<Uint8Array> {
    requireAddress(address, 'load: address');
    requireInteger(length, 'load: length', 0, MAX_USER_COPY);
    return this.userMode(AccessKind.Read, (cpu) => this.w.machine.read(cpu, address, length));
  }
  /** A user-mode write of `bytes` at `address`. */
  store(address: number, bytes: Uint8Array): UserResult<void> {
    requireAddress(address, 'store: address');
    if (!(bytes instanceof Uint8Array))
      throw new KernelError('EINVAL', `store: bytes must be a Uint8Array, got ${echoValue(bytes)}`);
    return withoutValue(
      this.userMode(AccessKind.Write, (cpu) =>
        this.w.machine.write(cpu, address, bytes) === ACCESS_OK ? true : undefined,
      ),
    );
  }
  /** An instruction fetch (jump to `address`). */
  execute(address: number): UserResult<void> {
    requireAddress(address, 'execute: address');
    return withoutValue(
      this.userMode(AccessKind.Fetch, (cpu) =>
        this.w.machine.access(cpu, address, AccessKind.Fetch) === ACCESS_OK ? true : undefined,
      ),
    );
  }
  /** Touch the stack as code does: a push below sp, or a pop (ret) at sp. */
  touchStack(kind: 'push' | 'pop'): UserResult<void> {
    requireOneOf(kind, ['push', 'pop'], 'touchStack: kind');
    return kind === 'push' ? this.store(this.sp - 8, new Uint8Array(8)) : withoutValue(this.load(this.sp, 8));
  }

  /**
   * Run one access at CPL 3. A fault enters the kernel (#PF frame): a page the VMA allows is
   * faulted in and the access retried; otherwise SIGSEGV is forced and delivered on the way back
   * to user mode, and the access is retried after the handler returns.
   */
  private userMode<T>(kind: AccessKind, attempt: (cpu: number) => T | undefined): UserResult<T> {
    const mark = this.delivered.length;
    this.requireRunning('run user code');
    // Kernel state that must not outlive a return to user space: kmap_local mappings are released
    // by their caller before it returns (Documentation/mm/highmem.rst) and entry frames are unwound
    // (arch/x86/entry/common.c). Refused before anything runs, so nothing is counted or changed.
    const { frames, kmaps } = this.task;
    if (frames.length > 0 || kmaps.length > 0) {
      throw new KernelError(
        'EINVAL',
        `${this.describe()}: cannot return to user mode with ${frames.length} open frame(s) and ${kmaps.length} kmap(s)`,
      );
    }
    this.w.signals.deliverPending(this);
    const machine = this.w.machine;
    let signalled = 0;
    for (;;) {
      if (!this.alive) return this.death(mark);
      this.requireRunning('resume user code');
      const cpu = this.cpu;
      machine.setMode(cpu, Privilege.User);
      let value: T | undefined;
      try {
        value = attempt(cpu);
      } finally {
        machine.setMode(cpu, Privilege.Supervisor);
      }
      if (value !== undefined) {
        return { ok: true, value, signals: this.delivered.slice(mark) };
      }
      const fault = machine.lastFault(cpu);
      if (!fault) throw new KernelError('EFAULT', `CPU ${cpu}: a user access failed without a fault report`);
      const decision = this.w.kernel.cpu(cpu).handle(
        'exception',
        () => {
          const present = fault.cause !== 'not-present';
          const pk = fault.cause === 'domain';
          const walked = pk
            ? (fault.domain ?? machine.translate(this.process.mm.space, fault.address)?.domain)
            : undefined;
          return this.process.mm.resolveFault(fault.address, kind, present, pk, walked, this.liveRights());
        },
        '#PF',
      );
      if (decision.populated) continue;
      if (signalled++ >= MAX_FAULT_RETRIES) {
        return this.fail(
          mark,
          'stuck',
          undefined,
          `the access at ${formatAddress(fault.address)} kept faulting after ${MAX_FAULT_RETRIES} handled signals`,
        );
      }
      const info: SigInfo = { signo: SIGSEGV, code: decision.code, addr: fault.address, pkey: decision.pkey };
      this.w.kernel.log.info(`${this.describe()}: segfault at ${formatAddress(fault.address)} (${fault.summary})`);
      this.w.signals.force(this, info);
    }
  }

  private death(mark: number): UserResult<never> {
    const p = this.process;
    if (this.exited) return this.fail(mark, 'exited', undefined, `${this.describe()} exited`);
    return this.fail(mark, 'killed', p.fatalSignal, p.deathReason ?? `${this.describe()} died`);
  }

  private fail(
    mark: number,
    fate: 'killed' | 'exited' | 'stuck',
    fatal: SigInfo | undefined,
    detail: string,
  ): UserResult<never> {
    return { ok: false, fate, signals: this.delivered.slice(mark), fatal, detail };
  }

  // --- syscalls ---------------------------------------------------------------------------------------

  private caller(): CallerRights {
    this.requireRunning('make a system call');
    const keys = this.w.keys;
    const cpu = this.cpu;
    return {
      read: () => this.requireKeys('RDPKRU').read(cpu),
      write: (state) => keys?.load(cpu, state),
    };
  }

  /** mmap(2): returns the address, or a negated errno. */
  mmap(address: number, length: number, prot: number, flags: number): number {
    // A hint that is not an address (NaN, 1.5, "x") is a bad argument, not "anywhere".
    if (typeof address !== 'number' || !Number.isSafeInteger(address)) return -UserErrno.EINVAL;
    return this.process.mm.mmap(this.caller(), address, length, prot, flags);
  }
  /** munmap(2): 0, or a negated errno. */
  munmap(address: number, length: number): number {
    this.requireRunning('make a system call');
    return this.process.mm.munmap(address, length);
  }
  /** mprotect(2): pkey_mprotect with pkey -1 (keep the key); 0, or a negated errno. */
  mprotect(address: number, length: number, prot: number): number {
    return this.process.mm.mprotectPkey(this.caller(), address, length, prot, -1);
  }
  /** pkey_mprotect(2): change protection and key of a range; 0, or a negated errno. */
  pkey_mprotect(address: number, length: number, prot: number, pkey: number): number {
    // The syscall takes an int: -1 means "keep", as for plain mprotect.
    return this.process.mm.mprotectPkey(this.caller(), address, length, prot, pkey);
  }
  /** pkey_alloc(2): the new key, or a negated errno. */
  pkey_alloc(flags: number, initRights: number): number {
    return this.process.mm.pkeyAlloc(this.caller(), flags, initRights);
  }
  /** pkey_free(2): 0, or a negated errno. */
  pkey_free(key: number): number {
    this.requireRunning('make a system call');
    return this.process.mm.pkeyFree(key);
  }

  /** read(fd, buffer, n) from a file holding `data`: the kernel copy_to_user()s it. Count or -EFAULT. */
  read(buffer: number, data: Uint8Array): number {
    this.requireRunning('make a system call');
    if (typeof buffer !== 'number' || !Number.isSafeInteger(buffer)) return -UserErrno.EFAULT;
    if (!(data instanceof Uint8Array)) return -UserErrno.EINVAL;
    const r = copyToUser(this.w, this, buffer, data);
    return r === 0 ? data.length : r;
  }
  /** write(fd, buffer, n) to a file: the kernel copy_from_user()s the buffer. The bytes or -EFAULT. */
  write(buffer: number, length: number): Uint8Array | number {
    this.requireRunning('make a system call');
    if (typeof buffer !== 'number' || !Number.isSafeInteger(buffer)) return -UserErrno.EFAULT;
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > MAX_USER_COPY)
      return -UserErrno.EINVAL;
    return copyFromUser(this.w, this, buffer, length);
  }
  /**
   * futex(uaddr, FUTEX_WAIT[|FUTEX_PRIVATE_FLAG], val, timeout): -EAGAIN (the word changed), -EFAULT,
   * -EINVAL or -ETIMEDOUT; a shared futex pins its page with a gup write that honours PKRU, then
   * falls back to read-only (get_futex_key).
   */
  futex(uaddr: number, op: number, val: number, timeout = false): number {
    this.requireRunning('make a system call');
    return futexWait(this.w, this, uaddr, op, val, timeout);
  }

  /** vmsplice()-style get_user_pages() of the caller's own pages: the count or -EFAULT. */
  get_user_pages(address: number, pages: number, write: boolean): number {
    this.requireRunning('make a system call');
    return getUserPages(this, address, pages, write);
  }

  /** sigaction(signo, action): 0 or -EINVAL (a signal the model does not deliver). */
  sigaction(
    signo: number,
    action: { handler: SignalHandler | 'default' | 'ignore'; flags?: number; mask?: readonly number[] },
  ): number {
    this.requireRunning('make a system call');
    if (!MODELLED_SIGNALS.includes(signo)) return -UserErrno.EINVAL;
    const h = action?.handler;
    if (typeof h !== 'function' && h !== 'default' && h !== 'ignore') return -UserErrno.EINVAL;
    const mask = action.mask ?? [];
    if (!mask.every((s) => Number.isInteger(s) && s >= 1 && s <= 31)) return -UserErrno.EINVAL;
    const entry: SigAction = {
      handler: h,
      flags: action.flags ?? 0,
      mask: mask.reduce((m, s) => (m | signalBit(s)) >>> 0, 0),
    };
    this.process.setAction(signo, entry);
    return 0;
  }

  /**
   * sigaltstack(ss): install (or with SS_DISABLE / undefined remove) the thread's alternate stack.
   * do_sigaltstack() (kernel/signal.c): the mode is 0, SS_ONSTACK (accepted, same as 0) or
   * SS_DISABLE, optionally with SS_AUTODISARM; the flags are kept as given.
   */
  sigaltstack(stack: { sp: number; size: number; flags?: number } | undefined): number {
    this.requireRunning('make a system call');
    if (this.onAltstack()) return -UserErrno.EPERM; // do_sigaltstack: not while running on it
    const given = stack?.flags ?? 0;
    // An int in C: SS_ONSTACK | SS_AUTODISARM is negative as a JavaScript bitwise result.
    if (!Number.isInteger(given) || given < -0x80000000 || given > 0xffffffff) return -UserErrno.EINVAL;
    const flags = given >>> 0;
    // ss_mode = ss_flags & ~SS_FLAG_BITS (SS_FLAG_BITS = SS_AUTODISARM).
    const mode = flags % SS_AUTODISARM;
    if (mode !== 0 && mode !== SS_ONSTACK && mode !== SS_DISABLE) return -UserErrno.EINVAL;
    if (stack === undefined || mode === SS_DISABLE) {
      this.altstack = undefined;
      return 0;
    }
    if (!Number.isInteger(stack.size) || stack.size < MINSIGSTKSZ) return -UserErrno.ENOMEM;
    if (!Number.isInteger(stack.sp) || stack.sp < 0 || stack.sp + stack.size > TASK_SIZE) return -UserErrno.EINVAL;
    this.altstack = { sp: stack.sp, size: stack.size, flags };
    return 0;
  }

  /** on_sig_stack(): sp is inside the sigaltstack. */
  onAltstack(): boolean {
    const a = this.altstack;
    // on_sig_stack(): with SS_AUTODISARM "we can't be on the signal stack" by construction.
    if (a !== undefined && a.flags >= SS_AUTODISARM) return false;
    return a !== undefined && this.sp > a.sp && this.sp <= a.sp + a.size;
  }

  /** Whether `signo` is in the thread's blocked signal mask. */
  isBlocked(signo: number): boolean {
    return (this.blocked & signalBit(signo)) !== 0;
  }

  /** raise(signo) = tkill(gettid(), signo): delivered on the way back to user mode. */
  raise(signo: number): UserResult<number> {
    const mark = this.delivered.length;
    const r = this.tkill(this, signo);
    if (!this.alive) return this.death(mark);
    return { ok: true, value: r, signals: this.delivered.slice(mark) };
  }

  /** tkill(target, signo): 0, -EINVAL (bad signal) or -ESRCH (no such live thread). */
  tkill(target: UserThread, signo: number): number {
    this.requireRunning('make a system call');
    if (!MODELLED_SIGNALS.includes(signo)) return -UserErrno.EINVAL;
    if (!target.alive) return -UserErrno.ESRCH;
    target.pending.push({ signo, code: SI_TKILL });
    if (target === this) this.w.signals.deliverPending(this);
    return 0;
  }

  /**
   * clone(CLONE_VM | CLONE_THREAD | ...): a new thread of this process. Its PKRU is copied from the
   * caller's live register (fpu_clone() saves the current FPU state into the child), so a thread
   * started from a signal handler starts with the handler's rights. The signal mask is inherited;
   * the sigaltstack is not (copy_process: sas_ss_reset for CLONE_VM without CLONE_VFORK).
   */
  clone(name: string, options: CloneOptions): UserThread {
    this.requireRunning('make a system call');
    if (!Number.isInteger(options?.stack) || options.stack <= 0 || options.stack > TASK_SIZE) {
      throw new KernelError('EINVAL', `clone: stack ${String(options?.stack)} is not a user address`);
    }
    const task = this.w.kernel.fork(this.task, name, options.cpu ?? this.cpu);
    const child = new UserThread(this.w, this.process, task, options.stack);
    child.blocked = this.blocked;
    this.process.addThread(child);
    return child;
  }

  /** exit(): this thread ends (the process ends with its last thread). */
  exit(): void {
    this.requireRunning('exit');
    this.exited = true;
    this.w.kernel.userTasks.endTask(this.task);
    this.process.threadExited();
  }

  /** The thread dies because its process is killed. */
  terminate(): void {
    this.w.kernel.userTasks.endTask(this.task);
  }

  // --- checks -----------------------------------------------------------------------------------------

  /** Throw EINVAL unless the thread is alive and running on its CPU (`what` names the attempted action). */
  requireRunning(what: string): void {
    if (!this.alive) throw new KernelError('EINVAL', `${this.describe()} cannot ${what}: it is dead`);
    if (!this.running) {
      throw new KernelError(
        'EINVAL',
        `${this.describe()} cannot ${what}: it is not running (switch it in on CPU ${this.cpu} first)`,
      );
    }
  }

  private requireKeys(what: string) {
    const keys = this.w.keys;
    if (!keys) throw new KernelError('EOPNOTSUPP', `${what}: #UD, the CPUs do not have user protection keys enabled`);
    return keys;
  }
}
