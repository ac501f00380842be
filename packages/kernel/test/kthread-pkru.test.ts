import { MachineEvent, Privilege } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { boot, word } from './helpers';

describe('copy_thread: kernel threads run with the init PKRU', () => {
  it('x86/fpu: Add PKRU storage outside of task XSAVE buffer: a kthread does not keep the previous task PKRU', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const pku = kernel.machine.domainSpace(Privilege.User)!;
    const task = kernel.task_create('user', 0);
    cpu.switchTo(task);
    pku.load(0, [0x00000000]); // the task opened every key
    const kthread = kernel.kthread_create('kworker', 0);
    cpu.switchTo(kthread);
    expect(word(pku.read(0))).toBe(0x55555554);
    cpu.switchTo(task);
    expect(word(pku.read(0))).toBe(0x00000000);
  });

  it('write_pkru() skips the WRPKRU between kernel threads when PKRU already holds the init value', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const first = kernel.kthread_create('kworker/a', 0);
    const second = kernel.kthread_create('kworker/b', 0);
    cpu.switchTo(first);
    const writes = kernel.machine.events.total(MachineEvent.RightsWrite);
    cpu.switchTo(second);
    cpu.switchTo(first);
    expect(kernel.machine.events.total(MachineEvent.RightsWrite)).toBe(writes);
  });
});
