// releaseAddressSpace: software freed an adopted space's tables (Linux pgd_free), so the machine
// walks and writes that root no more and the page may be adopted again.
import { describe, expect, it } from 'vitest';
import { ToyMachine, toyCodec } from './toy-arch';

const UVA = 0x403000;
const KVA = -0x778000000000;
const page = { user: true, writable: true, executable: false, global: false, domain: 0 };

/** A one-page tree for UVA built by hand in fresh tables; returns its root. */
function handBuilt(machine: ToyMachine): number {
  const [l3, l2, l1, l0] = [0, 1, 2, 3].map(() => machine.allocatePhysical(0x1000));
  const put = (table: number, level: number, e: { lo: number; hi: number }) =>
    machine.memory.writeEntry(table + (Math.floor(UVA / 2 ** (12 + 9 * level)) % 512) * 8, e.lo, e.hi);
  put(l3, 3, toyCodec.encodeTable(l2));
  put(l2, 2, toyCodec.encodeTable(l1));
  put(l1, 1, toyCodec.encodeTable(l0));
  put(l0, 0, toyCodec.encodeLeaf(machine.allocatePhysical(0x1000), 0, page));
  return l3;
}

describe('KitMachine.releaseAddressSpace', () => {
  it('a released space is refused from then on, and its root can be adopted again', () => {
    const machine = new ToyMachine({ cpus: 2 });
    const root = handBuilt(machine);
    const space = machine.adoptAddressSpace(root);
    expect(machine.translate(space, UVA)).toBeDefined();
    machine.releaseAddressSpace(space);
    expect(() => machine.translate(space, UVA)).toThrow(/was released/);
    expect(() => machine.activate(0, space)).toThrow(/was released/);
    expect(() => machine.releaseAddressSpace(space)).toThrow(/was released/);
    const again = machine.adoptAddressSpace(root);
    expect(again).not.toBe(space);
    expect(machine.translate(again, UVA)).toBeDefined();
  });

  it('refuses space 0, a space a CPU runs in, and one that does not exist, changing nothing', () => {
    const machine = new ToyMachine({ cpus: 2 });
    const space = machine.adoptAddressSpace(handBuilt(machine));
    expect(() => machine.releaseAddressSpace(0)).toThrow(/cannot be released/);
    machine.activate(1, space);
    expect(() => machine.releaseAddressSpace(space)).toThrow(/active on CPU 1/);
    expect(() => machine.releaseAddressSpace(9)).toThrow(/does not exist/);
    expect(machine.translate(space, UVA)).toBeDefined();
  });

  it("'shared-upper': new kernel-half entries are no longer copied into a released root", () => {
    const machine = new ToyMachine({ cpus: 1, layout: 'shared-upper' });
    const root = machine.allocatePhysical(0x1000);
    const space = machine.adoptAddressSpace(root);
    machine.releaseAddressSpace(space);
    const words = new Int32Array(2);
    machine.map(0, KVA, machine.allocatePhysical(0x1000), 0x1000, { ...page, user: false });
    for (let index = 256; index < 512; index++) {
      machine.memory.readEntry(root + index * 8, words);
      expect(words[0] | words[1]).toBe(0);
    }
  });
});
