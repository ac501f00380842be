// The guarded tables are the tables the MMU walks, on every architecture the guard runs on: a
// setter's store is the translation at once (no sync, no mirror), a changed present entry is
// flushed from the TLBs, and a stray store to a table page still faults on the page-table key.
import '@pkeysim/x86';
import '@pkeysim/arm64-poe';
import '@pkeysim/power';
import { AccessKind, inPlacePageTables, MachineEvent, Privilege } from '@pkeysim/core';
import { createKernel, type Kernel } from '@pkeysim/kernel';
import { describe, expect, it } from 'vitest';
import { PgtableGuard, runPgtableCampaign } from '../src';
import { runThread } from './helpers';

const VA = 0x400000;
const USER_RW = { user: true, writable: true, executable: false } as const;
const ARCHES = ['x86', 'arm64-poe', 'power'] as const;

function setup(arch: string, cmdline = '') {
  const kernel = createKernel({ arch, cpus: 2, keyDesign: 'static', pageTableProtection: true });
  const guard = new PgtableGuard(kernel, { cmdline });
  runThread(kernel, 'mm-worker', 0);
  const mm = guard.pgd_alloc(0);
  const frame = kernel.alloc_page();
  return { kernel, guard, mm, frame };
}

/** A user-mode access on CPU 1 inside `space` (left active, so its TLB entries stay): 0 or a fault code. */
function userAccess(kernel: Kernel, space: number, kind: AccessKind): number {
  const m = kernel.machine;
  if (m.activeSpace(1) !== space) m.activate(1, space);
  m.setMode(1, Privilege.User);
  const code = m.access(1, VA, kind);
  m.setMode(1, Privilege.Supervisor);
  return code;
}

describe.each(ARCHES)('%s: the guard writes the tables the MMU walks', (arch) => {
  it('the machine walks the guarded PGD itself: the adopted root is the PGD page', () => {
    const { kernel, mm } = setup(arch);
    expect(inPlacePageTables(kernel.machine)!.rootsOf(mm.space).lower).toBe(mm.pgd);
  });

  it('a store through the guard is visible to machine.translate() at once, with no sync', () => {
    const { kernel, guard, mm, frame } = setup(arch);
    expect(kernel.machine.translate(mm.space, VA)).toBeUndefined();
    guard.map_page(0, mm, VA, frame, USER_RW);
    expect(kernel.machine.translate(mm.space, VA)).toMatchObject({ physical: frame, user: true, writable: true });
    // The entry in memory is in the machine's own format: its codec reads it back as this leaf.
    const codec = inPlacePageTables(kernel.machine)!.codec;
    const pte = guard.readEntry(guard.pte_offset(mm, VA)!);
    expect(codec.isValid(pte.lo, pte.hi, 0) && codec.isLeaf(pte.lo, pte.hi, 0)).toBe(true);
    expect(codec.outputAddress(pte.lo, pte.hi, 0)).toBe(frame);
    guard.ptep_set_wrprotect(0, guard.pte_offset(mm, VA)!);
    expect(kernel.machine.translate(mm.space, VA)).toMatchObject({ physical: frame, writable: false });
    guard.unmap_page(0, mm, VA);
    expect(kernel.machine.translate(mm.space, VA)).toBeUndefined();
  });

  it('changing a present PTE flushes it from every TLB: a cached writable translation does not outlive wrprotect', () => {
    const { kernel, guard, mm, frame } = setup(arch);
    guard.map_page(0, mm, VA, frame, USER_RW);
    expect(userAccess(kernel, mm.space, AccessKind.Write)).toBe(0); // now cached in CPU 1's TLB
    const events = kernel.machine.events;
    const flushes = events.total(MachineEvent.TlbFlushPage);
    const shootdowns = events.total(MachineEvent.Shootdown);
    guard.ptep_set_wrprotect(0, guard.pte_offset(mm, VA)!);
    expect(events.total(MachineEvent.TlbFlushPage)).toBe(flushes + 2); // one page on each CPU
    expect(events.total(MachineEvent.Shootdown)).toBe(shootdowns + 1); // CPU 0 asked CPU 1
    expect(userAccess(kernel, mm.space, AccessKind.Write)).not.toBe(0);
    expect(userAccess(kernel, mm.space, AccessKind.Read)).toBe(0);
  });

  it('a new mapping needs no flush (not-present entries are never cached) and counts one PTE write', () => {
    const { kernel, guard, mm, frame } = setup(arch);
    guard.map_page(0, mm, VA, frame, USER_RW); // links PUD, PMD and PTE tables: four entries written
    const events = kernel.machine.events;
    const writes = events.total(MachineEvent.PteWrite);
    const flushes = events.total(MachineEvent.TlbFlushPage);
    guard.map_page(0, mm, VA + 0x1000, frame, USER_RW);
    expect(events.total(MachineEvent.PteWrite)).toBe(writes + 1);
    expect(events.total(MachineEvent.TlbFlushPage)).toBe(flushes);
  });

  it('a stray store to a page-table page faults on the page-table key and changes nothing', () => {
    const { kernel, guard, mm, frame } = setup(arch);
    guard.map_page(0, mm, VA, frame, { user: true, writable: false, executable: false });
    const ptep = guard.pte_offset(mm, VA)!;
    const before = guard.readEntry(ptep);
    const { cpu } = runThread(kernel, 'stray', 1);
    const grant = guard.format.withWrite(before);
    const result = cpu.write(ptep, new Uint8Array([grant.lo & 0xff, (grant.lo >>> 8) & 0xff]));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.oops.owner).toBe('PKS_KEY_PG_TABLES');
    expect(guard.readEntry(ptep)).toEqual(before);
    expect(kernel.machine.translate(mm.space, VA)).toMatchObject({ writable: false });
    expect(guard.faults).toEqual([expect.objectContaining({ address: ptep, outcome: 'oops' })]);
  });

  it('with protection off a stray bit flip lands and the MMU honours it at once; the report says what it granted', () => {
    const { kernel, guard, mm, frame } = setup(arch, 'nopkstables');
    guard.map_page(0, mm, VA, frame, { user: true, writable: false, executable: false });
    const ptep = guard.pte_offset(mm, VA)!;
    // No access first: a TLB may keep a read-only translation after a permission fault (arm64
    // does), and a stray store flushes nothing.
    expect(kernel.machine.translate(mm.space, VA)).toMatchObject({ writable: false });
    const entry = guard.readEntry(ptep);
    const flipped = guard.format.withWrite(entry);
    const watch = guard.watchStore(ptep, 4);
    const { cpu } = runThread(kernel, 'stray', 1);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, flipped.lo, true);
    expect(cpu.write(ptep, bytes).ok).toBe(true);
    expect(guard.storeLanded(watch)).toEqual([
      { mm, change: expect.objectContaining({ virtual: VA, before: expect.objectContaining({ writable: false }) }) },
    ]);
    expect(guard.storeLanded(watch)[0].change.after).toMatchObject({ writable: true });
    expect(userAccess(kernel, mm.space, AccessKind.Write)).toBe(0);
  });

  it('the campaign blocks every stray with protection on and lands them with it off', () => {
    const on = runCampaign(arch, true);
    expect(on.strays_blocked).toBe(on.strays_attempted);
    expect(on.granted_rights).toEqual([]);
    const off = runCampaign(arch, false);
    expect(off.strays_landed).toBe(off.strays_attempted);
    expect(off.granted_rights!.length).toBeGreaterThan(0);
  });
});

function runCampaign(arch: string, protection: boolean) {
  return runPgtableCampaign({ seed: 3, protection, mode: 'strict', arch });
}
