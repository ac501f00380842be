import { Deny } from '@pkeysim/core';
import { createKernel } from '@pkeysim/kernel';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PKEY_DISABLE_ACCESS,
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
import '../src/index';

const PKEY_DISABLE_EXECUTE = 0x4;
const PKEY_DISABLE_READ = 0x8;

function boot(options: Record<string, unknown> = {}): { u: UserKernel; t: UserThread } {
  const u = new UserKernel(createKernel({ arch: 'power', cpus: 2, machineOptions: options }));
  const p = u.spawn('app', 0);
  u.switchTo(p.main);
  return { u, t: p.main };
}

function page(t: UserThread, prot = PROT_READ | PROT_WRITE): number {
  const a = t.mmap(0, 0x1000, prot, MAP_PRIVATE | MAP_ANONYMOUS);
  expect(a).toBeGreaterThan(0);
  return a;
}

describe('user-space pkeys on POWER (AMR/IAMR, hash MMU)', () => {
  it('never hands out keys 0-3 (default, ISA-reserved, execute-only, kernel): 28 keys with 64 KiB pages, 4 with 4 KiB', () => {
    for (const [options, expected] of [
      [{}, 28],
      [{ linuxPageSize: 4096 }, 4],
    ] as const) {
      const { t } = boot(options);
      const got: number[] = [];
      for (let k = t.pkey_alloc(0, 0); k > 0; k = t.pkey_alloc(0, 0)) got.push(k);
      expect(got.length).toBe(expected);
      expect(got[0]).toBe(4);
      for (const reserved of [1, 2, 3]) {
        expect(t.pkey_free(reserved)).toBe(-UserErrno.EINVAL);
        expect(t.pkey_mprotect(page(t), 0x1000, PROT_READ, reserved)).toBe(-UserErrno.EINVAL);
      }
    }
  });

  it('pkey_alloc takes PKEY_DISABLE_EXECUTE (IAMR) but not _READ; glibc pkey_set takes only the AMR flags', () => {
    const { u, t } = boot();
    const k = t.pkey_alloc(0, PKEY_DISABLE_EXECUTE);
    expect(k).toBe(4);
    expect(u.keys!.denialsOf(t.rdpkru(), k)).toBe(Deny.Execute);
    expect(t.pkey_alloc(0, PKEY_DISABLE_READ)).toBe(-UserErrno.EINVAL);
    expect(t.pkey_set(k, PKEY_DISABLE_EXECUTE)).toBe(-UserErrno.EINVAL);
  });

  it('a user-mode AMR write changes only the keys UAMOR enables: not key 0, 2 or 3, never the IAMR', () => {
    const { u, t } = boot();
    const keys = u.keys!;
    const k = t.pkey_alloc(0, PKEY_DISABLE_EXECUTE);
    let wanted = t.rdpkru();
    for (const key of [0, 2, 3, k]) wanted = keys.withDenials(wanted, key, Deny.Access);
    wanted = keys.withDenials(wanted, k, Deny.Write);
    t.wrpkru(wanted);
    const now = t.rdpkru();
    expect(keys.denialsOf(now, 0)).toBe(Deny.None);
    expect(keys.denialsOf(now, 2)).toBe(Deny.Access);
    expect(keys.denialsOf(now, 3)).toBe(Deny.None);
    expect(keys.denialsOf(now, k)).toBe(Deny.Write | Deny.Execute);
  });

  it('mprotect(PROT_EXEC) moves the mapping to the execute-only key 2: executable, not readable', () => {
    const { t } = boot();
    const seen: number[] = [];
    t.sigaction(SIGSEGV, { flags: SA_SIGINFO, handler: (ctx) => void seen.push(ctx.info.code, ctx.info.pkey ?? -1) });
    const code = page(t);
    expect(t.store(code, new Uint8Array([0x4e, 0x80, 0x00, 0x20])).ok).toBe(true);
    expect(t.mprotect(code, 0x1000, PROT_EXEC)).toBe(0);
    expect(t.process.mm.vmas.find(code)?.pkey).toBe(2);
    expect(t.execute(code).ok).toBe(true);
    // The handler cannot open key 2 (UAMOR), so the read keeps faulting until the model stops it.
    const r = t.load(code, 4);
    expect(r.ok).toBe(false);
    expect(seen.slice(0, 2)).toEqual([SEGV_PKUERR, 2]);
  });

  it('a handler inherits the interrupted AMR and rt_sigreturn leaves the AMR the handler set', () => {
    const { u, t } = boot();
    const keys = u.keys!;
    const k = t.pkey_alloc(0, 0);
    t.pkey_set(k, PKEY_DISABLE_ACCESS);
    let inHandler = -1;
    t.sigaction(SIGUSR1, {
      flags: SA_SIGINFO,
      handler: (ctx) => {
        inHandler = keys.denialsOf(ctx.thread.rdpkru(), k);
        ctx.thread.pkey_set(k, 0);
      },
    });
    expect(t.raise(SIGUSR1).ok).toBe(true);
    expect(inHandler).toBe(Deny.Access);
    expect(keys.denialsOf(t.rdpkru(), k)).toBe(Deny.None);
  });

  it("keeps each thread's user AMR across context switches although the register is shared with the kernel", () => {
    const { u, t } = boot();
    const keys = u.keys!;
    const k = t.pkey_alloc(0, 0);
    const other = u.spawn('other', 0).main;
    u.switchTo(other);
    expect(keys.format(other.rdpkru())).toBe(keys.format(u.initPkru!));
    u.switchTo(t);
    expect(keys.denialsOf(t.rdpkru(), k)).toBe(Deny.None);
    expect(keys.denialsOf(t.rights()!, k)).toBe(Deny.None);
  });
});
