import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DENY_ALL_FLAGS, Deny, denialsSupported, formatDenials, parseRights } from './denials';

describe('denials', () => {
  it('use the Linux PKEY_DISABLE_* values', () => {
    expect(Deny.Access).toBe(0x1);
    expect(Deny.Write).toBe(0x2);
    expect(Deny.Execute).toBe(0x4);
    expect(Deny.Read).toBe(0x8);
  });

  it('formats access-disabled as no read and no write', () => {
    expect(formatDenials(Deny.Access)).toBe('--');
    expect(formatDenials(Deny.Write)).toBe('r-');
    expect(formatDenials(Deny.None)).toBe('rw');
    expect(formatDenials(Deny.Read, true)).toBe('-wx');
  });

  it('parses rights text into the denials that produce it', () => {
    expect(parseRights('rw')).toBe(Deny.Execute);
    expect(parseRights('rwx')).toBe(Deny.None);
    expect(parseRights('r')).toBe(Deny.Write | Deny.Execute);
    expect(parseRights('none')).toBe(Deny.Access | Deny.Execute);
    expect(parseRights('w')).toBe(Deny.Read | Deny.Execute);
    expect(parseRights('x')).toBe(Deny.Access);
  });

  it('rejects rights text with letters other than r, w, x', () => {
    expect(() => parseRights('rwq')).toThrow(/letters from r, w, x/);
  });

  it('round-trips every rights text through parse and format', () => {
    fc.assert(
      fc.property(fc.subarray(['r', 'w', 'x'], { minLength: 1 }), (letters) => {
        const text = letters.join('');
        const shown = formatDenials(parseRights(text), true).replace(/-/g, '');
        expect(shown).toBe(['r', 'w', 'x'].filter((l) => letters.includes(l)).join(''));
      }),
    );
  });

  it('reports denials outside the supported set', () => {
    const x86 = Deny.Access | Deny.Write;
    expect(denialsSupported(Deny.Write, x86)).toBe(true);
    expect(denialsSupported(Deny.Execute, x86)).toBe(false);
    expect(denialsSupported(DENY_ALL_FLAGS, DENY_ALL_FLAGS)).toBe(true);
  });
});
