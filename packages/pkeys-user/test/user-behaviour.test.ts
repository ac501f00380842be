import { describe, expect, it } from 'vitest';
import { KernelError } from '@pkeysim/kernel';
import {
  PKEY_DISABLE_ACCESS,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  type Ptrace,
  SA_NODEFER,
  SA_ONSTACK,
  SEGV_PKUERR,
  SIGSEGV,
  SIGUSR1,
  type SigInfo,
} from '../src';
import { anon, pkru, userBoot } from './user-helpers';

describe('processes and threads', () => {
  it('a context switch to a user thread activates its address space and loads its PKRU from its XSAVE slot', () => {
    const { u, t, kernel } = userBoot();
    const other = u.spawn('other', 0).main;
    t.wrpkru([0x55555550]);
    u.switchTo(other);
    expect(kernel.machine.activeSpace(0)).toBe(other.process.mm.space);
    expect(pkru(other.rdpkru())).toBe(0x55555554);
    expect(pkru(t.rights())).toBe(0x55555550);
    u.switchTo(t);
    expect(kernel.machine.activeSpace(0)).toBe(t.process.mm.space);
    expect(pkru(t.rdpkru())).toBe(0x55555550);
  });
  it('kernel.onContextSwitch hooks see prev and next; a non-function is refused with EINVAL', () => {
    const { kernel } = userBoot();
    const seen: string[] = [];
    kernel.onContextSwitch((cpu, prev, next) => seen.push(`${cpu}:${prev.name}->${next.name}`));
    const k = kernel.kthread_create('k', 1);
    kernel.cpu(1).switchTo(k);
    expect(seen).toEqual(['1:swapper/1->k']);
    expect(() => kernel.onContextSwitch(42 as never)).toThrow(KernelError);
  });
  it('new processes start with the configured init PKRU', () => {
    const { t } = userBoot({ initPkru: [0x55555550] });
    expect(pkru(t.rdpkru())).toBe(0x55555550);
  });
  it('user code on a thread that is not running is refused with a clear error', () => {
    const { u } = userBoot();
    const idle = u.spawn('sleeper', 1).main;
    expect(() => idle.load(0x1000, 1)).toThrow(/not running/);
  });
  it('pkey_alloc sets the init rights in the caller PKRU only', () => {
    const { t, u } = userBoot();
    const k = t.pkey_alloc(0, PKEY_DISABLE_ACCESS);
    expect((pkru(t.rdpkru()) >>> (2 * k)) & 3).toBe(1);
    const k2 = t.pkey_alloc(0, 0);
    expect((pkru(t.rdpkru()) >>> (2 * k2)) & 3).toBe(0);
    expect(u.kernel.machine.domainSpace(0)!.read(1)).toEqual([0x55555554]);
  });
});

