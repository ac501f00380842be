/** accessBatch returns exactly what access() would, call by call, whatever path it takes. */
import { AccessKind, Privilege } from '@pkeysim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CR4, X86Machine } from '../src/index';

const BASE = 0x10000000;

function machine(pkru: number) {
  // 8 TLB entries: batches of 16 or more addresses take the per-slot path, smaller ones the direct loop.
  const m = new X86Machine({ cpus: 1, tlbEntries: 8 });
  const pa = m.allocatePhysical(16 * 0x1000);
  m.map(0, BASE, pa, 8 * 0x1000, { user: true, writable: true, executable: false, domain: 1 });
  m.map(0, BASE + 8 * 0x1000, pa + 8 * 0x1000, 4 * 0x1000, { user: true, writable: false, executable: false });
  m.map(0, BASE + 12 * 0x1000, pa + 12 * 0x1000, 2 * 0x1000, {
    user: true,
    writable: true,
    executable: false,
    domain: 2,
  });
  const cpu = m.cpu(0);
  cpu.movToCr4(cpu.cr4 | CR4.PKE);
  cpu.wrpkru(pkru);
  m.setMode(0, Privilege.User);
  return m;
}

describe('accessBatch', () => {
  it('matches access() result by result, with the same counters and last fault (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 17 * 0x1000 - 1 }), { minLength: 1, maxLength: 80 }),
        fc.constantFrom(AccessKind.Read, AccessKind.Write, AccessKind.Fetch),
        fc.constantFrom(0, 0x4, 0x8, 0x30, 0xc),
        (offsets, kind, pkru) => {
          const batched = machine(pkru);
          const single = machine(pkru);
          const addresses = Float64Array.from(offsets, (o) => BASE + o);
          const out = new Int32Array(addresses.length);
          const faults = batched.accessBatch(0, addresses, kind, out);
          const expected = Array.from(addresses, (a) => single.access(0, a, kind));
          expect(Array.from(out)).toEqual(expected);
          expect(faults).toBe(expected.filter((c) => c !== 0).length);
          expect(Array.from(batched.events.counts)).toEqual(Array.from(single.events.counts));
          expect(batched.lastFault(0)).toEqual(single.lastFault(0));
          expect(Array.from(batched.tlb(0).tag)).toEqual(Array.from(single.tlb(0).tag));
        },
      ),
      { numRuns: 300 },
    );
  });
});
