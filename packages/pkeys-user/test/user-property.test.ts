import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKernel } from '@pkeysim/kernel';
import { PROT_EXEC, PROT_READ, PROT_WRITE, UserKernel } from '../src';
import { anon } from './user-helpers';

type Op =
  | { kind: 'alloc' }
  | { kind: 'free'; key: number }
  | { kind: 'mprotect'; page: number; pages: number; prot: number }
  | { kind: 'pkey_mprotect'; page: number; pages: number; prot: number; key: number }
  | { kind: 'munmap'; page: number; pages: number };

const PAGES = 8;
const prot = fc.constantFrom(PROT_READ, PROT_READ | PROT_WRITE, PROT_EXEC, PROT_READ | PROT_EXEC, 0);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: 'alloc' as const }),
  fc.record({ kind: fc.constant('free' as const), key: fc.integer({ min: -1, max: 16 }) }),
  fc.record({
    kind: fc.constant('mprotect' as const),
    page: fc.nat(PAGES - 1),
    pages: fc.integer({ min: 1, max: 3 }),
    prot,
  }),
  fc.record({
    kind: fc.constant('pkey_mprotect' as const),
    page: fc.nat(PAGES - 1),
    pages: fc.integer({ min: 1, max: 3 }),
    prot,
    key: fc.integer({ min: -1, max: 16 }),
  }),
  fc.record({ kind: fc.constant('munmap' as const), page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 2 }) }),
);

describe('random pkey syscall sequences (fast-check)', () => {
  it('never return a key twice or key 0, and report every key freed while attached as a use-after-free hazard', () => {
    const kernel = createKernel({ cpus: 1 });
    const u = new UserKernel(kernel);
    let runs = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 16 }), (ops) => {
        runs++;
        const p = u.spawn(`seq${runs}`, 0);
        u.switchTo(p.main);
        const t = p.main;
        const base = anon(t, PAGES * 0x1000);
        // The test's own model: which keys are held, their generation, and each page's key.
        const held = new Set<number>();
        const generation = new Map<number, number>();
        const pageKey = new Map<number, { key: number; gen: number }>();
        for (let i = 0; i < PAGES; i++) pageKey.set(i, { key: 0, gen: 0 });
        const xo = () => t.process.mm.pkeys.executeOnlyKey;
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const k = t.pkey_alloc(0, 0);
            if (k < 0) {
              expect(k).toBe(-28);
              continue;
            }
            expect(k).not.toBe(0);
            expect(held.has(k) || k === xo()).toBe(false);
            held.add(k);
            generation.set(k, (generation.get(k) ?? 0) + 1);
          } else if (o.kind === 'free') {
            const r = t.pkey_free(o.key);
            expect(r === 0).toBe(held.has(o.key));
            held.delete(o.key);
          } else if (o.kind === 'munmap') {
            expect(t.munmap(base + o.page * 0x1000, o.pages * 0x1000)).toBe(0);
            for (let i = o.page; i < Math.min(o.page + o.pages, PAGES); i++) pageKey.delete(i);
          } else {
            const key = o.kind === 'pkey_mprotect' ? o.key : -1;
            const r = t.pkey_mprotect(base + o.page * 0x1000, o.pages * 0x1000, o.prot, key);
            const covered = Array.from({ length: o.pages }, (_, j) => o.page + j).every((i) => pageKey.has(i));
            if (key !== -1 && !held.has(key) && key !== 0) {
              expect(r).toBe(-22);
              continue;
            }
            if (!covered) {
              expect(r).toBe(-12);
              continue;
            }
            expect(r).toBe(0);
            for (let i = o.page; i < o.page + o.pages; i++) {
              const v = t.process.mm.vmas.find(base + i * 0x1000)!;
              if (key !== -1) expect(v.pkey).toBe(key);
              if (key !== -1 || v.pkey !== pageKey.get(i)!.key)
                pageKey.set(i, { key: v.pkey, gen: generation.get(v.pkey) ?? 0 });
            }
          }
        }
        const expected = new Set<number>();
        for (const { key, gen } of pageKey.values()) {
          if (key === 0 || key === xo()) continue;
          if (!held.has(key) || (generation.get(key) ?? 0) !== gen) expected.add(key);
        }
        const reported = t.process.hazards();
        expect(new Set(reported.map((h) => h.key))).toEqual(expected);
        for (const h of reported)
          expect(h.kind).toBe(held.has(h.key) ? 'reallocated-key-attached' : 'freed-key-attached');
        t.exit();
      }),
      { numRuns: 10_000, seed: 0x5eed },
    );
    expect(runs).toBeGreaterThanOrEqual(10_000);
  }, 120_000);
});
