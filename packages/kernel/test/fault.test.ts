import { AccessKind } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { formatOops, MAX_HANDLED_FAULTS } from '../src';
import { boot, withBits, word } from './helpers';

function setup(input = {}) {
  const kernel = boot(input);
  const cpu = kernel.cpu(0);
  const key = kernel.pks_key_alloc('pmem');
  const page = kernel.vmap([kernel.alloc_page()], { key });
  const thread = kernel.kthread_create('worker', 0);
  cpu.switchTo(thread);
  return { kernel, cpu, key, page, thread };
}

describe('key faults (pks_handle_key_fault)', () => {
  it('walks the page tables to the key and calls its callback in the #PF frame; true retries', () => {
    const { kernel, cpu, key, page } = setup();
    const calls: { address: number; write: boolean; depth: number; live: number }[] = [];
    kernel.pks_set_fault_callback(key, (frame, address, write) => {
      calls.push({ address, write, depth: frame.depth, live: word(cpu.rights()) });
      return kernel.pks_update_exception(frame, key, 0) === 0;
    });
    const result = cpu.write(page + 8, new Uint8Array([1, 2]));
    expect(result).toEqual({ ok: true, handledFaults: 1 });
    expect(calls).toEqual([{ address: page + 8, write: true, depth: 1, live: 0x55555554 }]);
    expect(word(cpu.rights())).toBe(withBits(0x55555554, key, 0));
    const read = cpu.read(page + 8, 2);
    expect(read.ok && [...read.data]).toEqual([1, 2]);
  });

  it('oopses when the callback declines, with a structured report, and kills the thread', () => {
    const { kernel, cpu, key, page, thread } = setup();
    kernel.pks_set_fault_callback(key, () => false);
    const result = cpu.access(page, AccessKind.Read);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.oops).toMatchObject({
      severity: 'oops',
      cpu: 0,
      thread: { tid: thread.tid, name: 'worker' },
      address: page,
      addressHex: '0xffffc90000000000',
      access: 'read',
      cause: 'domain',
      key,
      owner: 'pmem',
      pkrs: '0x55555554',
      reason: `the fault callback of key ${key} did not handle it`,
      frames: [{ kind: 'exception', vector: '#PF', depth: 1, cpu: 0, savedRights: '0x55555554' }],
    });
    expect(thread.state).toBe('dead');
    expect(thread.oops).toBe(result.oops);
    expect(cpu.current.idle).toBe(true);
    expect(formatOops(result.oops)).toContain('PKRS: 0x55555554');
    expect(kernel.log.lines()).toContain('BUG: unable to handle page fault for address: 0xffffc90000000000');
  });

  it('oopses without a callback, and reports the chain of frames it happened in', () => {
    const { cpu, page } = setup();
    const result = cpu.handle('exception', () => cpu.write(page, new Uint8Array([1])), '#DB');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.oops.reason).toMatch(/no fault callback for key 1/);
    expect(result.oops.frames.map((f) => f.vector)).toEqual(['#DB', '#PF']);
  });

  it('panics on a fault inside an interrupt handler (Fatal exception in interrupt) and refuses to go on', () => {
    const { kernel, cpu, page } = setup();
    const result = cpu.interrupt(() => cpu.access(page, AccessKind.Write));
    expect(result.ok).toBe(false);
    expect(kernel.panic?.severity).toBe('panic');
    expect(kernel.panic?.reason).toMatch(/Fatal exception in interrupt/);
    expect(() => cpu.access(page, AccessKind.Read)).toThrow(/panicked/);
  });

  it('oopses on faults that are not key faults (not present) without calling any callback', () => {
    const { kernel, cpu, key } = setup();
    let called = false;
    kernel.pks_set_fault_callback(key, () => (called = true));
    const result = cpu.access(-0x10000000000, AccessKind.Read);
    expect(result.ok || result.oops.cause).toBe('not-present');
    expect(result.ok || result.oops.key).toBeUndefined();
    expect(called).toBe(false);
  });

  it('gives up on a fault that persists although the callback says handled', () => {
    const { kernel, cpu, key, page } = setup();
    let calls = 0;
    kernel.pks_set_fault_callback(key, () => ++calls > 0);
    const result = cpu.access(page, AccessKind.Read);
    expect(calls).toBe(MAX_HANDLED_FAULTS);
    expect(result.ok || result.oops.reason).toMatch(/persisted/);
  });

  it('a callback that throws still leaves the #PF frame', () => {
    const { kernel, cpu, key, page, thread } = setup();
    kernel.pks_set_fault_callback(key, () => {
      throw new Error('bug in callback');
    });
    expect(() => cpu.access(page, AccessKind.Read)).toThrow('bug in callback');
    expect(thread.frames).toHaveLength(0);
    expect(cpu.rights()).toEqual(thread.pkrs);
  });
});
