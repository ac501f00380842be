import { describe, expect, it } from 'vitest';
import { KernelError } from '@pkeysim/kernel';
import { userBoot } from './user-helpers';

describe('user-space entry points refuse bad arguments before anything changes', () => {
  it('user-space accessors refuse NaN addresses and non-byte buffers before any fault', () => {
    const { kernel, t } = userBoot();
    const counters = JSON.stringify(kernel.stats());
    expect(() => t.load(NaN, 4)).toThrow(KernelError);
    expect(() => t.store(0x10000, 'x' as unknown as Uint8Array)).toThrow(/Uint8Array/);
    expect(() => t.execute(1.5)).toThrow(KernelError);
    expect(() => t.touchStack('sideways' as 'push')).toThrow(/push, pop/);
    expect(t.mmap(NaN, 4096, 3, 0x22)).toBe(-22);
    expect(t.read(NaN, new Uint8Array(1))).toBe(-14);
    expect(JSON.stringify(kernel.stats())).toBe(counters);
  });
});
