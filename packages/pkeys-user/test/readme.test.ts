import '@pkeysim/x86';
import { createKernel } from '@pkeysim/kernel';
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PKEY_DISABLE_WRITE, PROT_READ, PROT_WRITE, SEGV_PKUERR, UserKernel } from '../src';

describe('the README example', () => {
  it('runs as written and gives the outcomes its comments state', () => {
    const kernel = createKernel({ cpus: 2 });
    const user = new UserKernel(kernel, { signalPolicy: 'mainline' });
    const process = user.spawn('demo', 0);
    const t = process.main;
    user.switchTo(t);
    const buffer = t.mmap(0, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    const key = t.pkey_alloc(0, PKEY_DISABLE_WRITE);
    expect(key).toBe(1);
    expect(t.pkey_mprotect(buffer, 0x1000, PROT_READ | PROT_WRITE, key)).toBe(0);
    const result = t.store(buffer, new Uint8Array([1]));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.fate).toBe('killed');
    expect(result.fatal?.code).toBe(SEGV_PKUERR);
    expect(result.fatal?.pkey).toBe(1);
  });
});
