import { describe, expect, it } from 'vitest';
import { rightsState } from '@pkeysim/core';
import { KernelError } from '../src';
import { boot } from './helpers';

describe('kernel.userTasks: the public door for user-space layers', () => {
  it('saveUserRights writes a user task XSAVE PKRU slot and refuses kernel threads', () => {
    const kernel = boot({ features: { userDomains: true } });
    const task = kernel.task_create('user', 0);
    kernel.userTasks.saveUserRights(task, rightsState(0x0000000c));
    expect(task.pkru?.[0]).toBe(0x0000000c);
    const kthread = kernel.kthread_create('kworker', 0);
    expect(() => kernel.userTasks.saveUserRights(kthread, rightsState(0))).toThrow(KernelError);
    expect(() => kernel.userTasks.saveUserRights(kthread, rightsState(0))).toThrow(/kernel thread/);
  });

  it('endTask buries a switched-out task and exits a running one, leaving the idle thread current', () => {
    const kernel = boot({ features: { userDomains: true } });
    const asleep = kernel.task_create('asleep', 0);
    const running = kernel.task_create('running', 1);
    kernel.cpu(1).switchTo(running);
    kernel.userTasks.endTask(asleep);
    kernel.userTasks.endTask(running);
    expect(asleep.state).toBe('dead');
    expect(running.state).toBe('dead');
    expect(kernel.cpu(1).current).toBe(kernel.idle(1));
    expect(() => kernel.cpu(0).switchTo(asleep)).toThrow(/dead/);
    expect(() => kernel.userTasks.saveUserRights(asleep, rightsState(0))).toThrow(/dead/);
  });

  it('refuses a thread of another kernel', () => {
    const kernel = boot({ features: { userDomains: true } });
    const other = boot({ features: { userDomains: true } }).task_create('elsewhere', 0);
    expect(() => kernel.userTasks.endTask(other)).toThrow(/does not belong to this kernel/);
  });
});
