import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from './physical-memory';

describe('PhysicalMemory reads and writes', () => {
  it('agree with a flat byte array for any mix of short and long ranges across frames, written or not', () => {
    const span = 4 * 4096;
    const write = fc.record({
      at: fc.integer({ min: 0, max: span - 1 }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }),
    });
    fc.assert(
      fc.property(fc.array(write, { maxLength: 12 }), fc.integer({ min: 0, max: span - 1 }), (writes, from) => {
        const memory = new PhysicalMemory({ ramBytes: 1 << 20, persistentBytes: 0, maxPhysAddr: 40 });
        const base = memory.allocate(span);
        const model = new Uint8Array(span);
        for (const { at, bytes } of writes) {
          const part = bytes.subarray(0, span - at);
          memory.write(base + at, part);
          model.set(part, at);
        }
        const length = Math.min(span - from, 5000);
        expect(memory.read(base + from, length)).toEqual(model.subarray(from, from + length));
      }),
      { numRuns: 200 },
    );
  });
});
