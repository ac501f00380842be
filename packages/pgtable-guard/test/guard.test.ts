import { AccessKind, PageSize, Privilege } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { entryBytes, PGTABLE_WARNING, PgtableGuard } from '../src';
import { boot, bootExhausted, runThread } from './helpers';

const VA = 0x400000;
const USER_RO = { user: true, writable: false, executable: false } as const;
const KERNEL_RW = { user: false, writable: true, executable: false } as const;

/** A guard with one address space mapping one page at VA, set up by a worker thread on CPU 0. */
function setup(
  cmdline = '',
  prot: { user: boolean; writable: boolean; executable: boolean } = USER_RO,
  kernel = boot(),
) {
  const guard = new PgtableGuard(kernel, { cmdline });
  runThread(kernel, 'mm-worker', 0);
  const mm = guard.pgd_alloc(0);
  const frame = kernel.alloc_page();
  guard.map_page(0, mm, VA, frame, prot);
  const ptep = guard.pte_offset(mm, VA)!;
  return { kernel, guard, mm, frame, ptep };
}

/** A user-mode access on CPU 1 through the guarded address space: 0 or a fault code. */
function userAccess(kernel: ReturnType<typeof boot>, space: number, kind: AccessKind): number {
  const m = kernel.machine;
  const saved = m.activeSpace(1);
  m.activate(1, space);
  m.setMode(1, Privilege.User);
  const code = m.access(1, VA, kind);
  m.setMode(1, Privilege.Supervisor);
  m.activate(1, saved);
  return code;
}

/** The low byte of an entry with `bit` flipped, as a one-byte stray store. */
function flipped(guard: PgtableGuard, ptep: number, bit: number): Uint8Array {
  return new Uint8Array([(guard.readEntry(ptep).lo & 0xff) ^ bit]);
}

describe('guarded page tables are the tables the machine walks', () => {
  it('a page mapped by the setters is translated with the rights the PTE gives', () => {
    const { kernel, mm, frame } = setup();
    expect(kernel.machine.translate(mm.space, VA)).toMatchObject({
      physical: frame,
      user: true,
      writable: false,
      pageSize: PageSize.Size4K,
    });
    expect(userAccess(kernel, mm.space, AccessKind.Read)).toBe(0);
    expect(userAccess(kernel, mm.space, AccessKind.Write)).not.toBe(0);
  });

  it('setters open the key only around their own stores: the thread is write-disabled before and after', () => {
    const { kernel, guard } = setup();
    const key = guard.pgtableKey!;
    const pkrs = kernel.cpu(0).current.pkrs;
    expect(kernel.space!.denialsOf(pkrs, key)).toBe(0x2);
    expect(kernel.stats().rights_write).toBeGreaterThan(0);
  });
});

describe('strict mode (the default)', () => {
  it('a stray store to a PTE oopses with the RFC warning and leaves the entry and translation as they were', () => {
    const { kernel, guard, mm, ptep } = setup();
    const before = guard.readEntry(ptep);
    const { cpu } = runThread(kernel, 'stray', 1);
    const result = cpu.write(ptep, flipped(guard, ptep, guard.format.write.flip.lo));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.oops.key).toBe(guard.pgtableKey);
      expect(result.oops.owner).toBe('PKS_KEY_PG_TABLES');
    }
    expect(kernel.log.lines()).toContain(`WARNING: ${PGTABLE_WARNING}`);
    expect(guard.readEntry(ptep)).toEqual(before);
    expect(userAccess(kernel, mm.space, AccessKind.Write)).not.toBe(0);
    expect(guard.faults).toHaveLength(1);
    expect(guard.faults[0]).toMatchObject({ mode: 'strict', outcome: 'oops', address: ptep });
    expect(guard.state).toBe('enabled');
  });

  it("the window is the opener's alone: another thread's store faults while it is open", () => {
    const { kernel, guard, ptep } = setup();
    guard.enable_pgtable_write(0);
    const { cpu } = runThread(kernel, 'other', 1);
    expect(cpu.write(ptep, flipped(guard, ptep, guard.format.user.flip.lo)).ok).toBe(false);
    expect(kernel.cpu(0).write(ptep, flipped(guard, ptep, guard.format.accessedLo)).ok).toBe(true);
    guard.disable_pgtable_write(0);
  });

  it('a store through a stale pointer after the setter closed its window faults', () => {
    const { kernel, guard, ptep } = setup();
    guard.ptep_set_wrprotect(0, ptep);
    const result = kernel.cpu(0).write(ptep, flipped(guard, ptep, guard.format.write.flip.lo));
    expect(result.ok).toBe(false);
    expect(kernel.cpu(0).current.name).toBe('swapper/0'); // the oops killed the writer
  });

  it('windows nest per thread and an unbalanced close is refused', () => {
    const { kernel, guard, ptep } = setup();
    guard.enable_pgtable_write(0);
    guard.enable_pgtable_write(0);
    guard.disable_pgtable_write(0);
    expect(kernel.cpu(0).write(ptep, flipped(guard, ptep, guard.format.accessedLo)).ok).toBe(true);
    guard.disable_pgtable_write(0);
    expect(() => guard.disable_pgtable_write(0)).toThrow(/no open page-table window/);
  });
});

