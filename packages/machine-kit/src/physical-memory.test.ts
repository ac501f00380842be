import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from './physical-memory';

const make = () => new PhysicalMemory({ ramBytes: 1 << 20, persistentBytes: 1 << 20, maxPhysAddr: 40 });

describe('PhysicalMemory', () => {
  it('allocates frames only when written', () => {
    const memory = make();
    const pa = memory.allocate(3 * 4096);
    expect(memory.allocatedFrames).toBe(0);
    expect(memory.read(pa, 8)).toEqual(new Uint8Array(8));
    memory.write(pa + 4094, new Uint8Array([1, 2, 3, 4]));
    expect(memory.allocatedFrames).toBe(2);
    expect([...memory.read(pa + 4094, 4)]).toEqual([1, 2, 3, 4]);
  });

  it('places PMEM at the next 1 GiB boundary and keeps it across reboot while RAM is lost', () => {
    const memory = make();
    const ram = memory.allocate(4096);
    const pmem = memory.allocate(4096, { persistent: true });
    expect(pmem).toBe(0x40000000);
    memory.write(ram, new Uint8Array([7]));
    memory.write(pmem, new Uint8Array([9]));
    memory.reboot();
    expect(memory.read(ram, 1)[0]).toBe(0);
    expect(memory.read(pmem, 1)[0]).toBe(9);
    expect(memory.allocate(4096, { persistent: true })).toBe(pmem);
  });

  it('refuses ranges outside the regions, bad alignments and exhaustion with RangeErrors', () => {
    const memory = make();
    expect(() => memory.read(0x100000, 1)).toThrow(/not inside one RAM or PMEM region/);
    expect(() => memory.allocate(4096, { align: 3000 })).toThrow(/power of two/);
    expect(() => memory.allocate(2 << 20)).toThrow(/out of RAM/);
    expect(() => new PhysicalMemory({ ramBytes: 0, persistentBytes: 0, maxPhysAddr: 40 })).toThrow(/ramBytes/);
  });

  it('reads and writes descriptors as two words', () => {
    const memory = make();
    const words = new Int32Array(2);
    memory.writeEntry(0x1008, 0xdeadbeef, 0x80000001);
    memory.readEntry(0x1008, words);
    expect([words[0] >>> 0, words[1] >>> 0]).toEqual([0xdeadbeef, 0x80000001]);
    memory.readEntry(0x5000, words);
    expect([...words]).toEqual([0, 0]);
  });

  it('keeps every frame its own across slabs and reboots: each reads what was written to it, new ones zeros', () => {
    const memory = make();
    // 100 frames span several slabs; RAM frames 0..49, PMEM frames 0..49 (2 bytes per frame, at both ends).
    const pmemBase = 0x40000000;
    const at = (i: number) => (i < 50 ? i * 4096 : pmemBase + (i - 50) * 4096);
    for (let i = 0; i < 100; i++) {
      memory.write(at(i), new Uint8Array([i]));
      memory.write(at(i) + 4095, new Uint8Array([i + 1]));
    }
    for (let i = 0; i < 100; i++)
      expect([...memory.read(at(i), 1), ...memory.read(at(i) + 4095, 1)]).toEqual([i, i + 1]);
    memory.reboot();
    for (let i = 0; i < 100; i++) {
      const kept = i >= 50;
      expect(memory.read(at(i), 1)[0]).toBe(kept ? i : 0);
      expect(memory.frameIfPresent(at(i) / 4096)?.[0]).toBe(kept ? i : undefined);
    }
    // Frames written after the reboot are fresh (zero but what is written), PMEM's are still there.
    for (let i = 0; i < 50; i++) memory.writeEntry(at(i) + 8, i, 0);
    for (let i = 0; i < 50; i++)
      expect([...memory.read(at(i), 16)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, i, 0, 0, 0, 0, 0, 0, 0]);
    expect(memory.read(at(60) + 4095, 1)[0]).toBe(61);
  });
});
