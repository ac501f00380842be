import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessKind, MachineEvent, PageSize } from '@pkeysim/core';
import {
  CR4,
  decodeEntry,
  E_A,
  E_D,
  E_PS,
  encodeEntry,
  MSR,
  PhysicalMemory,
  reservedBits,
  reservedHighMask,
  X86Machine,
  type PagingLevel,
} from '../src/index';

const KERNEL = -0x778000000000; // 0xffff888000000000

function machineWithPage(
  attrs: { user?: boolean; writable?: boolean; global?: boolean; pageSize?: PageSize; domain?: number } = {},
) {
  const machine = new X86Machine({ cpus: 2 });
  const size = attrs.pageSize ?? PageSize.Size4K;
  const pa = machine.allocatePhysical(size, { align: size });
  machine.map(0, KERNEL, pa, size, {
    user: attrs.user ?? false,
    writable: attrs.writable ?? true,
    executable: false,
    domain: attrs.domain ?? 1,
    pageSize: size,
    global: attrs.global,
  });
  return { machine, cpu: machine.cpu(0), pa };
}

describe('paging-structure entries', () => {
  it('encode/decode round trip for every field at every level (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<PagingLevel>(1, 2, 3, 4, 5),
        fc.boolean(),
        fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
        fc.nat({ max: 2 ** 22 - 1 }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 0x7ff }),
        (level, large, b, frame, pkey, ignoredLow, ignoredHigh) => {
          const leafLarge = large && (level === 2 || level === 3);
          const isLeaf = level === 1 || leafLarge;
          const align = leafLarge ? 2 ** (12 + 9 * (level - 1)) : 4096;
          const entry = {
            present: b[0],
            writable: b[1],
            user: b[2],
            writeThrough: b[3],
            cacheDisable: b[4],
            accessed: b[5],
            dirty: b[6],
            pageSize: leafLarge,
            pat: isLeaf ? b[7] : false,
            global: b[8],
            executeDisable: b[9],
            address: Math.floor((frame * 4096) / align) * align,
            pkey: isLeaf ? pkey : 0,
            ignoredLow,
            ignoredHigh: isLeaf ? ignoredHigh & 0x7f : ignoredHigh,
          };
          const { lo, hi } = encodeEntry(entry, level);
          expect(decodeEntry(lo, hi, level)).toEqual(entry);
          expect(encodeEntry(decodeEntry(lo, hi, level), level)).toEqual({ lo, hi });
        },
      ),
    );
  });
  it('the key lives in bits 62:59 of a leaf; bits 62:52 of a non-leaf entry are ignored', () => {
    const { hi } = encodeEntry({ ...decodeEntry(1, 0, 1), pkey: 9 }, 1);
    expect((hi >>> 27) & 15).toBe(9);
    expect(decodeEntry(1, 0x78000000, 4).pkey).toBe(0);
    expect(() => encodeEntry({ ...decodeEntry(1, 0, 4), pkey: 1 }, 4)).toThrow(/leaf/);
  });
  it('reserved bits: above MAXPHYADDR, PS in PML4E/PML5E, 20:13 of 2M and 29:13 of 1G leaves, XD without NXE', () => {
    const hiMask = reservedHighMask(46, true);
    expect(reservedBits(1, 1 << 14, 1, hiMask)).not.toBe(0); // address bit 46
    expect(reservedBits(1 | E_PS, 0, 4, hiMask)).not.toBe(0);
    expect(reservedBits(1 | E_PS, 0, 5, hiMask)).not.toBe(0);
    expect(reservedBits(1 | E_PS | (1 << 13), 0, 2, hiMask)).not.toBe(0);
    expect(reservedBits(1 | E_PS | (1 << 21), 0, 3, hiMask)).not.toBe(0);
    expect(reservedBits(1 | E_PS | (1 << 12), 0, 2, hiMask)).toBe(0); // PAT
    expect(reservedBits(1, 0x80000000, 1, reservedHighMask(46, false))).not.toBe(0);
    expect(reservedBits(1, 0x80000000, 1, hiMask)).toBe(0);
  });
  it('a reserved bit in a present entry faults with RSVD=1 and P=1, never PK', () => {
    const { machine, cpu } = machineWithPage();
    const leaf = machine.pageTables.findLeaf(machine.rootOf(0), KERNEL)!;
    machine.memory.writeEntry(leaf.entryAt, leaf.lo, leaf.hi | (1 << 18)); // address bit 50 >= MAXPHYADDR 46
    cpu.movToCr4(cpu.cr4 | CR4.PKS);
    cpu.wrmsr(MSR.IA32_PKRS, 0xffffffff, 0);
    expect(cpu.access(KERNEL, AccessKind.Read)).toBe(0x10000 | 0x9);
    expect(machine.lastFault(0)?.cause).toBe('reserved');
  });
  it('XD with EFER.NXE=0 is a reserved bit', () => {
    const { machine, cpu } = machineWithPage();
    cpu.wrmsr(MSR.IA32_EFER, cpu.efer & ~(1 << 11), 0);
    expect(machine.access(0, KERNEL, AccessKind.Read)).toBe(0x10000 | 0x9);
  });
});

