// Intel SDM vol. 3, 4.10.3 (paging-structure caches) and 4.10.4.1: the machine keeps, per CPU, the
// leaf table of recently walked regions and the rights folded above it, so a TLB miss in such a
// region reads only the PTE. INVLPG (of any page), a CR3 load and a #PF invalidate those entries, so
// an edit of an upper-level entry followed by an invalidation is always seen.
import { describe, expect, it } from 'vitest';
import { AccessKind } from '@pkeysim/core';
import { FAULT_PF, PF, X86Machine } from '../src/index';

const USER = 0x40000000;

/** Two user pages in one 2 MiB region, both accessed once at CPL 3 (the region's leaf table cached). */
function warmMachine() {
  const machine = new X86Machine({ cpus: 1 });
  const cpu = machine.cpu(0);
  const pa = machine.allocatePhysical(0x2000);
  machine.map(0, USER, pa, 0x2000, { user: true, writable: true, executable: false });
  cpu.setCpl(3);
  expect(cpu.access(USER, AccessKind.Read)).toBe(0);
  return { machine, cpu };
}

/** Clear U/S in the PDE that maps USER's leaf table (an upper-level edit). */
function makeRegionSupervisor(machine: X86Machine): void {
  const root = machine.rootOf(0);
  const words = new Int32Array(2);
  let table = root;
  // PML4 -> PDPT -> PD: the PDE is the level-2 entry of USER.
  for (const shift of [39, 30]) {
    machine.memory.readEntry(table + (Math.floor(USER / 2 ** shift) & 511) * 8, words);
    table = (words[0] & 0xfffff000) >>> 0;
  }
  const pde = table + (Math.floor(USER / 2 ** 21) & 511) * 8;
  machine.memory.readEntry(pde, words);
  machine.memory.writeEntry(pde, (words[0] & ~0x4) >>> 0, words[1] >>> 0);
}

const US_READ_FAULT = FAULT_PF | PF.P | PF.US;

describe('SDM 4.10.3/4.10.4.1: paging-structure-cache entries go with every invalidation', () => {
  it('INVLPG of a page in another 2 MiB region drops the cached PDE too: an upper-level U/S edit takes effect', () => {
    const { machine, cpu } = warmMachine();
    makeRegionSupervisor(machine);
    cpu.asKernel((k) => k.invlpg(USER + 0x400000)); // SDM 4.10.4.1: all paging-structure-cache entries
    expect(cpu.access(USER + 0x1000, AccessKind.Read)).toBe(US_READ_FAULT);
  });

  it('a MOV to CR3 drops the cached PDE', () => {
    const { machine, cpu } = warmMachine();
    makeRegionSupervisor(machine);
    cpu.asKernel((k) => k.movToCr3(k.cr3));
    expect(cpu.access(USER + 0x1000, AccessKind.Read)).toBe(US_READ_FAULT);
  });

  it('a miss in a cached region gives the same translation and rights as a full walk', () => {
    const { machine, cpu } = warmMachine();
    expect(cpu.access(USER + 0x1000, AccessKind.Write)).toBe(0); // walks from the cached leaf table
    expect(cpu.cachedFrame(USER + 0x1000)).toBe(machine.translate(0, USER + 0x1000)!.physical);
    cpu.asKernel((k) => k.invlpg(USER + 0x1000));
    expect(cpu.access(USER + 0x1000, AccessKind.Write)).toBe(0); // a full walk this time
    expect(cpu.cachedFrame(USER + 0x1000)).toBe(machine.translate(0, USER + 0x1000)!.physical);
  });
});
