import { AccessKind } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { createKernel, formatTestResult, runPksSelftest } from '../src';
import './helpers';

describe('the README example', () => {
  it('runs as written and gives the outcomes its comments state', () => {
    const kernel = createKernel({ cpus: 2 });
    const key = kernel.pks_key_alloc('pmem');
    expect(key).toBe(1);
    const page = kernel.alloc_page();
    expect(kernel.set_memory_pks(kernel.page_address(page), 1, key)).toBe(0);

    const cpu = kernel.cpu(0);
    const worker = kernel.kthread_create('worker', 0);
    cpu.switchTo(worker);
    const denied = cpu.access(kernel.page_address(page), AccessKind.Write);
    expect(denied.ok).toBe(false);
    expect(worker.state).toBe('dead');
    expect(cpu.current.idle).toBe(true);

    const writer = kernel.kthread_create('writer', 0);
    cpu.switchTo(writer);
    const addr = cpu.kmap_local_page(page);
    expect(cpu.write(addr, new Uint8Array([1, 2, 3]))).toEqual({ ok: true, handledFaults: 0 });
    cpu.kunmap_local(addr);

    kernel.pks_set_fault_callback(key, (frame) => kernel.pks_update_exception(frame, key, 0) === 0);
    expect(cpu.write(addr, new Uint8Array([4]))).toEqual({ ok: true, handledFaults: 1 });

    expect(runPksSelftest(kernel).map(formatTestResult)[0]).toMatch(/^\[OK\] 0 CHECK_DEFAULTS: /);
  });
});
