import { MachineEvent, PageSize } from '@pkeysim/core';
import { createKernel, KernelError } from '@pkeysim/kernel';
import { describe, expect, it } from 'vitest';
import { PGMAP_KEY_OWNER, PgmapProtection, PmemNamespace, RELAXED_WARNING } from '../src';
import { bytes, CLOSED, keyDenials, OPEN, runNew, setup } from './helpers';

describe('the protected dev_pagemap', () => {
  it('maps the namespace with PKS_KEY_PGMAP_PROTECTION, splitting the 2 MiB direct-map page', () => {
    const { kernel, ns } = setup();
    const key = kernel.keyOf('PKS_KEY_PGMAP_PROTECTION')!;
    expect(ns.protected).toBe(true);
    expect(ns.protection.key).toBe(key);
    for (let i = 0; i < ns.pages; i++) expect(kernel.keyAt(ns.addressOf(i * 4096))).toBe(key);
    const t = kernel.machine.translate(kernel.machine.activeSpace(0), ns.address)!;
    expect(t.pageSize).toBe(PageSize.Size4K);
    expect(kernel.keyAt(ns.address + ns.size)).toBe(0);
  });

  it('with the dynamic design the key comes from pks_key_alloc', () => {
    const { kernel, ns } = setup({}, { keyDesign: 'dynamic' });
    expect(ns.protected).toBe(true);
    expect(kernel.pks_keys_allocated().rows.find((r) => r.key === ns.protection.key)?.owner).toBe(PGMAP_KEY_OWNER);
  });

  it('a write outside any window faults; the driver path opens the key only around the copy', () => {
    const { kernel, ns, cpu } = setup({ faultMode: 'strict' });
    const key = ns.protection.key!;
    expect(ns.write(cpu, 100, bytes(1, 2, 3))).toEqual({ ok: true, handledFaults: 0 });
    expect(keyDenials(kernel, cpu, key)).toBe(CLOSED);
    expect(ns.read(cpu, 100, 3)).toMatchObject({ ok: true, data: bytes(1, 2, 3) });
    const stray = cpu.write(ns.addressOf(100), bytes(9));
    expect(stray.ok).toBe(false);
    expect(kernel.machine.readPhysical(ns.physical + 100, 1)[0]).toBe(1);
  });

  it('the driver path splits a write across pages, each with its own window', () => {
    const { ns, cpu } = setup();
    const data = new Uint8Array(5000).fill(7);
    const before = ns.protection.stats.readwrite;
    expect(ns.write(cpu, 4000, data).ok).toBe(true);
    expect(ns.protection.stats.readwrite - before).toBe(3);
    expect(ns.pmem_rw_page(cpu, 1, 'read')).toMatchObject({ ok: true });
    expect(
      ns
        .intended()
        .subarray(4000, 9000)
        .every((b) => b === 7),
    ).toBe(true);
    expect(ns.pmem_rw_page(cpu, 3, 'write', new Uint8Array(4096).fill(1)).ok).toBe(true);
    expect(() => ns.pmem_rw_page(cpu, 3, 'write', bytes(1))).toThrow(/4096 bytes/);
  });

  it.each([
    ['a negative offset', -1, 1],
    ['a range past the end', 4 * 4096 - 1, 2],
    ['an empty write', 0, 0],
  ])('refuses %s with EINVAL and writes nothing', (_label, offset, length) => {
    const { kernel, ns, cpu } = setup();
    expect(() => ns.write(cpu, offset, new Uint8Array(length).fill(5))).toThrow(KernelError);
    expect(kernel.machine.readPhysical(ns.physical, ns.size).some((b) => b !== 0)).toBe(false);
  });
});