describe('walks, accessed and dirty bits', () => {
  it('a walk sets A on every level and D on the leaf only for a write', () => {
    const { machine, cpu } = machineWithPage();
    const root = machine.rootOf(0);
    expect(cpu.access(KERNEL, AccessKind.Read)).toBe(0);
    const leaf = machine.pageTables.findLeaf(root, KERNEL)!;
    expect(leaf.lo & E_A).toBe(E_A);
    expect(leaf.lo & E_D).toBe(0);
    const words = new Int32Array(2);
    machine.memory.readEntry(root + 273 * 8, words); // PML4 index of 0xffff888000000000
    expect(words[0] & E_A).toBe(E_A);
    expect(cpu.access(KERNEL, AccessKind.Write)).toBe(0);
    expect(machine.pageTables.findLeaf(root, KERNEL)!.lo & E_D).toBe(E_D);
  });
  it('a write hitting a TLB entry with D=0 re-walks to set D', () => {
    const { machine, cpu } = machineWithPage();
    cpu.access(KERNEL, AccessKind.Read);
    const walks = machine.events.get(0, MachineEvent.PageWalk);
    cpu.access(KERNEL, AccessKind.Read);
    expect(machine.events.get(0, MachineEvent.PageWalk)).toBe(walks);
    cpu.access(KERNEL, AccessKind.Write);
    expect(machine.events.get(0, MachineEvent.PageWalk)).toBe(walks + 1);
    cpu.access(KERNEL, AccessKind.Write);
    expect(machine.events.get(0, MachineEvent.PageWalk)).toBe(walks + 1);
  });
  it('U/S and R/W are ANDed across levels: a supervisor non-leaf entry makes the address supervisor-mode', () => {
    const { machine, cpu } = machineWithPage({ user: true });
    const root = machine.rootOf(0);
    const words = new Int32Array(2);
    machine.memory.readEntry(root + 273 * 8, words);
    machine.memory.writeEntry(root + 273 * 8, words[0] & ~0x6, words[1]); // clear U/S and R/W in the PML4E
    cpu.setCpl(3);
    expect(cpu.access(KERNEL, AccessKind.Read)).toBe(0x10000 | 0x5);
    cpu.setCpl(0);
    expect(cpu.access(KERNEL, AccessKind.Write)).toBe(0x10000 | 0x3);
  });
  it('5-level paging walks the PML5 level (an address with a nonzero PML5 index)', () => {
    const machine = new X86Machine({ pagingLevels: 5 });
    const va = 3 * 2 ** 48 + 0x1000;
    const pa = machine.allocatePhysical(0x1000);
    machine.map(0, va, pa, 0x1000, { user: true, writable: true, executable: true });
    expect(machine.translate(0, va + 8)?.physical).toBe(pa + 8);
    expect(machine.access(0, va, AccessKind.Write)).toBe(0);
    expect(machine.access(0, 2 ** 48 + 0x1000, AccessKind.Read)).toBe(0x10000 | 0x0);
  });
  it('a non-canonical address raises #GP, not #PF', () => {
    const machine = new X86Machine();
    expect(machine.access(0, 2 ** 47, AccessKind.Read)).toBe(0x20000);
    expect(machine.lastFault(0)?.detail.vector).toBe('#GP');
  });
});

