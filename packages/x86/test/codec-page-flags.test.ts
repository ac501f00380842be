/** The x86 codec's one-call decoding of a PTE (the TLB-miss path) says what its separate methods say. */
import { composedPageFlags, PAGE_INVALID, PAGE_RESERVED, TF_DOMAIN_SHIFT } from '@pkeysim/machine-kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTROL_PGE, x86Descriptors } from '../src/index';
import { reservedHighMask } from '../src/entry';

describe('x86 codec pageFlags', () => {
  const codec = x86Descriptors(4);
  const controls = [46, 52].flatMap((maxPhysAddr) =>
    [true, false].flatMap((nxe) => [0, CONTROL_PGE].map((pge) => reservedHighMask(maxPhysAddr, nxe) | pge)),
  );

  it('equals isValid, reservedBits, leafFlags and domainOf composed, for any PTE and CPU state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (lo, hi) => {
        for (const control of controls)
          expect(codec.pageFlags!(lo | 0, hi | 0, control)).toBe(composedPageFlags(codec, lo | 0, hi | 0, control));
      }),
      { numRuns: 2000 },
    );
  });

  it('reports not present, a reserved bit, and the key of a present PTE', () => {
    const noNxe = reservedHighMask(46, false);
    expect(codec.pageFlags!(0x1000, 0, 0)).toBe(PAGE_INVALID);
    // XD with EFER.NXE=0 is reserved (SDM table 4-20).
    expect(codec.pageFlags!(0x1001, 0x80000000 | 0, noNxe)).toBe(PAGE_RESERVED);
    // Address bit 46 with MAXPHYADDR 46 is reserved.
    expect(codec.pageFlags!(0x1001, 1 << 14, reservedHighMask(46, true))).toBe(PAGE_RESERVED);
    expect((codec.pageFlags!(0x1007, 5 << 27, 0) >>> TF_DOMAIN_SHIFT) & 0xff).toBe(5);
  });
});