describe('soft mode (pkstablessoft)', () => {
  it('warns once, abandons protection, and lets this and every later stray store through', () => {
    const { kernel, guard, mm, ptep } = setup('pkstablessoft', KERNEL_RW);
    const { cpu } = runThread(kernel, 'stray', 1);
    const watch = guard.watchStore(ptep, 1);
    expect(cpu.write(ptep, flipped(guard, ptep, guard.format.user.flip.lo)).ok).toBe(true);
    expect(guard.state).toBe('abandoned');
    expect(guard.protected).toBe(false);
    const [change] = guard.storeLanded(watch);
    expect(change.change).toMatchObject({ before: { user: false }, after: { user: true } });
    expect(userAccess(kernel, mm.space, AccessKind.Write)).toBe(0); // the flip granted U/S: user code owns the page
    expect(cpu.write(ptep, flipped(guard, ptep, guard.format.write.flip.lo)).ok).toBe(true);
    expect(kernel.log.lines().filter((l) => l.includes(PGTABLE_WARNING))).toHaveLength(1);
    expect(guard.faults).toEqual([expect.objectContaining({ mode: 'soft', outcome: 'abandoned' })]);
    for (const t of guard.tablePages(mm)) expect(kernel.keyAt(kernel.page_address(t))).toBe(0);
  });

  it('setters keep working after protection is abandoned', () => {
    const { kernel, guard, mm, ptep } = setup('pkstablessoft');
    runThread(kernel, 'stray', 1);
    kernel.cpu(1).write(ptep, flipped(guard, ptep, guard.format.accessedLo));
    guard.map_page(0, mm, VA + 0x1000, kernel.alloc_page(), USER_RO);
    expect(kernel.machine.translate(mm.space, VA + 0x1000)).toBeDefined();
  });
});

describe('nopkstables and key unavailability', () => {
  it('nopkstables: no key is used and a bit flip lands and grants U/S', () => {
    const { kernel, guard, mm, ptep } = setup('nopkstables', KERNEL_RW);
    expect(guard.state).toBe('disabled');
    expect(guard.pgtableKey).toBeUndefined();
    const { cpu } = runThread(kernel, 'stray', 1);
    expect(cpu.write(ptep, flipped(guard, ptep, guard.format.user.flip.lo)).ok).toBe(true);
    expect(userAccess(kernel, mm.space, AccessKind.Read)).toBe(0);
    expect(kernel.log.lines().some((l) => l.includes('nopkstables'))).toBe(true);
  });

  it('a CPU without PKS: the guard says so and the tables still work, unprotected', () => {
    const kernel = boot({ features: { supervisorDomains: false } });
    const { guard, mm, ptep } = setup('', USER_RO, kernel);
    expect(guard.state).toBe('unsupported');
    expect(kernel.log.lines().some((l) => l.includes('-EOPNOTSUPP'))).toBe(true);
    expect(kernel.machine.translate(mm.space, VA)).toBeDefined();
    runThread(kernel, 'stray', 1);
    expect(kernel.cpu(1).write(ptep, flipped(guard, ptep, guard.format.write.flip.lo)).ok).toBe(true);
  });

  it('no key to be had (every dynamic key taken): -ENOSPC, tables unprotected', () => {
    const kernel = bootExhausted();
    const { guard, mm } = setup('', USER_RO, kernel);
    expect(guard.state).toBe('no-key');
    expect(kernel.log.lines().some((l) => l.includes('-ENOSPC'))).toBe(true);
    expect(kernel.machine.translate(mm.space, VA)).toBeDefined();
  });

  it('a static design without PKS_KEY_PG_TABLES has no key either', () => {
    const kernel = boot({ pageTableProtection: false, consumers: [{ name: 'PKS_KEY_TEST', defaultRights: 'ad' }] });
    const guard = new PgtableGuard(kernel);
    expect(guard.state).toBe('no-key');
  });

  it('with a dynamically allocated key (access-disabled at rest) setters work and strays still fault', () => {
    const kernel = boot({ keyDesign: 'dynamic' });
    const { guard, ptep } = setup('', USER_RO, kernel);
    expect(guard.state).toBe('enabled');
    guard.ptep_set_wrprotect(0, ptep);
    const { cpu } = runThread(kernel, 'reader', 1);
    expect(cpu.read(ptep, 8).ok).toBe(true); // the read fault is relaxed to write-disabled
    expect(cpu.write(ptep, flipped(guard, ptep, guard.format.write.flip.lo)).ok).toBe(false);
  });
});

