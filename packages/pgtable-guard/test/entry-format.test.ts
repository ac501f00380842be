import { arm64Descriptors } from '@pkeysim/arm64-poe';
import { powerPteCodec } from '@pkeysim/power';
import { x86Descriptors } from '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { EntryFormat } from '../src';

const USER_RO = { user: true, writable: false, executable: false } as const;

describe("EntryFormat: the bits a setter needs, found from the machine's own codec", () => {
  it('x86: R/W, U/S, P and A (Intel SDM 4.5, table 4-19)', () => {
    const f = new EntryFormat(x86Descriptors(4));
    expect(f.write).toEqual({
      whenGiven: { lo: 0x2, hi: 0 },
      whenWithheld: { lo: 0, hi: 0 },
      flip: { lo: 0x2, hi: 0 },
    });
    expect(f.user.flip).toEqual({ lo: 0x4, hi: 0 });
    expect(f.present).toEqual({ lo: 0x1, hi: 0 });
    expect(f.accessedLo).toBe(0x20);
  });

  it('arm64: AP[2] read-only is set when write is withheld, AP[1] gives EL0 access, bits 1:0 make a page', () => {
    const f = new EntryFormat(arm64Descriptors);
    expect(f.write.whenWithheld.lo).toBe(0x80);
    expect(f.write.whenGiven).toEqual({ lo: 0, hi: 0 });
    expect(f.user.whenGiven.lo).toBe(0x40);
    expect(f.present).toEqual({ lo: 0x3, hi: 0 });
    expect(f.accessedLo).toBe(0); // no hardware-managed flag in the codec: test_and_clear_young is false
  });

  it('POWER: _PAGE_WRITE (with dirty), _PAGE_PRIVILEGED withheld for user pages, present in the high word', () => {
    const f = new EntryFormat(powerPteCodec(65536));
    expect(f.write.whenGiven.lo & 0x2).toBe(0x2);
    expect(f.user.whenWithheld.lo).toBe(0x8);
    expect(f.present).toEqual({ lo: 0, hi: 0x80000000 });
  });

  it.each([
    ['x86', x86Descriptors(4)],
    ['arm64', arm64Descriptors],
    ['power', powerPteCodec(4096)],
  ] as const)('%s: withoutWrite and withWrite undo each other and change nothing else', (_name, codec) => {
    const f = new EntryFormat(codec);
    const leaf = f.leaf(0x1234000, { ...USER_RO, writable: true });
    const ro = f.withoutWrite(leaf);
    expect(ro).toEqual(f.leaf(0x1234000, USER_RO));
    expect(f.withWrite(ro)).toEqual(leaf);
    expect(f.address(ro, 1)).toBe(0x1234000);
    expect(f.isPresent(ro, 1) && !f.isTable(ro, 1)).toBe(true);
    expect(f.isTable(f.table(0x5000), 2)).toBe(true);
  });

  it('refuses a format the guard cannot drive (x86 5-level paging) with EOPNOTSUPP', () => {
    expect(() => new EntryFormat(x86Descriptors(5))).toThrow(/not 4-level paging/);
  });
});
