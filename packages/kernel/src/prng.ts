/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit seeded generator, small and fast enough that
 * every scheduling decision can come from it, so a seed replays a run exactly.
 */
export class Prng {
  /**
   * The 32-bit state, in a typed array: as a plain field it would exceed the small-integer range and
   * be re-boxed on every step (the scheduler draws two or three numbers per step).
   */
  private readonly state = new Int32Array(1);
  constructor(seed: number) {
    this.state[0] = seed | 0;
  }
  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number {
    let t = (this.state[0] + 0x6d2b79f5) | 0;
    this.state[0] = t;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x100000000;
  }
  /** A uniform integer in [0, n). */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`below(n) needs a whole n >= 1, got ${n}`);
    return Math.floor(this.next() * n);
  }
  /** A uniformly chosen element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}
