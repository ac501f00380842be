import { AccessKind, MachineEvent, PageSize, Privilege } from '@pkeysim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultKind } from '../src/index';
import { ToyMachine } from './toy-arch';

const KVA = -0x778000000000; // 0xffff888000000000
const UVA = 0x403000; // a TLB slot other than KVA's
const kernelPage = { user: false, writable: true, executable: false, global: true };

function mapped(cpus = 2, pageSize: PageSize = PageSize.Size4K, length = 0x1000) {
  const machine = new ToyMachine({ cpus });
  const pa = machine.allocatePhysical(length, { align: pageSize });
  machine.map(0, KVA, pa, length, { ...kernelPage, pageSize });
  return { machine, pa };
}

describe('KitMachine: accesses through the TLB', () => {
  it('walks on a miss, hits afterwards, and counts both', () => {
    const { machine } = mapped();
    expect(machine.access(0, KVA, AccessKind.Read)).toBe(0);
    expect(machine.access(0, KVA + 8, AccessKind.Write)).toBe(0);
    expect(machine.events.get(0, MachineEvent.PageWalk)).toBe(1);
    expect(machine.events.get(0, MachineEvent.Access)).toBe(2);
    expect(machine.tlb(0).validEntries).toBe(1);
  });

  it('reads rights at access time: a rights change takes effect with no flush (the TLB caches the domain only)', () => {
    const { machine } = mapped();
    machine.attach(0, KVA, 0x1000, 5);
    expect(machine.access(0, KVA, AccessKind.Write)).toBe(0);
    const walks = machine.events.get(0, MachineEvent.PageWalk);
    machine.rights[0] = 2 << 10; // deny write for domain 5
    expect(machine.access(0, KVA, AccessKind.Write)).toBe(FaultKind.Domain);
    expect(machine.access(0, KVA, AccessKind.Read)).toBe(0);
    expect(machine.events.get(0, MachineEvent.PageWalk)).toBe(walks);
    expect(machine.lastFault(0)).toMatchObject({
      cause: 'domain',
      address: KVA,
      access: AccessKind.Write,
      mode: Privilege.Supervisor,
    });
  });

  it('reports an unmapped or out-of-range address as not-present, with the level the walk stopped at', () => {
    const { machine } = mapped();
    expect(machine.access(0, KVA + 0x1000, AccessKind.Read)).toBe(FaultKind.NotPresent);
    expect(machine.lastFault(0)).toMatchObject({ cause: 'not-present', detail: { level: 0 } });
    expect(machine.access(0, 2 ** 50, AccessKind.Read)).toBe(FaultKind.NotPresent);
    expect(machine.lastFault(0)?.detail.level).toBe(3);
    expect(machine.events.get(0, MachineEvent.Fault)).toBe(2);
  });

  it('writes nothing when any page of a multi-page store faults', () => {
    const { machine, pa } = mapped(1, PageSize.Size4K, 0x2000);
    machine.attach(0, KVA + 0x1000, 0x1000, 3);
    machine.rights[0] = 1 << 6; // deny access for domain 3
    expect(machine.write(0, KVA + 0xffe, new Uint8Array([1, 2, 3, 4]))).toBe(FaultKind.Domain);
    expect([...machine.readPhysical(pa + 0xffe, 4)]).toEqual([0, 0, 0, 0]);
    expect(machine.read(0, KVA + 0xffe, 4)).toBeUndefined();
    machine.rights[0] = 0;
    expect(machine.write(0, KVA + 0xffe, new Uint8Array([1, 2, 3, 4]))).toBe(0);
    expect([...machine.read(0, KVA + 0xffe, 4)!]).toEqual([1, 2, 3, 4]);
  });

  it('applies the mode: user accesses to supervisor pages fault', () => {
    const { machine } = mapped();
    machine.setMode(0, Privilege.User);
    expect(machine.access(0, KVA, AccessKind.Read)).toBe(FaultKind.Permission);
    expect(machine.lastFault(0)?.mode).toBe(Privilege.User);
    expect(() => machine.setMode(0, 7 as Privilege)).toThrow(RangeError);
    expect(() => machine.access(9, KVA, AccessKind.Read)).toThrow(/CPU 9 does not exist/);
  });
});