describe('fault modes (memremap.pks_fault_mode)', () => {
  it(`relaxed warns "${RELAXED_WARNING}" once, opens the key in the faulting context and continues`, () => {
    const { kernel, ns, cpu, worker } = setup({ faultMode: 'relaxed' });
    const key = ns.protection.key!;
    const result = cpu.write(ns.addressOf(8), bytes(0xee));
    expect(result).toEqual({ ok: true, handledFaults: 1 });
    expect(worker.state).toBe('running');
    expect(kernel.machine.readPhysical(ns.physical + 8, 1)[0]).toBe(0xee);
    expect(keyDenials(kernel, cpu, key)).toBe(OPEN);
    // Another thread faults too: handled again, but the WARN is once per boot.
    runNew(kernel, kernel.cpu(1), 'other');
    expect(kernel.cpu(1).write(ns.addressOf(16), bytes(1)).ok).toBe(true);
    expect(kernel.log.lines().filter((l) => l === `WARNING: ${RELAXED_WARNING}`)).toHaveLength(1);
    expect(ns.protection.stats).toMatchObject({ faults: 2, relaxed: 2 });
  });

  it('strict oopses: the stray writer dies, the data is untouched', () => {
    const { kernel, ns, cpu, worker } = setup({ faultMode: 'strict' });
    const result = cpu.write(ns.addressOf(8), bytes(0xee));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.oops).toMatchObject({ severity: 'oops', key: ns.protection.key, owner: 'PKS_KEY_PGMAP_PROTECTION' });
    expect(worker.state).toBe('dead');
    expect(kernel.machine.readPhysical(ns.physical + 8, 1)[0]).toBe(0);
    expect(kernel.log.lines()).not.toContain(`WARNING: ${RELAXED_WARNING}`);
  });

  it('refuses a "silent" mode (rejected by the series) and a second set-up with other options', () => {
    const kernel = createKernel({ keyDesign: 'static' });
    expect(() => PgmapProtection.forKernel(kernel, { faultMode: 'silent' as 'strict' })).toThrow(
      /silent mode was rejected/,
    );
    PmemNamespace.create(kernel, { pages: 1, faultMode: 'strict' });
    expect(() => PmemNamespace.create(kernel, { pages: 1, faultMode: 'relaxed' })).toThrow(/already set up/);
    expect(PmemNamespace.create(kernel, { pages: 1 }).protection.faultMode).toBe('strict');
  });
});

describe('pgmap_set_readwrite / pgmap_set_noaccess nesting', () => {
  it('nested calls switch the key only on 0->1 and 1->0', () => {
    const { kernel, ns, cpu } = setup({ faultMode: 'strict' });
    const key = ns.protection.key!;
    const writes = () => kernel.machine.events.total(MachineEvent.RightsWrite);
    const w0 = writes();
    ns.protection.pgmap_set_readwrite(cpu, ns.page(0));
    ns.protection.pgmap_set_readwrite(cpu, ns.page(1));
    expect(ns.protection.nesting(cpu)).toBe(2);
    expect(writes() - w0).toBe(1);
    ns.protection.pgmap_set_noaccess(cpu, ns.page(1));
    expect(keyDenials(kernel, cpu, key)).toBe(OPEN);
    expect(cpu.write(ns.addressOf(0), bytes(1)).ok).toBe(true);
    ns.protection.pgmap_set_noaccess(cpu, ns.page(0));
    expect(keyDenials(kernel, cpu, key)).toBe(CLOSED);
    expect(writes() - w0).toBe(2);
  });

  it('refuses an unbalanced pgmap_set_noaccess and changes nothing', () => {
    const { kernel, ns, cpu } = setup();
    const rights = cpu.rights();
    expect(() => ns.protection.pgmap_set_noaccess(cpu, ns.page(0))).toThrow(
      /unbalanced pgmap_set_noaccess\(.*\): worker \(tid \d+\) has no pgmap_set_readwrite open/,
    );
    expect(cpu.rights()).toEqual(rights);
    expect(ns.protection.nesting(cpu)).toBe(0);
    expect(kernel.log.lines().some((l) => l.startsWith('BUG'))).toBe(false);
  });

  it('the count is per thread: another thread cannot write while this one holds the key open', () => {
    const { kernel, ns, cpu } = setup({ faultMode: 'strict' });
    ns.protection.pgmap_set_readwrite(cpu, ns.page(0));
    const other = kernel.cpu(1);
    runNew(kernel, other, 'other');
    expect(ns.protection.nesting(other)).toBe(0);
    expect(other.write(ns.addressOf(0), bytes(1)).ok).toBe(false);
    expect(cpu.write(ns.addressOf(0), bytes(2)).ok).toBe(true);
    ns.protection.pgmap_set_noaccess(cpu, ns.page(0));
  });

  it('pages outside a protected pgmap are a no-op, as in the series', () => {
    const { kernel, ns, cpu } = setup();
    const ram = kernel.alloc_page();
    ns.protection.pgmap_set_readwrite(cpu, ram);
    expect(ns.protection.nesting(cpu)).toBe(0);
    ns.protection.pgmap_set_noaccess(cpu, ram);
  });
});

