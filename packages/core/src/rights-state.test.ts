import { describe, expect, it } from 'vitest';
import { formatRightsState, rightsState, rightsStateEqual } from './rights-state';

describe('rights states', () => {
  it('are frozen unsigned 32-bit words', () => {
    const state = rightsState(-1, 0x55555554);
    expect(state).toEqual([0xffffffff, 0x55555554]);
    expect(Object.isFrozen(state)).toBe(true);
  });

  it('compare by value', () => {
    expect(rightsStateEqual(rightsState(1, 2), rightsState(1, 2))).toBe(true);
    expect(rightsStateEqual(rightsState(1, 2), rightsState(1, 3))).toBe(false);
    expect(rightsStateEqual(rightsState(1), rightsState(1, 0))).toBe(false);
  });

  it('format as hexadecimal register values', () => {
    expect(formatRightsState(rightsState(0x55555554))).toBe('0x55555554');
    expect(formatRightsState(rightsState(1, 2))).toBe('0x00000001:0x00000002');
    expect(formatRightsState(rightsState())).toBe('(none)');
  });
});
