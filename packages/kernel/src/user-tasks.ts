import type { RightsState } from '@pkeysim/core';
import { KernelError } from './errors';
import type { Sched } from './sched/sched';
import { describeThread, type Thread } from './sched/thread';

// The argument checks user-space code built on the kernel (@pkeysim/pkeys-user) shares with it.
export { requireAddress, requireInteger, requireOneOf } from './validate';

/**
 * What a user-space layer on the kernel (@pkeysim/pkeys-user) may do to the tasks it created with
 * `task_create`/`fork`, beyond the Kernel's own API: keep a task's saved user rights and end a task
 * that is switched out. The scheduler stays the only owner of its task records; this is the narrow
 * door it opens to user space (`kernel.userTasks`).
 */
export class UserTasks {
  /** @internal Built by the Kernel around its scheduler. */
  constructor(
    private readonly sched: Sched,
    private readonly exitCurrent: (cpu: number) => void,
  ) {}

  /**
   * Write the user rights a task keeps in its task struct: the XSAVE PKRU slot (component 9) on x86
   * and arm64, the saved user AMR where the register is shared with the kernel (POWER, where the
   * kernel itself keeps no user slot and the user layer fills it). EINVAL for a kernel thread or a
   * dead task.
   */
  saveUserRights(thread: Thread, state: RightsState): void {
    const task = this.sched.own(thread);
    if (task.kind !== 'task') throw new KernelError('EINVAL', `${describeThread(task)} is a kernel thread`);
    if (task.state === 'dead') throw new KernelError('EINVAL', `${describeThread(task)} is dead`);
    task.pkru = state;
  }

  /**
   * do_exit() of a user task, running or not: a running task exits as `exitCurrent` does (its CPU
   * runs the idle thread); a switched-out one (its process was killed) leaves the runqueue dead.
   */
  endTask(thread: Thread): void {
    const task = this.sched.own(thread);
    if (task.kind !== 'task') throw new KernelError('EINVAL', `${describeThread(task)} is a kernel thread`);
    if (task.state === 'dead') return;
    if (task.state === 'running') this.exitCurrent(task.cpu);
    else this.sched.bury(task);
  }
}
