import { describe, expect, it } from 'vitest';
import {
  FUTEX_PRIVATE_FLAG,
  FUTEX_WAIT,
  getFutexKey,
  PKEY_DISABLE_ACCESS,
  PKEY_DISABLE_WRITE,
  PKEYS_TESTS,
  Ptrace,
  runPkeysSelftest,
  runPkeysTest,
  SA_ONSTACK,
  SIGSEGV,
  SIGUSR1,
  SS_AUTODISARM,
  SS_ONSTACK,
  UserErrno,
  type SignalPolicyName,
} from '../src';
import { KernelError } from '@pkeysim/kernel';
import { anon, pkru, userBoot } from './user-helpers';

/** One SIGUSR1 under `policy` with keys 1 and 15 write-disabled: PKRU in the handler and after sigreturn. */
function deliverUsr1(policy: SignalPolicyName) {
  const { t } = userBoot({ signalPolicy: policy });
  t.wrpkru([0x80000008]); // key 1 WD, key 15 WD, the rest open
  const interrupted = pkru(t.rdpkru());
  let inHandler: number | undefined;
  t.sigaction(SIGUSR1, { handler: (ctx) => void (inHandler = pkru(ctx.thread.rdpkru())) });
  const r = t.raise(SIGUSR1);
  return { ok: r.ok, interrupted, inHandler, after: pkru(t.rdpkru()) };
}

describe('signal policies, each after its Linux source', () => {
  it('Linux 4.6 handle_signal() fpu__clear(): cleared-2016 starts the handler with PKRU 0, sigreturn restores', () => {
    const d = deliverUsr1('cleared-2016');
    expect(d.ok).toBe(true);
    expect(d.inHandler).toBe(0);
    expect(d.after).toBe(d.interrupted);
  });

  it('Molnar, July 2016 "save+clear+restore the first 14 pkey indices": clear-14+2 opens keys 0..13 and keeps 14 and 15', () => {
    const d = deliverUsr1('clear-14+2');
    expect(d.ok).toBe(true);
    expect(d.inHandler).toBe(0x80000000); // key 1's WD cleared, key 15's WD kept
    expect(d.after).toBe(d.interrupted);
  });

  it('ae6012d72fa6 ("x86/pkeys: Ensure updated PKRU value is XRSTOR\'d"): before it, on AMD, sigreturn loaded PKRU 0', () => {
    const amd = deliverUsr1('amd-window');
    expect(amd.inHandler).toBe(0x55555554);
    expect(amd.after).toBe(0);
    const fixed = deliverUsr1('mainline');
    expect(fixed.after).toBe(fixed.interrupted);
  });
});

describe('ptrace and core dumps: PKRU in NT_X86_XSTATE', () => {
  function traced(ptracePkru?: 'mainline' | 'ignored-5.14') {
    const { u, t } = userBoot({ ptracePkru });
    const child = u.fork(t, 'tracee', 1).main;
    const tracer = u.ptraceAttach(t, child);
    if (!(tracer instanceof Ptrace)) throw new Error('attach failed');
    return { u, t, child, tracer };
  }

  it('4a804c4f8356 ("x86/fpu: Allow PKRU to be (once again) written by ptrace."): SETREGSET PKRU reaches the tracee', () => {
    const { u, child, tracer } = traced();
    expect(tracer.setRegset([0x0000000c], true)).toBe(0);
    u.switchTo(child);
    expect(pkru(child.rdpkru())).toBe(0x0000000c);
  });

  it('the 5.14 regression 4a804c4f8356 fixed: ignored-5.14 accepts the write and the tracee keeps its PKRU', () => {
    const { u, child, tracer } = traced('ignored-5.14');
    const before = pkru(child.rights());
    expect(tracer.setRegset([0x0000000c], true)).toBe(0);
    u.switchTo(child);
    expect(pkru(child.rdpkru())).toBe(before);
  });

  it('d7e5aceace51 ("x86/fpu: Emulate XRSTOR\'s behavior if the xfeatures PKRU bit is not set"): a clear XSTATE_BV[PKRU] gives PKRU 0', () => {
    const { u, child, tracer } = traced();
    expect(tracer.setRegset([0x55555554], false)).toBe(0);
    const note = tracer.getRegset();
    expect(typeof note !== 'number' && note.xstateBvPkru).toBe(true);
    expect(typeof note !== 'number' && pkru(note.rights)).toBe(0);
    expect(tracer.setRegset([0], 'no' as unknown as boolean)).toBe(-UserErrno.EINVAL);
    u.switchTo(child);
    expect(pkru(child.rdpkru())).toBe(0);
  });

  it('fill_thread_core_info(): a SIGSEGV core dump carries every thread PKRU in its NT_X86_XSTATE note', () => {
    const { t, process } = userBoot();
    const key = t.pkey_alloc(0, PKEY_DISABLE_ACCESS);
    const buffer = anon(t);
    t.pkey_mprotect(buffer, 0x1000, 3, key);
    const other = t.clone('worker', { stack: buffer + 0x1000, cpu: 1 });
    const live = pkru(t.rdpkru());
    const r = t.load(buffer, 4);
    expect(!r.ok && r.fatal?.signo).toBe(SIGSEGV);
    const core = process.core;
    expect(core?.signo).toBe(SIGSEGV);
    expect(core?.notes.map((n) => [n.tid, n.type, pkru(n.rights)])).toEqual([
      [t.tid, 'NT_X86_XSTATE', live],
      [other.tid, 'NT_X86_XSTATE', live],
    ]);
  });
});

