import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tlb } from './tlb';
import { TF_GLOBAL, TF_LEVEL_SHIFT } from './translation-flags';

describe('Tlb', () => {
  it('invalidates every cached fragment of a large page when any page of it is invalidated', () => {
    const tlb = new Tlb(1024);
    const base = -0x778000000; // a 2 MiB-aligned negative page number
    tlb.fill(base + 1, 0x1000, 1 << TF_LEVEL_SHIFT);
    tlb.fill(base + 300, 0x2000, 1 << TF_LEVEL_SHIFT);
    tlb.fill(base + 512, 0x3000, 0);
    tlb.invalidatePage(base + 7);
    expect(tlb.validEntries).toBe(1);
  });

  it('a page invalidation drops exactly the entries whose leaf spans that page, at any level mix', () => {
    const entry = fc.record({
      offset: fc.integer({ min: 0, max: 3 * 512 * 512 }),
      level: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 40 }), fc.integer({ min: 0, max: 3 * 512 * 512 }), (entries, target) => {
        const base = -0x778000000; // 1 GiB aligned: negative (upper-half) page numbers too
        const tlb = new Tlb(4096);
        for (const e of entries) tlb.fill(base + e.offset, 0x1000, e.level << TF_LEVEL_SHIFT);
        const vpn = base + target;
        // The reference: a cached page of a leaf spanning 2^(9*level) pages goes when vpn is in that leaf.
        const spans = (tag: number, level: number) =>
          Math.floor(tag / 2 ** (9 * level)) === Math.floor(vpn / 2 ** (9 * level));
        const expected = new Set<number>();
        for (let slot = 0; slot < tlb.entries; slot++) {
          const tag = tlb.tag[slot];
          if (tag === tag && !spans(tag, (tlb.flags[slot] >>> TF_LEVEL_SHIFT) & 3)) expected.add(tag);
        }
        tlb.invalidatePage(vpn);
        const left = new Set<number>();
        for (let slot = 0; slot < tlb.entries; slot++) if (tlb.tag[slot] === tlb.tag[slot]) left.add(tlb.tag[slot]);
        expect(left).toEqual(expected);
      }),
    );
  });

  it('keeps global entries on flushNonGlobal and drops everything on flushAll', () => {
    const tlb = new Tlb(16);
    tlb.fill(1, 0, TF_GLOBAL);
    tlb.fill(2, 0, 0);
    tlb.flushNonGlobal();
    expect(tlb.validEntries).toBe(1);
    tlb.flushAll();
    expect(tlb.validEntries).toBe(0);
  });

  it('needs a power-of-two size', () => {
    expect(() => new Tlb(100)).toThrow(/power of two/);
  });
});