describe('the kmap hooks', () => {
  it('kmap_local_page and kmap_atomic of a namespace page call pgmap_set_readwrite; the unmaps close it', () => {
    const { kernel, ns, cpu } = setup({ faultMode: 'strict' });
    const key = ns.protection.key!;
    const a = cpu.kmap_local_page(ns.page(1));
    expect(ns.protection.nesting(cpu)).toBe(1);
    const b = cpu.kmap_atomic(ns.page(2));
    expect(ns.protection.nesting(cpu)).toBe(2);
    expect(ns.store(cpu, b + 4, bytes(4)).ok).toBe(true);
    cpu.kunmap_atomic(b);
    expect(ns.store(cpu, a + 4, bytes(5)).ok).toBe(true);
    cpu.kunmap_local(a);
    expect(ns.protection.nesting(cpu)).toBe(0);
    expect(keyDenials(kernel, cpu, key)).toBe(CLOSED);
    expect(cpu.write(a + 4, bytes(6)).ok).toBe(false);
  });

  it('a window nested inside the driver path leaves the key open until the outer close', () => {
    const { ns, cpu } = setup({ faultMode: 'strict' });
    ns.protection.pgmap_set_readwrite(cpu, ns.page(0));
    cpu.kunmap_local(cpu.kmap_local_page(ns.page(0)));
    expect(cpu.write(ns.addressOf(0), bytes(1)).ok).toBe(true);
    ns.protection.pgmap_set_noaccess(cpu, ns.page(0));
  });

  it('an interrupt handler starts with the key closed and its own count, and the thread keeps its window', () => {
    const { kernel, ns, cpu } = setup({ faultMode: 'strict' });
    const a = cpu.kmap_local_page(ns.page(0));
    cpu.interrupt(() => {
      expect(ns.protection.nesting(cpu)).toBe(0);
      expect(keyDenials(kernel, cpu, ns.protection.key!)).toBe(CLOSED);
      const h = cpu.kmap_atomic(ns.page(3));
      expect(ns.store(cpu, h, bytes(3)).ok).toBe(true);
      cpu.kunmap_atomic(h);
    });
    expect(ns.protection.nesting(cpu)).toBe(1);
    expect(ns.store(cpu, a, bytes(1)).ok).toBe(true);
    cpu.kunmap_local(a);
  });

  it('plain kmap() is not supported: it warns once and does not open the key, so even the holder faults', () => {
    const { kernel, ns, cpu } = setup({ faultMode: 'strict' });
    const address = cpu.kmap(ns.page(2));
    cpu.kmap(ns.page(3));
    expect(ns.protection.nesting(cpu)).toBe(0);
    expect(ns.protection.stats.globalKmaps).toBe(2);
    expect(kernel.log.lines().filter((l) => /kmap\(\) of protected pgmap page .* not supported/.test(l))).toHaveLength(
      1,
    );
    expect(cpu.write(address, bytes(1)).ok).toBe(false);
  });
});

describe('the DAX path', () => {
  it('dax_read_lock opens the key for the section; dax_direct_access needs it held', () => {
    const { kernel, ns, cpu } = setup({ faultMode: 'strict' });
    expect(() => ns.dax_direct_access(cpu, 0, 1)).toThrow(/does not hold dax_read_lock/);
    const id = ns.dax_read_lock(cpu);
    const inner = ns.dax_read_lock(cpu);
    const m = ns.dax_direct_access(cpu, 2, 5);
    expect(m).toEqual({ kaddr: ns.addressOf(2 * 4096), pfn: ns.page(2) / 4096, pages: 2 });
    expect(ns.store(cpu, m.kaddr, bytes(9, 9)).ok).toBe(true);
    expect(() => ns.dax_read_unlock(cpu, id)).toThrow(/unbalanced dax_read_unlock/);
    ns.dax_read_unlock(cpu, inner);
    ns.dax_read_unlock(cpu, id);
    expect(keyDenials(kernel, cpu, ns.protection.key!)).toBe(CLOSED);
    expect(() => ns.dax_read_unlock(cpu, 1)).toThrow(/holds 0 DAX read lock/);
  });
});

