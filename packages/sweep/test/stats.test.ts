import { describe, expect, it } from 'vitest';
import { slope, summarize, tQuantile975 } from '../src';

describe('statistics', () => {
  it('uses the t table up to 30 degrees of freedom and converges to the normal quantile', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(9)).toBe(2.262);
    expect(tQuantile975(40)).toBeCloseTo(2.021, 3);
    expect(tQuantile975(120)).toBeCloseTo(1.98, 3);
    expect(tQuantile975(1e9)).toBeCloseTo(1.96, 3);
    expect(() => tQuantile975(0)).toThrow(RangeError);
  });

  it('gives the textbook 95% t interval', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, s = 2.138, t(7) = 2.365 -> half-width 1.788
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.sd).toBeCloseTo(2.138, 3);
    expect(s.half).toBeCloseTo(1.788, 3);
    expect(summarize([3]).half).toBeNull();
    expect(summarize([3, 3, 3]).half).toBe(0);
  });

  it('fits a least-squares slope, or none when x does not vary', () => {
    expect(slope([1, 2, 3], [5, 7, 9])).toBeCloseTo(2, 12);
    expect(slope([1, 1], [5, 7])).toBeNull();
  });
});