describe('futex and gup: get_futex_key() honours PKRU like any gup of the caller memory', () => {
  function word(t: ReturnType<typeof userBoot>['t'], value: number) {
    const ptr = anon(t);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value, true);
    expect(t.store(ptr, bytes).ok).toBe(true);
    const key = t.pkey_alloc(0, 0);
    t.pkey_mprotect(ptr, 0x1000, 3, key);
    return { ptr, key };
  }

  it('kernel/futex/core.c get_futex_key: the gup write to write-disabled memory fails, the read-only retry pins it', () => {
    const { t } = userBoot();
    const { ptr, key } = word(t, 1195);
    t.pkey_set(key, PKEY_DISABLE_WRITE);
    expect(getFutexKey(t, ptr, true)).toEqual({ ok: true, shared: true, readOnly: true });
    expect(t.futex(ptr, FUTEX_WAIT, 1194)).toBe(-UserErrno.EAGAIN);
    t.pkey_set(key, 0);
    expect(getFutexKey(t, ptr, true)).toEqual({ ok: true, shared: true, readOnly: false });
  });

  it('get_futex_value_locked is a copy_from_user: access-disabled memory is -EFAULT, shared or private', () => {
    const { t } = userBoot();
    const { ptr, key } = word(t, 7);
    t.pkey_set(key, PKEY_DISABLE_ACCESS);
    expect(t.futex(ptr, FUTEX_WAIT, 7)).toBe(-UserErrno.EFAULT);
    expect(t.futex(ptr, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 7)).toBe(-UserErrno.EFAULT);
  });

  it('a misaligned word is -EINVAL; a matching word times out or is refused as an endless sleep', () => {
    const { t } = userBoot();
    const { ptr } = word(t, 7);
    expect(t.futex(ptr + 2, FUTEX_WAIT, 7)).toBe(-UserErrno.EINVAL);
    expect(t.futex(ptr, FUTEX_WAIT, 7, true)).toBe(-UserErrno.ETIMEDOUT);
    expect(() => t.futex(ptr, FUTEX_WAIT, 7)).toThrow(KernelError);
    expect(() => t.futex(ptr, FUTEX_WAIT, 7)).toThrow(/sleep forever/);
  });
});

describe('kernel/signal.c do_sigaltstack(): SS_ONSTACK and SS_AUTODISARM', () => {
  it('accepts SS_ONSTACK as a mode (same as 0) and SS_AUTODISARM as a flag, refuses other bits', () => {
    const { t } = userBoot();
    const alt = anon(t, 0x4000);
    expect(t.sigaltstack({ sp: alt, size: 0x4000, flags: SS_ONSTACK })).toBe(0);
    expect(t.sigaltstack({ sp: alt, size: 0x4000, flags: SS_AUTODISARM })).toBe(0);
    expect(t.sigaltstack({ sp: alt, size: 0x4000, flags: SS_ONSTACK | SS_AUTODISARM })).toBe(0);
    expect(t.altstack?.flags).toBe((SS_ONSTACK | SS_AUTODISARM) >>> 0);
    expect(t.sigaltstack({ sp: alt, size: 0x4000, flags: 4 })).toBe(-UserErrno.EINVAL);
    expect(t.sigaltstack({ sp: alt, size: 0x4000, flags: 2 ** 32 })).toBe(-UserErrno.EINVAL);
  });

  it('SS_AUTODISARM: the altstack is disarmed while the handler runs on it and sigreturn restores it', () => {
    const { t } = userBoot();
    const alt = anon(t, 0x4000);
    expect(t.sigaltstack({ sp: alt, size: 0x4000, flags: SS_AUTODISARM })).toBe(0);
    let inHandler: unknown = 'unset';
    let onAlt: boolean | undefined;
    t.sigaction(SIGUSR1, {
      flags: SA_ONSTACK,
      handler: (ctx) => {
        inHandler = ctx.thread.altstack;
        onAlt = ctx.frame.onAltstack;
      },
    });
    expect(t.raise(SIGUSR1).ok).toBe(true);
    expect(onAlt).toBe(true);
    expect(inHandler).toBeUndefined();
    expect(t.altstack).toEqual({ sp: alt, size: 0x4000, flags: SS_AUTODISARM });
  });
});

describe('protection_keys.c main(): the suite as Linux runs it', () => {
  it('runs run_tests_once() nr_iterations (22) times in one process, and test_pkey_alloc_exhaust forks (become_child)', () => {
    const results = runPkeysSelftest({});
    const suite = results.filter((r) => r.source === 'protection_keys.c' && r.status === 'OK');
    expect(suite.length).toBe(21); // pkey_tests[] with test_pkey_init_state and test_ptrace_modifies_pkru
    for (const r of suite) expect(r.detail).toMatch(/iteration 22 of 22, one process/);
    const exhaust = results.find((r) => r.name === 'test_pkey_alloc_exhaust');
    expect(exhaust?.detail).toMatch(/forked at allocation 32 \(become_child\)/);
  });

  it('a failed case ends the program: later cases say they did not run; runPkeysTest still runs one case alone', () => {
    const results = runPkeysSelftest({ ptracePkru: 'ignored-5.14', iterations: 2 });
    const ptrace = results.find((r) => r.name === 'test_ptrace_modifies_pkru');
    expect(ptrace?.status).toBe('FAIL');
    expect(ptrace?.detail).toMatch(/iteration 1 of 2/);
    const alone = PKEYS_TESTS.find((t) => t.name === 'test_kernel_gup_write_to_write_disabled_region')!;
    expect(runPkeysTest(alone.number).status).toBe('OK');
    expect(() => runPkeysSelftest({ iterations: 0 })).toThrow(/iterations must be a whole number from 1 to 1000/);
  });
});
