import { KernelError } from './errors';
import type { OopsReport } from './oops';

/** What every service may know of a panic: whether one happened, and a guard for kernel entry points. */
export interface PanicStatus {
  /** The oops that panicked the kernel, if one did. */
  readonly report: OopsReport | undefined;
  /** Throws once the kernel has panicked: nothing runs on a dead kernel. */
  assertRunning(): void;
}

/**
 * The kernel's panic state. The fault handler owns it: it is the only service given the writable
 * `PanicState` (an oops in an interrupt or the idle thread declares the panic, fault.ts); every other
 * service gets it as a read-only {@link PanicStatus}. It exists before the services that read it,
 * so none of them needs the fault handler (which itself needs them).
 */
export class PanicState implements PanicStatus {
  private current: OopsReport | undefined;

  get report(): OopsReport | undefined {
    return this.current;
  }

  assertRunning(): void {
    if (this.current) throw new KernelError('EINVAL', `the kernel has panicked: ${this.current.reason}`);
  }

  /** The kernel panics with `report` (fault.ts, make_task_dead of an interrupt or the idle task). */
  declare(report: OopsReport): void {
    this.current = report;
  }
}
