import { AccessKind, createMachine, Deny, MachineEvent, Privilege } from '@pkeysim/core';
import { createKernel, runPksSelftest } from '@pkeysim/kernel';
import { describe, expect, it } from 'vitest';
import { formatExposure, type PageTableMachine } from '../src';

const BASE = -0x778000000000; // 0xffff888000000000

function machineWithPage(cpus: number, domain: number): PageTableMachine {
  const machine = createMachine({ arch: 'pagetable', cpus }).machine as PageTableMachine;
  machine.map(0, BASE, machine.allocatePhysical(0x1000), 0x1000, {
    user: false,
    writable: true,
    executable: false,
    domain,
  });
  return machine;
}

describe('pagetable scheme', () => {
  it('charges each rights change PTE writes, a local flush and a shootdown per other CPU', () => {
    const machine = machineWithPage(4, 7);
    const space = machine.domainSpace(Privilege.Supervisor);
    const before = [MachineEvent.PteWrite, MachineEvent.TlbFlushPage, MachineEvent.Shootdown].map((e) =>
      machine.events.total(e),
    );
    space.load(1, space.withDenials(space.initialState(), 7, Deny.None));
    const after = [MachineEvent.PteWrite, MachineEvent.TlbFlushPage, MachineEvent.Shootdown].map((e) =>
      machine.events.total(e),
    );
    expect(after.map((n, i) => n - before[i])).toEqual([1, 4, 3]);
    expect(machine.events.get(1, MachineEvent.Shootdown)).toBe(3);
    expect(machine.events.total(MachineEvent.RightsWrite)).toBe(0);
  });

  it("opens a domain for every CPU and logs the exposure window with the other CPUs' accesses", () => {
    const machine = machineWithPage(3, 7);
    const space = machine.domainSpace(Privilege.Supervisor);
    space.load(0, space.withDenials(space.initialState(), 7, Deny.None)); // CPU 0's thread opens its window
    expect(machine.access(0, BASE, AccessKind.Write)).toBe(0);
    expect(machine.access(2, BASE, AccessKind.Read)).toBe(0); // CPU 2 never asked, and gets in
    expect(machine.read(2, BASE, 8)).toBeDefined();
    space.load(0, space.initialState());
    expect(machine.access(2, BASE, AccessKind.Read)).not.toBe(0);
    const [window] = machine.exposure();
    expect(window).toMatchObject({
      domain: 7,
      openedBy: 0,
      closedBy: 0,
      rights: 'rw',
      exposedCpus: [1, 2],
      foreignAccesses: 2,
    });
    expect(window.domainAccesses).toEqual([1, 0, 2]);
    expect(window.duration).toBe(3);
    expect(formatExposure(machine.exposure())[0]).toBe(
      'domain 7 (rw) opened by CPU 0 for 3 accesses, closed by CPU 0: open to CPUs 1,2; CPU 2 used it 2 times',
    );
  });

  it('denies reads alone as unsupported: x86 has no write-only pages', () => {
    const machine = machineWithPage(1, 7);
    const space = machine.domainSpace(Privilege.User);
    expect(() => space.withDenials(space.initialState(), 7, Deny.Read)).toThrow(/write-only/);
    expect(space).toBe(machine.domainSpace(Privilege.Supervisor));
  });

  it('runs the kernel selftest: every test passes with dynamic keys, because a key stays open while any context holds it', () => {
    const results = runPksSelftest(createKernel({ arch: 'pagetable', cpus: 2, keyDesign: 'dynamic' }));
    expect(results.filter((r) => r.status === 'FAIL').map((r) => r.name)).toEqual([]);
  });

  it('cannot restrict one thread below what other contexts hold: static RUN_ALL_KEYS fails on the write-disabled key', () => {
    // PKS_KEY_PG_TABLES (page-table protection on top of V10) defaults to WD, so every other context
    // holds it readable; an AD request by one thread cannot take reads away from the whole address space.
    const results = runPksSelftest(
      createKernel({ arch: 'pagetable', cpus: 2, keyDesign: 'static', pageTableProtection: true }),
    );
    expect(results.filter((r) => r.status === 'FAIL').map((r) => r.name)).toEqual(['RUN_ALL_KEYS']);
    expect(results.find((r) => r.name === 'RUN_ALL_KEYS')!.detail).toMatch(/AD read did not fault/);
  });

  it('exposes an open window to every thread: another thread on another CPU can write while it is open', () => {
    const kernel = createKernel({ arch: 'pagetable', cpus: 2 });
    const key = kernel.pks_key_alloc('shared');
    const page = kernel.alloc_page();
    kernel.set_memory_pks(kernel.page_address(page), 1, key);
    const [owner, bystander] = [kernel.kthread_create('owner', 0), kernel.kthread_create('bystander', 1)];
    kernel.cpu(0).switchTo(owner);
    kernel.cpu(1).switchTo(bystander);
    const address = kernel.page_address(page);
    kernel.cpu(0).pks_set_readwrite(key);
    expect(kernel.cpu(1).write(address, new Uint8Array([1])).ok).toBe(true);
    // The bystander closing "its" window does not close the owner's, and vice versa.
    kernel.cpu(1).pks_set_noaccess(key);
    expect(kernel.cpu(0).write(address, new Uint8Array([2])).ok).toBe(true);
    kernel.cpu(0).pks_set_noaccess(key);
    expect(kernel.cpu(0).write(address, new Uint8Array([3])).ok).toBe(false);
  });

  it("kernel on an address-space scope: a context switch restores nothing and a thread's change leaves another thread's open key open", () => {
    const kernel = createKernel({ arch: 'pagetable', cpus: 2 });
    const [k1, k2] = [kernel.pks_key_alloc('a'), kernel.pks_key_alloc('b')];
    const page = kernel.vmap([kernel.alloc_page()], { key: k1 });
    const cpu0 = kernel.cpu(0);
    const cpu1 = kernel.cpu(1);
    cpu0.switchTo(kernel.kthread_create('opener', 0));
    cpu1.switchTo(kernel.kthread_create('bystander', 1));
    expect(cpu0.pks_set_readwrite(k1)).toBe(0);
    expect(cpu1.pks_set_readwrite(k2)).toBe(0);
    expect(cpu1.pks_set_noaccess(k2)).toBe(0);
    // The bystander on CPU 1 reads the opener's page: the window is global.
    expect(cpu1.read(page, 4).ok).toBe(true);
    const rightsBefore = cpu0.rights();
    const writes = kernel.stats().rights_write_skipped ?? 0;
    cpu0.switchTo(kernel.kthread_create('next', 0));
    expect(cpu0.rights()).toEqual(rightsBefore);
    expect(kernel.stats().rights_write_skipped ?? 0).toBe(writes);
  });
});
