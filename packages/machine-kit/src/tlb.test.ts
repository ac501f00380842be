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
