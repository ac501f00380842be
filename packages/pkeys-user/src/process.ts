import type { PkeyFreeWarning, PkeyHazard } from './hazards';
import type { UserMm } from './mm';
import { type CoreDump, coreDump } from './regset';
import type { SigInfo } from './sigframe';
import { DEFAULT_ACTION, describe, type SigAction } from './signals';
import type { UserThread } from './thread';
import type { UserWorld } from './world';

/** A user process: one address space (mm), its threads and its signal actions (shared by threads). */
export class UserProcess {
  readonly threads: UserThread[] = [];
  private readonly actions = new Map<number, SigAction>();
  state: 'alive' | 'dead' = 'alive';
  /** The signal that killed the process, if one did. */
  fatalSignal: SigInfo | undefined = undefined;
  deathReason: string | undefined = undefined;
  /** The core dump a fatal SIGSEGV left, with each thread's PKRU note (NT_X86_XSTATE). */
  core: CoreDump | undefined = undefined;

  /** @internal Built by UserKernel (spawn and fork). */
  constructor(
    private readonly w: UserWorld,
    readonly pid: number,
    readonly name: string,
    readonly mm: UserMm,
  ) {}

  /** The first thread (the one exec created). */
  get main(): UserThread {
    return this.threads[0];
  }

  /** The sigaction for `signo` (the default action when none was set). */
  actionOf(signo: number): SigAction {
    return this.actions.get(signo) ?? DEFAULT_ACTION;
  }
  /** sigaction(2): set the action for `signo`. */
  setAction(signo: number, action: SigAction): void {
    this.actions.set(signo, action);
  }
  /** fork() copies the signal actions. */
  copyActionsFrom(parent: UserProcess): void {
    for (const [signo, action] of parent.actions) this.actions.set(signo, action);
  }

  /** Add a thread to the process and to the world's thread table. */
  addThread(thread: UserThread): void {
    this.threads.push(thread);
    this.w.threads.set(thread.tid, thread);
  }

  /** Mappings that still carry a freed or reallocated key (the pkey use-after-free hazard). */
  hazards(): PkeyHazard[] {
    return this.mm.hazards();
  }
  /** Each pkey_free that left mappings with the key. */
  warnings(): readonly PkeyFreeWarning[] {
    return this.mm.warnings();
  }

  /** A fatal signal: every thread dies (do_group_exit), the log says why. */
  kill(info: SigInfo, reason: string): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.fatalSignal = info;
    this.deathReason = reason;
    this.w.kernel.log.info(`${this.name}[${this.pid}]: killed by ${describe(info)}: ${reason}`);
    this.core = coreDump(this.w, this.pid, this.threads, info.signo);
    for (const t of this.threads) t.terminate();
  }

  /** The last thread exited: the process is gone. */
  threadExited(): void {
    if (this.threads.every((t) => !t.alive)) this.state = 'dead';
  }
}
