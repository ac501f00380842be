import { describe, expect, it } from 'vitest';
import { inPlacePageTables, type InPlacePageTables } from './page-table-format';
import type { Machine } from './machine';

const codec = {
  name: 'test format',
  levels: 4,
  bitsPerLevel: 9,
  pageShift: 12,
  leafLevels: [0],
  isValid: (lo: number) => (lo & 1) !== 0,
  isLeaf: (_lo: number, _hi: number, level: number) => level === 0,
  outputAddress: (lo: number) => lo & ~0xfff,
  encodeTable: (table: number) => ({ lo: table | 1, hi: 0 }),
  encodeLeaf: (physical: number) => ({ lo: physical | 1, hi: 0 }),
};
const members: InPlacePageTables = {
  codec,
  adoptAddressSpace: () => 1,
  releaseAddressSpace: () => {},
  rootsOf: () => ({ lower: 0x1000, upper: 0x1000 }),
  invalidatePage: () => {},
  flushTlb: () => {},
};

describe('inPlacePageTables: which machines walk tables the kernel builds', () => {
  it('a machine with the members (every machine-kit architecture) is its own capability', () => {
    const machine = { ...members } as unknown as Machine;
    expect(inPlacePageTables(machine)).toBe(machine);
  });

  it('a machine missing any member has none', () => {
    for (const missing of Object.keys(members)) {
      const machine = { ...members, [missing]: undefined } as unknown as Machine;
      expect(inPlacePageTables(machine)).toBeUndefined();
    }
  });

  it("a machine that says so is taken at its word (a wrapper forwards its inner machine's, or refuses)", () => {
    const forwarding = { ...members, inPlacePageTables: () => members } as unknown as Machine;
    expect(inPlacePageTables(forwarding)).toBe(members);
    const refusing = { ...members, inPlacePageTables: () => undefined } as unknown as Machine;
    expect(inPlacePageTables(refusing)).toBeUndefined();
  });
});
