// Intel SDM vol. 3, 4.10.4 ("Invalidation of TLBs and Paging-Structure Caches") with 4.10.2.2: a
// TLB entry caches the protection key of the translation, so after software changes a PTE's key
// "behind" the TLB, accesses keep using the cached (stale) key until the entry is invalidated:
// INVLPG of the page, or a MOV to CR3 without PCIDs (which drops every non-global entry).
import { describe, expect, it } from 'vitest';
import { AccessKind, MachineEvent } from '@pkeysim/core';
import { CR4, E_PKEY_HI, E_PKEY_SHIFT, FAULT_PF, PF, X86Machine } from '../src/index';
import { AD } from './helpers';

const USER = 0x40000000;
const OLD_KEY = 1;
const NEW_KEY = 2;

/** A user page tagged OLD_KEY, PKRU denying every access through NEW_KEY, the CPU at CPL 3. */
function machineWithCachedKey() {
  const machine = new X86Machine({ cpus: 1 });
  const cpu = machine.cpu(0);
  const pa = machine.allocatePhysical(0x1000);
  machine.map(0, USER, pa, 0x1000, { user: true, writable: true, executable: false, domain: OLD_KEY });
  cpu.movToCr4(cpu.cr4 | CR4.PKE);
  cpu.wrpkru(AD(NEW_KEY));
  cpu.setCpl(3);
  expect(cpu.access(USER, AccessKind.Read)).toBe(0); // walks and caches the translation with OLD_KEY
  return { machine, cpu };
}

/** Rewrite the leaf's key to NEW_KEY in memory, with no invalidation (what a buggy kernel would do). */
function retagBehindTheTlb(machine: X86Machine): void {
  const leaf = machine.pageTables.findLeaf(machine.rootOf(0), USER)!;
  const hi = ((leaf.hi & ~E_PKEY_HI) | (NEW_KEY << E_PKEY_SHIFT)) >>> 0;
  machine.memory.writeEntry(leaf.entryAt, leaf.lo, hi);
  expect(machine.translate(0, USER)?.domain).toBe(NEW_KEY); // the tables say NEW_KEY now
}

const PK_READ_FAULT = FAULT_PF | PF.P | PF.US | PF.PK;

describe('SDM 4.10.4: a protection key cached in the TLB stays in effect until the page is invalidated', () => {
  it('after the PTE key changes behind the TLB, accesses still use the cached key (no re-read of the PTE)', () => {
    const { machine, cpu } = machineWithCachedKey();
    retagBehindTheTlb(machine);
    const walks = machine.events.get(0, MachineEvent.PageWalk);
    // NEW_KEY is access-disabled: only the stale OLD_KEY explains an allowed access.
    expect(cpu.access(USER, AccessKind.Read)).toBe(0);
    expect(cpu.access(USER + 8, AccessKind.Read)).toBe(0);
    expect((machine.tlb(0).flags[(USER / 0x1000) & machine.tlb(0).mask] >>> 16) & 0xff).toBe(OLD_KEY);
    expect(machine.events.get(0, MachineEvent.PageWalk)).toBe(walks);
  });

  it('INVLPG of the page makes the new key take effect', () => {
    const { machine, cpu } = machineWithCachedKey();
    retagBehindTheTlb(machine);
    expect(cpu.access(USER, AccessKind.Read)).toBe(0);
    cpu.asKernel((k) => k.invlpg(USER));
    expect(cpu.access(USER, AccessKind.Read)).toBe(PK_READ_FAULT);
    expect(machine.lastFault(0)?.cause).toBe('domain');
  });

  it('a MOV to CR3 without PCIDs makes the new key take effect', () => {
    const { machine, cpu } = machineWithCachedKey();
    retagBehindTheTlb(machine);
    expect(cpu.access(USER, AccessKind.Read)).toBe(0);
    cpu.asKernel((k) => k.movToCr3(k.cr3));
    expect(cpu.access(USER, AccessKind.Read)).toBe(PK_READ_FAULT);
  });

  it('INVLPG of another page leaves the stale key in effect', () => {
    const { machine, cpu } = machineWithCachedKey();
    retagBehindTheTlb(machine);
    cpu.asKernel((k) => k.invlpg(USER + 0x200000));
    expect(cpu.access(USER, AccessKind.Read)).toBe(0);
  });
});
