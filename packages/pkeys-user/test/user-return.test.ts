import { describe, expect, it } from 'vitest';
import { KernelError } from '@pkeysim/kernel';
import { snapshot } from '../../kernel/test/helpers';
import { anon, userBoot } from './user-helpers';

describe('returning to user mode', () => {
  // Found by the mixed model: the fault of such an access killed the thread, whose exit then threw
  // after the fault had been counted.
  it('is refused before anything runs while the task holds a kmap_local mapping', () => {
    const { kernel, t } = userBoot({ cpus: 1 });
    const buffer = anon(t);
    const page = kernel.alloc_page();
    const address = kernel.cpu(0).kmap_local_page(page);
    const state = snapshot(kernel); // taking a snapshot reads the rights registers, which is counted
    const counters = JSON.stringify(kernel.stats());
    expect(() => t.load(buffer, 4)).toThrow(KernelError);
    expect(() => t.load(buffer, 4)).toThrow(/cannot return to user mode with 0 open frame\(s\) and 1 kmap\(s\)/);
    expect(JSON.stringify(kernel.stats())).toBe(counters);
    expect(snapshot(kernel)).toBe(state);
    kernel.cpu(0).kunmap_local(address);
    expect(t.load(buffer, 4).ok).toBe(true);
  });
});
