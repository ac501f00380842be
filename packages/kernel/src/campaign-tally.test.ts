import { describe, expect, it } from 'vitest';
import { StrayTally } from './campaign-tally';

describe('StrayTally', () => {
  it('counts strays by kind as blocked or landed, in the consumer order, leaving out kinds never tried', () => {
    const tally = new StrayTally(['random-address', 'wrong-thread', 'write-after-kunmap']);
    expect(tally.record('wrong-thread', true)).toBe(true);
    expect(tally.record('random-address', false)).toBe(false);
    tally.record('random-address', true);
    const summary = tally.summary();
    expect(Object.keys(summary.by_kind)).toEqual(['random-address', 'wrong-thread']);
    expect(summary.by_kind['random-address']).toEqual({ attempted: 2, blocked: 1, landed: 1 });
    expect(summary).toMatchObject({ strays_attempted: 3, strays_blocked: 1, strays_landed: 2 });
  });
});