describe('reboot', () => {
  it('the namespace keeps every intended write across a reboot', () => {
    const { ns, cpu } = setup();
    ns.write(cpu, 10, bytes(1, 2, 3));
    const a = cpu.kmap_local_page(ns.page(3));
    ns.store(cpu, a + 7, bytes(4));
    cpu.kunmap_local(a);
    expect(ns.rebootAndVerify()).toEqual({ bytesCorrupted: 0, pagesCorrupted: 0, firstCorruptOffset: undefined });
    expect(() => ns.write(cpu, 0, bytes(1))).toThrow(/rebooted/);
  });

  it('a stray write that landed shows up as corruption after the reboot', () => {
    const { ns, cpu } = setup({ protection: false });
    ns.write(cpu, 0, bytes(1, 2, 3));
    expect(cpu.write(ns.addressOf(4096 + 5), bytes(7, 7)).ok).toBe(true);
    expect(ns.rebootAndVerify()).toEqual({ bytesCorrupted: 2, pagesCorrupted: 1, firstCorruptOffset: 4101 });
  });

  it("the reboot keeps the machine's event counts: the work before it stays accounted for", () => {
    const { kernel, ns, cpu } = setup();
    ns.write(cpu, 10, bytes(1, 2, 3));
    const events = kernel.machine.events;
    const accesses = events.total(MachineEvent.Access);
    const switches = events.total(MachineEvent.DomainSwitch);
    expect(accesses).toBeGreaterThan(0);
    expect(switches).toBeGreaterThan(0);
    ns.rebootAndVerify();
    expect(events.total(MachineEvent.Access)).toBeGreaterThanOrEqual(accesses);
    expect(events.total(MachineEvent.DomainSwitch)).toBeGreaterThanOrEqual(switches);
  });
});

describe('without a key the namespace runs unprotected and says so', () => {
  const unprotected = (ns: PmemNamespace) => {
    expect(ns.protected).toBe(false);
    expect(ns.protection.key).toBeUndefined();
    expect(ns.kernel.keyAt(ns.address)).toBe(0);
  };

  it('when pks_key_alloc fails (-ENOSPC: every key taken)', () => {
    const kernel = createKernel({ keyDesign: 'dynamic' });
    while (kernel.pks_key_alloc('hog') > 0);
    const ns = PmemNamespace.create(kernel, { pages: 2 });
    unprotected(ns);
    expect(ns.protection.unprotectedReason).toBe('no-key');
    expect(ns.protection.notice).toMatch(
      /stray write protection unavailable \(.*-ENOSPC.*\); namespaces run unprotected/,
    );
    expect(kernel.log.lines()).toContain(ns.protection.notice);
    const cpu = kernel.cpu(0);
    expect(ns.write(cpu, 0, bytes(1)).ok).toBe(true);
    expect(ns.protection.nesting(cpu)).toBe(0);
  });

  it('when the static design has no PKS_KEY_PGMAP_PROTECTION configured', () => {
    const kernel = createKernel({ keyDesign: 'static', consumers: [{ name: 'PKS_KEY_TEST', defaultRights: 'ad' }] });
    const ns = PmemNamespace.create(kernel, { pages: 1 });
    unprotected(ns);
    expect(ns.protection.notice).toMatch(/PKS_KEY_PGMAP_PROTECTION/);
  });

  it.each(['static', 'dynamic'] as const)('when the CPU lacks PKS (-EOPNOTSUPP, %s design)', (keyDesign) => {
    const kernel = createKernel({ keyDesign, features: { supervisorDomains: false } });
    const ns = PmemNamespace.create(kernel, { pages: 2 });
    unprotected(ns);
    expect(ns.protection.unprotectedReason).toBe('unsupported');
    expect(ns.protection.notice).toMatch(/-EOPNOTSUPP/);
    const cpu = kernel.cpu(0);
    const a = cpu.kmap_local_page(ns.page(1));
    expect(ns.store(cpu, a, bytes(5)).ok).toBe(true);
    cpu.kunmap_local(a);
    const id = ns.dax_read_lock(cpu);
    ns.dax_read_unlock(cpu, id);
    expect(ns.rebootAndVerify().bytesCorrupted).toBe(0);
  });

  it('when protection is switched off on purpose', () => {
    const { ns } = setup({ protection: false });
    unprotected(ns);
    expect(ns.protection.unprotectedReason).toBe('disabled');
    expect(ns.protection.notice).toMatch(/disabled by request/);
  });
});
