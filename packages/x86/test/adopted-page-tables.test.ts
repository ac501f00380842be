// KitMachine.adoptAddressSpace: page tables a kernel built in physical memory become an address
// space the walker reads as they are, so a PTE store (plus the INVLPG the SDM requires, 4.10.4.2)
// is the translation: no mirror, no re-walk.
import { describe, expect, it } from 'vitest';
import { AccessKind, DomainError } from '@pkeysim/core';
import { E_RW, FAULT_PF, PF, X86Machine, x86Descriptors } from '../src/index';

const VA = 0x40201000;

/** A 4-level tree for VA built by "kernel" code: every table allocated and written by hand. */
function kernelBuiltTables(machine: X86Machine) {
  const codec = x86Descriptors(4);
  const table = () => machine.allocatePhysical(0x1000);
  const [pml4, pdpt, pd, pt] = [table(), table(), table(), table()];
  const page = machine.allocatePhysical(0x1000);
  const write = (at: number, e: { lo: number; hi: number }) => machine.memory.writeEntry(at, e.lo, e.hi);
  write(pml4 + (Math.floor(VA / 2 ** 39) & 511) * 8, codec.encodeTable(pdpt));
  write(pdpt + (Math.floor(VA / 2 ** 30) & 511) * 8, codec.encodeTable(pd));
  write(pd + (Math.floor(VA / 2 ** 21) & 511) * 8, codec.encodeTable(pt));
  const pte = pt + (Math.floor(VA / 2 ** 12) & 511) * 8;
  write(pte, codec.encodeLeaf(page, 0, { user: true, writable: true, executable: false, global: false, domain: 3 }));
  return { pml4, pte, page };
}

describe('adoptAddressSpace: tables a kernel placed in memory', () => {
  it('the walker reads the adopted tables: translate and a checked access agree with them', () => {
    const machine = new X86Machine({ cpus: 1 });
    const { pml4, page } = kernelBuiltTables(machine);
    const space = machine.adoptAddressSpace(pml4);
    expect(machine.rootOf(space)).toBe(pml4);
    expect(machine.translate(space, VA + 8)).toMatchObject({
      physical: page + 8,
      user: true,
      writable: true,
      domain: 3,
    });
    machine.activate(0, space);
    expect(machine.cpu(0).cr3).toBe(pml4);
    expect(machine.access(0, VA, AccessKind.Write)).toBe(0);
  });

  it('a PTE store followed by INVLPG is the new translation (write-through, no mirror)', () => {
    const machine = new X86Machine({ cpus: 1 });
    const { pml4, pte } = kernelBuiltTables(machine);
    machine.activate(0, machine.adoptAddressSpace(pml4));
    const cpu = machine.cpu(0);
    cpu.setCpl(3);
    expect(cpu.access(VA, AccessKind.Write)).toBe(0);
    const words = new Int32Array(2);
    machine.memory.readEntry(pte, words);
    machine.memory.writeEntry(pte, (words[0] & ~E_RW) >>> 0, words[1] >>> 0); // read-only now
    cpu.asKernel((k) => k.invlpg(VA));
    expect(cpu.access(VA, AccessKind.Write)).toBe(FAULT_PF | PF.P | PF.WR | PF.US);
  });

  it('refuses a misaligned root, one outside memory and an existing root, changing nothing', () => {
    const machine = new X86Machine({ cpus: 1 });
    const spaces = () => machine.createAddressSpace();
    expect(() => machine.adoptAddressSpace(0x1008)).toThrow(DomainError);
    expect(() => machine.adoptAddressSpace(2 ** 45)).toThrow(/not inside RAM or PMEM/);
    expect(() => machine.adoptAddressSpace(machine.rootOf(0))).toThrow(/already the root of address space 0/);
    expect(spaces()).toBe(1); // nothing was added before
  });
});
