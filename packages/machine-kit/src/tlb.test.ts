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

  it('after any mix of fills, invalidations and flushes, holds exactly what a slot-by-slot model holds', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('fill' as const),
        page: fc.integer({ min: 0, max: 4 * 512 }),
        level: fc.integer({ min: 0, max: 2 }),
        global: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('invalidate' as const), page: fc.integer({ min: 0, max: 4 * 512 }) }),
      fc.record({ kind: fc.constantFrom('flushAll' as const, 'flushNonGlobal' as const, 'drop' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const base = -0x778000000;
        const tlb = new Tlb(64);
        // The model: slot -> [tag, level, global], the old whole-TLB scan's rules.
        const model = new Map<number, [number, number, boolean]>();
        for (const o of ops) {
          if (o.kind === 'fill') {
            const vpn = base + o.page;
            tlb.fill(vpn, 0x1000, (o.level << TF_LEVEL_SHIFT) | (o.global ? TF_GLOBAL : 0));
            model.set(vpn & 63, [vpn, o.level, o.global]);
          } else if (o.kind === 'invalidate') {
            const vpn = base + o.page;
            tlb.invalidatePage(vpn);
            for (const [slot, [tag, level]] of model)
              if (Math.floor(tag / 2 ** (9 * level)) === Math.floor(vpn / 2 ** (9 * level))) model.delete(slot);
          } else if (o.kind === 'flushAll') {
            tlb.flushAll();
            model.clear();
          } else if (o.kind === 'flushNonGlobal') {
            tlb.flushNonGlobal();
            for (const [slot, [, , global]] of model) if (!global) model.delete(slot);
          } else {
            const vpn = base + 5;
            tlb.dropSlot(vpn);
            if (model.get(vpn & 63)?.[0] === vpn) model.delete(vpn & 63);
          }
        }
        for (let slot = 0; slot < 64; slot++) expect(tlb.tag[slot]).toBe(model.get(slot)?.[0] ?? NaN);
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