describe('KitMachine: mapping, attaching and invalidation', () => {
  it('splits a 2 MiB page when part of it is re-tagged and leaves every other page as it was (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 511 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 15 }),
        (first, count, domain) => {
          const pages = Math.min(count, 512 - first);
          const { machine, pa } = mapped(1, PageSize.Size2M, 0x200000);
          machine.attach(0, KVA + first * 0x1000, pages * 0x1000, domain);
          for (const page of [0, first - 1, first, first + pages - 1, first + pages, 511]) {
            if (page < 0 || page > 511) continue;
            const t = machine.translate(0, KVA + page * 0x1000 + 5)!;
            expect(t.physical).toBe(pa + page * 0x1000 + 5);
            expect(t.writable).toBe(true);
            expect(t.domain).toBe(page >= first && page < first + pages ? domain : 0);
            expect(t.pageSize).toBe(PageSize.Size4K);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps the large page whole when the whole page is re-tagged', () => {
    const { machine } = mapped(1, PageSize.Size2M, 0x200000);
    machine.attach(0, KVA, 0x200000, 4);
    expect(machine.translate(0, KVA + 0x1234)).toMatchObject({ domain: 4, pageSize: PageSize.Size2M });
  });

  it('counts one shootdown per other CPU and invalidates every CPU (full flush above the ceiling)', () => {
    const { machine } = mapped(4, PageSize.Size2M, 0x200000);
    for (let cpu = 0; cpu < 4; cpu++) machine.access(cpu, KVA, AccessKind.Read);
    machine.attach(0, KVA, 0x1000, 2, 1);
    expect(machine.events.get(1, MachineEvent.Shootdown)).toBe(3);
    expect(machine.events.total(MachineEvent.TlbFlushPage)).toBe(4);
    for (let cpu = 0; cpu < 4; cpu++) expect(machine.tlb(cpu).validEntries).toBe(0);
    machine.attach(0, KVA, 0x40000, 2);
    expect(machine.events.total(MachineEvent.TlbFlushAll)).toBe(4);
  });

  it('validates before changing anything', () => {
    const { machine } = mapped();
    const writes = machine.events.total(MachineEvent.PteWrite);
    expect(() => machine.attach(0, KVA, 0x2000, 1)).toThrow(/is not mapped/);
    expect(() => machine.attach(0, KVA, 0x1000, 16)).toThrow(/domain 16 must be 0..15/);
    expect(() => machine.map(0, KVA, 0, 0x1000, kernelPage)).toThrow(/already mapped/);
    expect(() => machine.map(0, KVA + 0x800, 0, 0x1000, kernelPage)).toThrow(/not aligned/);
    expect(() => machine.map(0, -0x1000, 0, 0x2000, kernelPage)).toThrow(/not inside one/);
    expect(() => machine.map(0, UVA, 0x7ff00000, 0x1000, kernelPage)).toThrow(/not inside RAM or PMEM/);
    expect(machine.events.total(MachineEvent.PteWrite)).toBe(writes);
    expect(machine.translate(0, KVA)?.domain).toBe(0);
  });

  it('unmaps and invalidates', () => {
    const { machine } = mapped();
    machine.access(0, KVA, AccessKind.Read);
    machine.unmap(0, KVA, 0x1000);
    expect(machine.translate(0, KVA)).toBeUndefined();
    expect(machine.access(0, KVA, AccessKind.Read)).toBe(FaultKind.NotPresent);
  });
});

describe('KitMachine: address spaces and reboot', () => {
  it('shares the upper half between address spaces and keeps the lower half private', () => {
    const { machine } = mapped();
    const other = machine.createAddressSpace();
    const pa = machine.allocatePhysical(0x1000);
    machine.map(other, UVA, pa, 0x1000, { user: true, writable: true, executable: false });
    expect(machine.translate(other, KVA)).toBeDefined();
    expect(machine.translate(0, UVA)).toBeUndefined();
    expect(machine.translate(other, UVA)).toMatchObject({ user: true, physical: pa });
  });

  it('keeps global translations and drops the rest on an address-space switch', () => {
    const { machine } = mapped(1);
    const pa = machine.allocatePhysical(0x1000);
    machine.map(0, UVA, pa, 0x1000, { user: true, writable: true, executable: false });
    machine.access(0, KVA, AccessKind.Read);
    machine.access(0, UVA, AccessKind.Read);
    machine.activate(0, machine.createAddressSpace());
    expect(machine.tlb(0).validEntries).toBe(1);
    expect(machine.access(0, UVA, AccessKind.Read)).toBe(FaultKind.NotPresent);
  });

  it('loses RAM, mappings and registers on reboot and keeps persistent memory', () => {
    const machine = new ToyMachine();
    const pmem = machine.allocatePhysical(0x1000, { persistent: true });
    machine.writePhysical(pmem, new Uint8Array([42]));
    machine.map(0, KVA, pmem, 0x1000, kernelPage);
    machine.rights[0] = 0xffff;
    const counted = machine.events.summary();
    machine.reboot();
    expect(machine.translate(0, KVA)).toBeUndefined();
    expect(machine.rights[0]).toBe(0);
    expect(machine.lastFault(0)).toBeUndefined();
    expect(machine.readPhysical(pmem, 1)[0]).toBe(42);
    expect(machine.allocatePhysical(0x1000, { persistent: true })).toBe(pmem);
    // The event counts are the simulation's accounting, not machine state: the reboot keeps them.
    expect(machine.events.summary()).toEqual(counted);
  });

  it('accepts bigint addresses in translate and refuses inexact ones', () => {
    const { machine } = mapped();
    expect(machine.translate(0, 0xffff888000000000n as unknown as number)).toBeDefined();
    expect(() => machine.translate(0, 2 ** 60)).toThrow(/exactly/);
  });
});
