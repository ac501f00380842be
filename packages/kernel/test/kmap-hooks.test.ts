import { createMachine, Deny, MachineEvent } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { KernelError, type KmapHook, type KmapKind, kmapHooks } from '../src';
import { boot, snapshot } from './helpers';

function setup() {
  const kernel = boot();
  const cpu = kernel.cpu(0);
  const key = kernel.pks_key_alloc('pmem');
  const page = kernel.alloc_pages(2);
  const address = kernel.page_address(page);
  expect(kernel.set_memory_pks(address, 2, key)).toBe(0);
  cpu.switchTo(kernel.kthread_create('worker', 0));
  const calls: string[] = [];
  const points = kmapHooks(kernel);
  const hook: KmapHook = {
    key,
    map: (c, a, length, kind: KmapKind) => {
      calls.push(`map ${kind} ${a - address} ${length}`);
      points.openKey(c, key);
    },
    unmap: (c, a, length, kind) => {
      calls.push(`unmap ${kind} ${a - address} ${length}`);
      points.closeKey(c, key);
    },
  };
  const remove = points.add(hook);
  const denials = () => kernel.space!.denialsOf(cpu.rights(), key);
  return { kernel, cpu, key, page, address, calls, points, remove, denials };
}

describe('kmap hook points', () => {
  it('kmap_local_page, kmap_atomic and kmap_local_range call the hook once per window, in nesting order', () => {
    const { cpu, page, address, calls, denials } = setup();
    const a = cpu.kmap_local_page(page);
    const b = cpu.kmap_atomic(page + 0x1000);
    expect(denials()).toBe(Deny.None);
    cpu.kunmap_atomic(b);
    cpu.kunmap_local(a);
    const r = cpu.kmap_local_range(address, 0x2000);
    cpu.kunmap_local(r);
    expect(calls).toEqual([
      'map local 0 4096',
      'map atomic 4096 4096',
      'unmap atomic 4096 4096',
      'unmap local 0 4096',
      'map local 0 8192',
      'unmap local 0 8192',
    ]);
    expect(denials()).toBe(Deny.Access);
  });

  it("a hooked key is left to the hook: windows do not open it when the hook doesn't", () => {
    const { kernel, cpu, page, key, calls } = setup();
    const quiet = kernel.pks_key_alloc('quiet');
    const other = kernel.alloc_page();
    expect(kernel.set_memory_pks(kernel.page_address(other), 1, quiet)).toBe(0);
    kmapHooks(kernel).add({ key: quiet, map: () => calls.push('quiet map'), unmap: () => calls.push('quiet unmap') });
    const a = cpu.kmap_local_page(other);
    expect(kernel.space!.denialsOf(cpu.rights(), quiet)).toBe(Deny.Access);
    cpu.kunmap_local(a);
    expect(calls).toEqual(['quiet map', 'quiet unmap']);
    // The pmem key's hook still works beside it.
    cpu.kunmap_local(cpu.kmap_local_page(page));
    expect(kernel.space!.denialsOf(cpu.rights(), key)).toBe(Deny.Access);
  });

  it("global kmap() calls the hook with kind 'global' and kunmap() closes it", () => {
    const { cpu, page, calls } = setup();
    cpu.kmap(page);
    cpu.kunmap(page);
    expect(calls).toEqual(['map global 0 4096', 'unmap global 0 4096']);
  });

  it('openKey/closeKey nest per context and write the register only on 0<->1', () => {
    const { kernel, cpu, key, points, denials } = setup();
    const writes = () => kernel.machine.events.total(MachineEvent.RightsWrite);
    const w0 = writes();
    points.openKey(0, key);
    points.openKey(0, key);
    expect(points.openCount(0, key)).toBe(2);
    expect(writes() - w0).toBe(1);
    points.closeKey(0, key);
    expect(denials()).toBe(Deny.None);
    points.closeKey(0, key);
    expect(denials()).toBe(Deny.Access);
    expect(writes() - w0).toBe(2);
    // A handler starts with its own count of 0, and the thread's count returns on exit.
    points.openKey(0, key);
    cpu.interrupt(() => {
      expect(points.openCount(0, key)).toBe(0);
      expect(denials()).toBe(Deny.Access);
    });
    expect(points.openCount(0, key)).toBe(1);
    points.closeKey(0, key);
  });

  it('refuses an unbalanced closeKey with EINVAL and changes nothing', () => {
    const { kernel, key, points } = setup();
    const before = snapshot(kernel);
    expect(() => points.closeKey(0, key)).toThrow(KernelError);
    expect(() => points.closeKey(0, key)).toThrow(/unbalanced close of key \d+: worker .* 0 times/);
    expect(snapshot(kernel)).toBe(before);
  });

  it('removing the hook gives the key back to the generic windows', () => {
    const { cpu, page, calls, remove, denials } = setup();
    remove();
    const a = cpu.kmap_local_page(page);
    expect(denials()).toBe(Deny.None);
    cpu.kunmap_local(a);
    expect(calls).toEqual([]);
  });

  it('refuses a hook on an unallocated key, a second hook on a key, and a machine without a kernel', () => {
    const { kernel, key, points } = setup();
    expect(() => points.add({ key: 9, map: () => {}, unmap: () => {} })).toThrow(/key 9 is not allocated/);
    expect(() => points.add({ key, map: () => {}, unmap: () => {} })).toThrow(/already has a hook/);
    expect(() => kmapHooks({ machine: createMachine({ arch: 'x86', cpus: 1 }).machine })).toThrow(
      /no kernel is booted on this machine/,
    );
    expect(kmapHooks(kernel)).toBe(points);
  });

  it('without supervisor keys the key windows report EOPNOTSUPP', () => {
    const kernel = boot({ features: { supervisorDomains: false } });
    expect(() => kmapHooks(kernel).openKey(0, 1)).toThrow(/supervisor keys are not supported/);
  });
});