describe('faults and signals', () => {
  it('a key fault on a present page delivers SEGV_PKUERR with si_pkey found by walking the page tables', () => {
    const { t } = userBoot();
    const k = t.pkey_alloc(0, 0);
    const a = anon(t);
    t.store(a, new Uint8Array([1]));
    t.pkey_mprotect(a, 4096, PROT_READ | PROT_WRITE, k);
    t.pkey_set(k, PKEY_DISABLE_ACCESS);
    const seen: SigInfo[] = [];
    t.sigaction(SIGSEGV, { handler: (ctx) => (seen.push(ctx.info), void ctx.thread.exit()) });
    const r = t.load(a, 1);
    expect(r.ok).toBe(false);
    expect(seen).toEqual([{ signo: SIGSEGV, code: SEGV_PKUERR, addr: a, pkey: k }]);
  });
  it('an unhandled key fault kills the process', () => {
    const { t, u } = userBoot();
    const k = t.pkey_alloc(0, PKEY_DISABLE_ACCESS);
    const a = anon(t);
    t.pkey_mprotect(a, 4096, PROT_READ, k);
    const r = t.load(a, 1);
    expect(r.ok || r.fate).toBe('killed');
    expect(t.process.state).toBe('dead');
    expect(u.kernel.cpu(0).current.idle).toBe(true);
  });
  it('a fault inside its own SIGSEGV handler (no SA_NODEFER) kills the process (force_sig_info)', () => {
    const { t } = userBoot();
    t.sigaction(SIGSEGV, { handler: (ctx) => void ctx.thread.load(1, 1) });
    const r = t.load(1, 1);
    expect(!r.ok && r.fate).toBe('killed');
  });
  it('with SA_NODEFER a fault in the handler nests, and an access that keeps faulting ends as stuck', () => {
    const { t } = userBoot();
    let depth = 0;
    t.sigaction(SIGSEGV, {
      flags: SA_NODEFER,
      handler: (ctx) => {
        if (depth++ === 0) void ctx.thread.load(2, 1);
      },
    });
    const r = t.load(1, 1);
    expect(!r.ok && r.fate).toBe('stuck');
    expect(depth).toBeGreaterThan(2);
  });
  it('execute-only memory: mprotect(PROT_EXEC) allocates one AD key per process, fetch works, read faults', () => {
    const { t } = userBoot();
    const a = anon(t);
    expect(t.mprotect(a, 4096, PROT_EXEC)).toBe(0);
    const b = anon(t);
    expect(t.mprotect(b, 4096, PROT_EXEC)).toBe(0);
    const xo = t.process.mm.pkeys.executeOnlyKey;
    expect(t.process.mm.vmas.find(a)!.pkey).toBe(xo);
    expect(t.process.mm.vmas.find(b)!.pkey).toBe(xo);
    expect(t.execute(a).ok).toBe(true);
    expect(t.load(a, 1).ok).toBe(false);
  });
  it('without pkeys mprotect(PROT_EXEC) leaves memory readable on key 0', () => {
    const { t } = userBoot({ pku: false });
    const a = anon(t);
    t.mprotect(a, 4096, PROT_EXEC);
    expect(t.process.mm.vmas.find(a)!.pkey).toBe(0);
    expect(t.load(a, 1).ok).toBe(true);
  });
  it('ptrace peek and poke ignore both PKRUs; the tracee sees the poked bytes', () => {
    const { t, u } = userBoot();
    const k = t.pkey_alloc(0, PKEY_DISABLE_ACCESS);
    const a = anon(t);
    t.pkey_mprotect(a, 4096, PROT_READ | PROT_WRITE, k);
    const child = u.fork(t, 'child', 1).main;
    const tracer = u.ptraceAttach(t, child) as Ptrace;
    expect(tracer.pokeData(a, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toBe(0);
    expect([...(tracer.peekData(a) as Uint8Array)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    u.switchTo(child);
    child.pkey_set(k, 0);
    const r = child.load(a, 2);
    expect(r.ok && [...r.value]).toEqual([1, 2]);
    const own = t.load(a, 1);
    expect(own.ok).toBe(false); // the parent still denies the key and has no handler
  });
  it('pkey_free while attached is reported as a warning and a hazard; reallocation upgrades it', () => {
    const { t } = userBoot();
    const k = t.pkey_alloc(0, 0);
    const a = anon(t);
    t.pkey_mprotect(a, 4096, PROT_READ, k);
    expect(t.pkey_free(k)).toBe(0);
    expect(t.process.warnings()[0].message).toMatch(/still carry key/);
    expect(t.process.hazards()).toMatchObject([{ kind: 'freed-key-attached', key: k }]);
    expect(t.pkey_alloc(0, 0)).toBe(k);
    expect(t.process.hazards()).toMatchObject([
      { kind: 'reallocated-key-attached', key: k, ranges: [{ start: a, end: a + 4096 }] },
    ]);
    expect(t.pkey_mprotect(a, 4096, PROT_READ, k)).toBe(0);
    expect(t.process.hazards()).toEqual([]);
  });
});

describe('signal policies', () => {
  function deliver(policy: 'mainline' | 'pre-2024' | 'inherit' | 'lockdown', protectAltstack: boolean) {
    const { t } = userBoot({ signalPolicy: policy, lockdownGlobalKeys: [0, 2] });
    const k = t.pkey_alloc(0, 0); // key 1
    const k2 = t.pkey_alloc(0, 0); // key 2
    const alt = anon(t, 0x4000);
    if (protectAltstack) t.pkey_mprotect(alt, 0x4000, PROT_READ | PROT_WRITE, k);
    t.pkey_set(k, protectAltstack ? PKEY_DISABLE_ACCESS : 0);
    t.pkey_set(k2, 0);
    t.sigaltstack({ sp: alt, size: 0x4000 });
    const interrupted = pkru(t.rdpkru());
    let inHandler: number | undefined;
    t.sigaction(SIGUSR1, {
      flags: SA_ONSTACK,
      handler: (ctx) => {
        inHandler = pkru(ctx.thread.rdpkru());
        // The handler must enable the sigaltstack's key before sigreturn reads the frame from it.
        ctx.thread.pkey_set(k, 0);
      },
    });
    const r = t.raise(SIGUSR1);
    return { r, inHandler, interrupted, after: t.alive ? pkru(t.rdpkru()) : undefined };
  }
  it('mainline: the handler runs with init PKRU and sigreturn restores the interrupted PKRU', () => {
    const d = deliver('mainline', true);
    expect(d.r.ok).toBe(true);
    expect(d.inHandler).toBe(0x55555554);
    expect(d.after).toBe(d.interrupted);
  });
  it('pre-2024: a frame on a key-protected sigaltstack cannot be written and the process is killed', () => {
    const d = deliver('pre-2024', true);
    expect(d.r.ok).toBe(false);
    expect(!d.r.ok && d.r.fatal?.signo).toBe(SIGSEGV);
    expect(d.inHandler).toBeUndefined();
  });
  it('pre-2024 with an accessible sigaltstack: the handler runs with init PKRU', () => {
    const d = deliver('pre-2024', false);
    expect(d.inHandler).toBe(0x55555554);
    expect(d.after).toBe(d.interrupted);
  });
  it('inherit: the handler runs with the interrupted PKRU', () => {
    const d = deliver('inherit', false);
    expect(d.inHandler).toBe(d.interrupted);
  });
  it('lockdown: the handler runs with every key but the global ones access-disabled', () => {
    const d = deliver('lockdown', false);
    // keys 0 and 2 global (kept as interrupted: open), key 1 and all others AD.
    expect(d.inHandler).toBe(0x55555544);
    expect(d.after).toBe(d.interrupted);
  });
  it('mainline: a handler that does not enable the protected sigaltstack key cannot sigreturn (bad frame, SIGSEGV)', () => {
    const { t } = userBoot();
    const k = t.pkey_alloc(0, PKEY_DISABLE_ACCESS);
    const alt = anon(t, 0x4000);
    t.pkey_mprotect(alt, 0x4000, PROT_READ | PROT_WRITE, k);
    t.sigaltstack({ sp: alt, size: 0x4000 });
    t.sigaction(SIGUSR1, { flags: SA_ONSTACK, handler: () => undefined });
    const r = t.raise(SIGUSR1);
    expect(!r.ok && r.fatal?.signo).toBe(SIGSEGV);
  });
  it('rejects an unknown policy and bad global keys with EINVAL', () => {
    expect(() => userBoot({ signalPolicy: 'never' as never })).toThrow(/signal policy/);
    expect(() => userBoot({ lockdownGlobalKeys: [99] })).toThrow(/lockdownGlobalKeys/);
  });
});
