import { Deny } from '@pkeysim/core';
import { createKernel } from '@pkeysim/kernel';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PKEY_DISABLE_ACCESS,
  PKEY_DISABLE_WRITE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  SA_SIGINFO,
  SEGV_PKUERR,
  SIGSEGV,
  SIGUSR1,
  UserErrno,
  UserKernel,
  type UserThread,
} from '@pkeysim/pkeys-user';
import { describe, expect, it } from 'vitest';
import { arm64PoeUserPkeyAbi } from '../src/index';

const PKEY_DISABLE_EXECUTE = 0x4;
const PKEY_DISABLE_READ = 0x8;

function boot(): { u: UserKernel; t: UserThread } {
  const u = new UserKernel(createKernel({ arch: 'arm64-poe', cpus: 2 }));
  const p = u.spawn('app', 0);
  u.switchTo(p.main);
  return { u, t: p.main };
}

function page(t: UserThread, prot = PROT_READ | PROT_WRITE): number {
  const a = t.mmap(0, 0x1000, prot, MAP_PRIVATE | MAP_ANONYMOUS);
  expect(a).toBeGreaterThan(0);
  return a;
}

describe('user-space pkeys on arm64 POE (POR_EL0)', () => {
  it('uses the ABI the plugin registers: 8 keys, POR_EL0_INIT, the four PKEY_DISABLE flags', () => {
    const { u } = boot();
    expect(u.abi).toBe(arm64PoeUserPkeyAbi);
    expect(u.keys?.info.id).toBe('arm64.por_el0');
    expect(u.keys!.format(u.initPkru!)).toBe('0x00000007');
  });

  it('pkey_alloc accepts PKEY_DISABLE_READ and _EXECUTE and sets POR_EL0 as arch_set_user_pkey_access does', () => {
    const { u, t } = boot();
    const keys = u.keys!;
    const r = t.pkey_alloc(0, PKEY_DISABLE_READ);
    const x = t.pkey_alloc(0, PKEY_DISABLE_EXECUTE);
    const a = t.pkey_alloc(0, PKEY_DISABLE_ACCESS);
    expect([r, x, a]).toEqual([1, 2, 3]);
    // POE_WX (6), POE_RW (5), POE_X (2): PKEY_DISABLE_ACCESS keeps execute.
    expect(keys.format(t.rdpkru())).toBe('0x00002567');
    expect(t.pkey_alloc(0, 0x10)).toBe(-UserErrno.EINVAL);
    expect(t.pkey_get(x)).toBe(Deny.Execute);
  });

  it('a fetch from a key with PKEY_DISABLE_EXECUTE faults with SEGV_PKUERR; PKEY_DISABLE_ACCESS still executes', () => {
    const { u, t } = boot();
    const seen: number[] = [];
    t.sigaction(SIGSEGV, {
      flags: SA_SIGINFO,
      handler: (ctx) => {
        seen.push(ctx.info.code, ctx.info.pkey ?? -1);
        // rt_sigreturn reloads POR_EL0 from poe_context: open the key there, not in the live register.
        expect(ctx.setSavedPkru(u.keys!.withDenials(ctx.frame.savedPkru!, ctx.info.pkey!, 0)).ok).toBe(true);
      },
    });
    const code = page(t);
    expect(t.store(code, new Uint8Array([0xd6, 0x5f, 0x03, 0xc0])).ok).toBe(true);
    const k = t.pkey_alloc(0, 0);
    expect(t.pkey_mprotect(code, 0x1000, PROT_READ | PROT_EXEC, k)).toBe(0);
    t.pkey_set(k, PKEY_DISABLE_ACCESS);
    expect(t.execute(code).ok).toBe(true);
    expect(seen).toEqual([]);
    t.pkey_set(k, PKEY_DISABLE_EXECUTE);
    expect(t.execute(code).ok).toBe(true);
    expect(seen).toEqual([SEGV_PKUERR, k]);
  });

  it('read() copies with POR_EL0 (LDTR/STTR): -EFAULT into a write-disabled key, success once it is open', () => {
    const { t } = boot();
    const buf = page(t);
    const k = t.pkey_alloc(0, PKEY_DISABLE_WRITE);
    expect(t.pkey_mprotect(buf, 0x1000, PROT_READ | PROT_WRITE, k)).toBe(0);
    expect(t.read(buf, new Uint8Array([1, 2]))).toBe(-UserErrno.EFAULT);
    t.pkey_set(k, 0);
    expect(t.read(buf, new Uint8Array([1, 2]))).toBe(2);
  });

  it('mprotect(PROT_EXEC) uses no execute-only key: the mapping keeps key 0', () => {
    const { t } = boot();
    const code = page(t);
    expect(t.mprotect(code, 0x1000, PROT_EXEC)).toBe(0);
    expect(t.process.mm.vmas.find(code)?.pkey).toBe(0);
    expect(t.process.mm.pkeys.executeOnlyKey).toBe(-1);
  });

  it('a handler starts at POR_EL0_INIT and rt_sigreturn restores the interrupted POR_EL0 from poe_context', () => {
    const { u, t } = boot();
    const k = t.pkey_alloc(0, 0);
    const before = u.keys!.format(t.rdpkru());
    let inHandler = '';
    t.sigaction(SIGUSR1, {
      flags: SA_SIGINFO,
      handler: (ctx) => void (inHandler = u.keys!.format(ctx.thread.rdpkru())),
    });
    expect(t.raise(SIGUSR1).ok).toBe(true);
    expect(inHandler).toBe('0x00000007');
    expect(u.keys!.format(t.rdpkru())).toBe(before);
    expect(u.keys!.denialsOf(t.rdpkru(), k)).toBe(Deny.None);
  });
});