describe('TLB', () => {
  it('caches the key, not the rights: a PKRU/PKRS write never changes a cached translation, only the outcome (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.boolean(),
        fc.constantFrom(0, 1),
        (pkru, pkrs, user, kind) => {
          const { machine, cpu } = machineWithPage({ user });
          cpu.movToCr4(cpu.cr4 | CR4.PKE | CR4.PKS);
          cpu.access(KERNEL, AccessKind.Write); // warm with D=1 (keys all open: registers 0)
          const tlb = cpu.tlb;
          const snapshot = [Array.from(tlb.tag), Array.from(tlb.frame), Array.from(tlb.flags)];
          const flushes =
            machine.events.get(0, MachineEvent.TlbFlushAll) + machine.events.get(0, MachineEvent.TlbFlushPage);
          cpu.wrpkru(pkru);
          cpu.wrmsr(MSR.IA32_PKRS, pkrs, 0);
          expect([Array.from(tlb.tag), Array.from(tlb.frame), Array.from(tlb.flags)]).toEqual(snapshot);
          expect(
            machine.events.get(0, MachineEvent.TlbFlushAll) + machine.events.get(0, MachineEvent.TlbFlushPage),
          ).toBe(flushes);
          const reg = user ? pkru : pkrs;
          const bits = (reg >>> 2) & 3; // key 1
          const denied = (bits & 1) !== 0 || (kind === 1 && (bits & 2) !== 0);
          const code = cpu.access(KERNEL, kind as AccessKind);
          expect(code !== 0).toBe(denied);
          if (!denied) expect([Array.from(tlb.tag), Array.from(tlb.frame), Array.from(tlb.flags)]).toEqual(snapshot);
        },
      ),
      { numRuns: 200 },
    );
  });
  it('a fault invalidates the faulting address entry (SDM 4.10.4.1)', () => {
    const { cpu } = machineWithPage({ writable: false });
    cpu.access(KERNEL, AccessKind.Read);
    expect(cpu.tlb.validEntries).toBe(1);
    expect(cpu.access(KERNEL, AccessKind.Write)).toBe(0x10003);
    expect(cpu.tlb.validEntries).toBe(0);
  });
  it('INVLPG invalidates every cached fragment of a 2 MiB page', () => {
    const { cpu } = machineWithPage({ pageSize: PageSize.Size2M });
    cpu.access(KERNEL, AccessKind.Read);
    cpu.access(KERNEL + 0x1ff000, AccessKind.Read);
    expect(cpu.tlb.validEntries).toBe(2);
    cpu.invlpg(KERNEL + 0x5000);
    expect(cpu.tlb.validEntries).toBe(0);
  });
  it('a CR3 write flushes non-global entries only; toggling CR4.PGE flushes all', () => {
    const { machine, cpu } = machineWithPage({ global: true });
    const pa = machine.allocatePhysical(0x1000);
    machine.map(0, KERNEL + 0x1000, pa, 0x1000, { user: false, writable: true, executable: false });
    cpu.access(KERNEL, AccessKind.Read);
    cpu.access(KERNEL + 0x1000, AccessKind.Read);
    machine.activate(0, 0);
    expect(cpu.cachedFrame(KERNEL)).not.toBe(-1);
    expect(cpu.cachedFrame(KERNEL + 0x1000)).toBe(-1);
    cpu.movToCr4(cpu.cr4 & ~CR4.PGE);
    expect(cpu.tlb.validEntries).toBe(0);
  });
});

describe('physical memory', () => {
  it('allocates only the 4 KiB frames that are touched', () => {
    const memory = new PhysicalMemory({ ramBytes: 2 ** 32, persistentBytes: 2 ** 30, maxPhysAddr: 46 });
    const pa = memory.allocate(2 ** 31);
    expect(memory.allocatedFrames).toBe(0);
    memory.write(pa + 2 ** 30 + 5, new Uint8Array([1, 2]));
    expect(memory.allocatedFrames).toBe(1);
    expect(memory.read(pa, 16)).toEqual(new Uint8Array(16));
    expect(memory.allocatedFrames).toBe(1);
  });
  it('reboot clears RAM and CPU state but persistent memory survives', () => {
    const machine = new X86Machine();
    const ram = machine.allocatePhysical(0x1000);
    const pmem = machine.allocatePhysical(0x1000, { persistent: true });
    machine.writePhysical(ram, new Uint8Array([7]));
    machine.writePhysical(pmem, new Uint8Array([9]));
    machine.cpu(0).movToCr4(machine.cpu(0).cr4 | CR4.PKE);
    machine.reboot();
    expect(machine.readPhysical(ram, 1)[0]).toBe(0);
    expect(machine.readPhysical(pmem, 1)[0]).toBe(9);
    expect(machine.cpu(0).cr4 & CR4.PKE).toBe(0);
  });
});