describe('the setters', () => {
  it('ptep_get_and_clear returns the old entry and unmaps the page', () => {
    const { kernel, guard, mm, frame, ptep } = setup();
    const old = guard.ptep_get_and_clear(0, ptep);
    expect(old).toEqual(guard.format.leaf(frame, USER_RO));
    expect(kernel.machine.translate(mm.space, VA)).toBeUndefined();
    expect(guard.unmap_page(0, mm, VA)).toEqual({ lo: 0, hi: 0 });
  });

  it('ptep_set_wrprotect clears R/W; ptep_test_and_clear_young reports and clears Accessed', () => {
    const { kernel, guard, mm, frame, ptep } = setup('', { user: true, writable: true, executable: false });
    guard.ptep_set_wrprotect(0, ptep);
    expect(kernel.machine.translate(mm.space, VA)!.writable).toBe(false);
    const leaf = guard.format.leaf(frame, USER_RO);
    guard.set_pte(0, ptep, { ...leaf, lo: (leaf.lo | guard.format.accessedLo) >>> 0 });
    expect(guard.ptep_test_and_clear_young(0, ptep)).toBe(true);
    expect(guard.ptep_test_and_clear_young(0, ptep)).toBe(false);
  });

  it('clone_pgd_range shares the template subtrees; pgd_free returns only the pages it owned', () => {
    const { kernel, guard, mm } = setup();
    const clone = guard.pgd_alloc(0, { mm, shared: 1 });
    expect(kernel.machine.translate(clone.space, VA)).toMatchObject({ user: true });
    const used = guard.cache.stats().usedPages;
    guard.pgd_free(clone);
    expect(guard.cache.stats().usedPages).toBe(used - 1); // its PGD only
    expect(kernel.machine.translate(mm.space, VA)).toBeDefined();
    guard.pgd_free(mm);
    expect(guard.cache.stats().usedPages).toBe(0);
    expect(() => kernel.machine.translate(mm.space, VA)).toThrow(/was released/); // the machine walks it no more
    expect(() => guard.pgd_free(mm)).toThrow(/not live/);
  });

  it('a freed PGD page can be the next PGD (the machine released the old space); the template freed first leaves the clone working', () => {
    const { kernel, guard, mm, frame } = setup();
    const clone = guard.pgd_alloc(0, { mm, shared: 1 });
    guard.pgd_free(mm); // the clone still links the shared subtree: it is the owner now
    expect(kernel.machine.translate(clone.space, VA)).toMatchObject({ physical: frame });
    guard.ptep_set_wrprotect(0, guard.pte_offset(clone, VA)!);
    expect(kernel.machine.translate(clone.space, VA)).toMatchObject({ writable: false });
    const next = guard.pgd_alloc(0);
    expect(next.pgd).toBe(mm.pgd); // the cache hands the freed page out again
    guard.map_page(0, next, VA, frame, USER_RO);
    expect(kernel.machine.translate(next.space, VA)).toMatchObject({ physical: frame });
  });

  it('a space a CPU is running in cannot be freed', () => {
    const { kernel, guard, mm } = setup();
    kernel.machine.activate(1, mm.space);
    expect(() => guard.pgd_free(mm)).toThrow(/EBUSY|running on CPU 1/);
    kernel.machine.activate(1, 0);
    guard.pgd_free(mm);
    expect(guard.addressSpaces).toEqual([]);
  });

  it('set_pgd/set_p4d/set_pud/set_pmd write through the window; bad pointers are refused', () => {
    const { kernel, guard, mm } = setup();
    const pmdp = guard.pte_offset(mm, VA, 2)!;
    const pudp = guard.pte_offset(mm, VA, 3)!;
    const pgdp = guard.pte_offset(mm, VA, 4)!;
    for (const [setter, at] of [
      [guard.set_pmd, pmdp],
      [guard.set_pud, pudp],
      [guard.set_p4d, pgdp],
      [guard.set_pgd, pgdp],
    ] as const) {
      const entry = guard.readEntry(at);
      setter.call(guard, 0, at, entry);
      expect(guard.readEntry(at)).toEqual(entry);
    }
    expect(() => guard.set_pte(0, kernel.page_address(kernel.alloc_page()), guard.format.leaf(0, USER_RO))).toThrow(
      /not an entry of a page-table page/,
    );
    expect(() => guard.map_page(0, mm, 0x400001, 0, USER_RO)).toThrow(/page-aligned user address/);
    expect(entryBytes(guard.format.leaf(0x1234000, KERNEL_RW))).toHaveLength(8);
  });
});
