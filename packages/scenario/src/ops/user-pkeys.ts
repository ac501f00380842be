import { z } from 'zod';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SEGV_PKUERR,
  SS_AUTODISARM,
  SS_DISABLE,
  SS_ONSTACK,
  FUTEX_PRIVATE_FLAG,
  FUTEX_WAIT,
} from '@pkeysim/pkeys-user';
import {
  AnyKey,
  Bytes,
  CallExpect,
  KeyRef,
  Name,
  op,
  PerArch,
  Prot,
  Rights,
  SIGNAL_NUMBERS,
  SignalName,
  target,
} from '../fields';
import type { OpContext } from './spec';
import { denialsName, equalBytes, hex, hexBytes, RIGHTS_DENIALS } from '../format';
import { dataBytes } from '../references';
import { defineOp } from './spec';

/** ok: no fault; handled: a SIGSEGV handler ran and the access was retried; killed: the process died; exited: the thread exited from the handler. */
const UserExpect = z.enum(['ok', 'handled', 'killed', 'exited'], { error: 'expected ok, handled, killed or exited' });

/** User-space protection keys (mainline pkey_alloc(2), pkey_free, pkey_mprotect, PKRU) and user-mode accesses. */
export const USER_PKEY_OPS = {
  /** pkey_alloc(0, init_rights), binding the key to `as`. */
  pkey_alloc: defineOp(
    z.strictObject({ ...op('pkey_alloc'), as: Name, rights: Rights.default('rw'), expect: CallExpect.default('ok') }),
    {
      userSpace: true,
      bind: (o, names) => names.key(o.as),
      run: (o, ctx) => {
        const key = ctx.call(o.expect, () => ctx.user.pkey_alloc(0, RIGHTS_DENIALS[o.rights]));
        if (key !== undefined && key > 0) ctx.bindKey(o.as, key, undefined);
      },
    },
  ),
  /** pkey_free(key). */
  pkey_free: defineOp(z.strictObject({ ...op('pkey_free'), key: AnyKey, expect: CallExpect.default('ok') }), {
    userSpace: true,
    check: (o, refs) => refs.key(o.key),
    run: (o, ctx) => {
      ctx.call(o.expect, () => ctx.user.pkey_free(ctx.keyNumber(o.key, 'key')));
    },
  }),
  /** pkey_mprotect(addr, len, PROT_READ|PROT_WRITE, key). */
  pkey_mprotect: defineOp(
    z.strictObject({
      ...op('pkey_mprotect'),
      object: Name,
      key: AnyKey,
      prot: Prot.default('rw'),
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      check: (o, refs) => {
        refs.object(o.object);
        refs.key(o.key);
      },
      run: (o, ctx) => {
        const t = ctx.target(o.object, 'object');
        const key = ctx.keyNumber(o.key, 'key');
        ctx.call(o.expect, () => ctx.user.pkey_mprotect(t.address, t.length, protBits(o.prot), key));
      },
    },
  ),
  /** glibc pkey_set (WRPKRU). */
  pkey_set: defineOp(
    z.strictObject({ ...op('pkey_set'), key: AnyKey, rights: Rights, expect: CallExpect.default('ok') }),
    {
      userSpace: true,
      check: (o, refs) => refs.key(o.key),
      run: (o, ctx) => {
        ctx.call(o.expect, () => ctx.user.pkey_set(ctx.keyNumber(o.key, 'key'), RIGHTS_DENIALS[o.rights]));
      },
    },
  ),
  /** Assert the task's user key register (PKRU, POR_EL0, AMR) for a key. */
  check_pkey: defineOp(
    z.strictObject({
      ...op('check_pkey'),
      key: z.union([z.literal(0), KeyRef], { error: 'expected a key 0..15 or a key name' }),
      rights: Rights,
      /** The rights expected instead on the named architectures (where their semantics differ). */
      on: PerArch(Rights).optional(),
    }),
    {
      userSpace: true,
      check: (o, refs) => refs.key(o.key),
      run: (o, ctx) => {
        const key = ctx.keyNumber(o.key, 'key');
        const state = ctx.user.rights();
        const keys = ctx.userKernel?.keys;
        const got = state && keys ? denialsName(keys.denialsOf(state, key)) : 'rw';
        ctx.done(got);
        const arch = ctx.scenario.machine.arch;
        const wanted = o.on?.[arch] ?? o.rights;
        if (got !== wanted)
          ctx.fail(
            [o.on?.[arch] ? 'on' : 'rights'],
            `${ctx.run.name} has ${got} on user key ${key} here, expected ${wanted}${o.on?.[arch] ? ` on ${arch}` : ''}`,
          );
      },
    },
  ),
  /** Anonymous read/write memory in the task's process. */
  mmap: defineOp(
    z.strictObject({
      ...op('mmap'),
      as: Name,
      pages: z.int().min(1).max(4096).default(1),
      prot: Prot.default('rw'),
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      bind: (o, names) => names.object(o.as, o.pages * 4096),
      run: (o, ctx) => {
        const length = o.pages * 4096;
        const user = ctx.user;
        const address = ctx.call(o.expect, () => user.mmap(0, length, protBits(o.prot), MAP_PRIVATE | MAP_ANONYMOUS));
        if (address !== undefined && address > 0) {
          ctx.bindTarget({ name: o.as, address, length, physical: -1, pages: o.pages, pmem: false, user });
          ctx.done(hex(address));
        }
      },
    },
  ),
  /** A user-mode (CPL 3) load or store. */
  user_access: defineOp(
    z.strictObject({
      ...op('user_access'),
      ...target,
      kind: z.enum(['read', 'write', 'execute'], { error: 'expected read, write or execute' }),
      /** ok: no fault; handled: a SIGSEGV handler ran and the access was retried; killed: the process died. */
      expect: UserExpect.optional(),
      /** The outcome expected instead on the named architectures. */
      on: PerArch(UserExpect).optional(),
    }),
    {
      userSpace: true,
      check: (o, refs) => {
        refs.object(o.object);
        refs.fits(o);
      },
      run: (o, ctx) => {
        const address = ctx.target(o.object, 'object').address + o.offset;
        const onArch = o.on?.[ctx.scenario.machine.arch];
        const user = ctx.user;
        ctx.userAccess(
          onArch ?? o.expect,
          () =>
            o.kind === 'read'
              ? user.load(address, 1)
              : o.kind === 'execute'
                ? user.execute(address)
                : user.store(address, new Uint8Array([0x5a])),
          [onArch ? 'on' : 'expect'],
        );
      },
    },
  ),
  /** A user-mode access to a raw address (no object: address 1 gives SEGV_MAPERR, as pkey_sighandler_tests.c does). */
  user_access_address: defineOp(
    z.strictObject({
      ...op('user_access_address'),
      address: z.int().min(0),
      kind: z.enum(['read', 'write', 'execute'], { error: 'expected read, write or execute' }),
      expect: UserExpect.optional(),
    }),
    {
      userSpace: true,
      run: (o, ctx) => {
        const user = ctx.user;
        ctx.userAccess(o.expect, () =>
          o.kind === 'read'
            ? user.load(o.address, 1)
            : o.kind === 'execute'
              ? user.execute(o.address)
              : user.store(o.address, new Uint8Array(4)),
        );
      },
    },
  ),
  /** Use the stack as code does: a push below the stack pointer, or a pop (ret) at it. */
  stack_access: defineOp(
    z.strictObject({
      ...op('stack_access'),
      kind: z.enum(['push', 'pop'], { error: 'expected push or pop' }),
      expect: UserExpect.optional(),
    }),
    {
      userSpace: true,
      run: (o, ctx) => {
        const user = ctx.user;
        ctx.userAccess(o.expect, () => user.touchStack(o.kind));
      },
    },
  ),
  /**
   * futex(uaddr, FUTEX_WAIT, val, timeout): the kernel pins the word's page (a gup write that PKRU
   * may refuse, then read-only) and compares the 32-bit word with `val`: EAGAIN when it differs.
   */
  futex: defineOp(
    z.strictObject({
      ...op('futex'),
      ...target,
      val: z.int().min(0).max(0xffffffff),
      private: z.boolean().default(false),
      timeout: z.boolean().default(true),
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      check: (o, refs) => {
        refs.object(o.object);
        refs.fits({ ...o, length: 4 });
      },
      run: (o, ctx) => {
        const address = ctx.target(o.object, 'object').address + o.offset;
        const opcode = FUTEX_WAIT | (o.private ? FUTEX_PRIVATE_FLAG : 0);
        ctx.call(o.expect, () => ctx.user.futex(address, opcode, o.val, o.timeout));
      },
    },
  ),
  /** mprotect(2): change a range's protection, keeping its key (an execute-only mapping gets the execute-only key). */
  mprotect: defineOp(
    z.strictObject({ ...op('mprotect'), object: Name, prot: Prot, expect: CallExpect.default('ok') }),
    {
      userSpace: true,
      check: (o, refs) => refs.object(o.object),
      run: (o, ctx) => {
        const t = ctx.target(o.object, 'object');
        ctx.call(o.expect, () => ctx.user.mprotect(t.address, t.length, protBits(o.prot)));
      },
    },
  ),
  /** read(2) from a file into the buffer: the kernel copy_to_user()s `length` bytes (PKRU applies to the copy). */
  sys_read: defineOp(
    z.strictObject({
      ...op('sys_read'),
      ...target,
      length: z
        .int()
        .min(1)
        .max(1 << 20)
        .default(1),
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      check: (o, refs) => {
        refs.object(o.object);
        refs.fits(o);
      },
      run: (o, ctx) => {
        const address = ctx.target(o.object, 'object').address + o.offset;
        ctx.call(o.expect, () => ctx.user.read(address, new Uint8Array(o.length)));
      },
    },
  ),
  /** vmsplice(2)-style get_user_pages() of the caller's own pages (PKRU applies: not a foreign access). */
  vmsplice: defineOp(
    z.strictObject({
      ...op('vmsplice'),
      ...target,
      pages: z.int().min(1).max(4096).default(1),
      write: z.boolean().default(false),
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      check: (o, refs) => refs.object(o.object),
      run: (o, ctx) => {
        const address = ctx.target(o.object, 'object').address + o.offset;
        ctx.call(o.expect, () => ctx.user.get_user_pages(address, o.pages, o.write));
      },
    },
  ),
  /** sigaltstack(2): the object's pages become the alternate signal stack (flags: disable). */
  sigaltstack: defineOp(
    z.strictObject({
      ...op('sigaltstack'),
      object: Name.optional(),
      flags: z
        .array(z.enum(['disable', 'onstack', 'autodisarm'], { error: 'expected disable, onstack or autodisarm' }))
        .default([]),
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      check: (o, refs) => {
        if (o.object !== undefined) refs.object(o.object);
      },
      run: (o, ctx) => {
        const t = o.object === undefined ? undefined : ctx.target(o.object, 'object');
        // SS_AUTODISARM is bit 31: added, not OR-ed, so the int stays positive here as the kernel's mode test expects.
        const flags =
          (o.flags.includes('disable') ? SS_DISABLE : 0) +
          (o.flags.includes('onstack') ? SS_ONSTACK : 0) +
          (o.flags.includes('autodisarm') ? SS_AUTODISARM : 0);
        ctx.call(o.expect, () =>
          ctx.user.sigaltstack(
            t ? { sp: t.address, size: t.length, flags } : flags ? { sp: 0, size: 0, flags } : undefined,
          ),
        );
      },
    },
  ),
  /** raise(3) = tkill(gettid(), signo): delivered to the handler sigaction installed. */
  raise: defineOp(
    z.strictObject({
      ...op('raise'),
      signo: SignalName,
      /** ok: the handler ran (or the signal was ignored) and the thread goes on; killed: the default action; exited: the handler exited the thread. */
      expect: z.enum(['ok', 'killed', 'exited'], { error: 'expected ok, killed or exited' }).optional(),
    }),
    {
      userSpace: true,
      run: (o, ctx) => {
        const user = ctx.user;
        ctx.userAccess(o.expect, () => user.raise(SIGNAL_NUMBERS[o.signo]));
      },
    },
  ),
  /** In a signal handler: change the PKRU sigreturn restores (the handler's store into the frame's XSAVE area). */
  set_saved_pkey: defineOp(
    z.strictObject({
      ...op('set_saved_pkey'),
      /** Default: the signal's si_pkey, as protection_keys.c's signal_handler() uses it. */
      key: KeyRef.optional(),
      rights: Rights,
    }),
    {
      userSpace: true,
      check: (o, refs) => refs.key(o.key),
      run: (o, ctx) => {
        const signal = inSignal(ctx, 'set_saved_pkey');
        const keys = ctx.userKernel?.keys;
        const saved = signal.frame.savedPkru;
        if (!keys || !saved) throw ctx.error(['op'], 'set_saved_pkey needs user protection keys on this machine');
        const key = o.key === undefined ? signal.info.pkey : ctx.keyNumber(o.key, 'key');
        if (key === undefined) throw ctx.error(['key'], 'the signal carries no si_pkey: name the key');
        ctx.userAccess('ok', () => signal.setSavedPkru(keys.withDenials(saved, key, RIGHTS_DENIALS[o.rights])));
      },
    },
  ),
  /** In a signal handler: assert the siginfo (signal, si_code, si_pkey) and the rights saved in the frame. */
  check_signal: defineOp(
    z.strictObject({
      ...op('check_signal'),
      signo: SignalName.optional(),
      code: z.enum(['SEGV_MAPERR', 'SEGV_ACCERR', 'SEGV_PKUERR']).optional(),
      key: AnyKey.optional(),
      /** The rights the frame saved for `saved_key` (what sigreturn restores). */
      saved_key: KeyRef.optional(),
      saved_rights: Rights.optional(),
    }),
    {
      userSpace: true,
      check: (o, refs) => {
        refs.key(o.key);
        refs.key(o.saved_key, 'saved_key');
      },
      run: (o, ctx) => {
        const { info, frame } = inSignal(ctx, 'check_signal');
        const codes = { SEGV_MAPERR, SEGV_ACCERR, SEGV_PKUERR } as const;
        const got = `signal ${info.signo} code ${info.code}${info.pkey !== undefined ? ` pkey ${info.pkey}` : ''}`;
        ctx.done(got);
        if (o.signo !== undefined && info.signo !== SIGNAL_NUMBERS[o.signo])
          ctx.fail(['signo'], `the handler got signal ${info.signo}, expected ${o.signo}`);
        if (o.code !== undefined && info.code !== codes[o.code])
          ctx.fail(['code'], `si_code is ${info.code}, expected ${o.code} (${codes[o.code]})`);
        if (o.key !== undefined) {
          const key = ctx.keyNumber(o.key, 'key');
          if (info.pkey !== key) ctx.fail(['key'], `si_pkey is ${String(info.pkey)}, expected ${key}`);
        }
        if (o.saved_key !== undefined && o.saved_rights !== undefined) {
          const keys = ctx.userKernel?.keys;
          const savedKey = ctx.keyNumber(o.saved_key, 'saved_key');
          const saved = frame.savedPkru && keys ? denialsName(keys.denialsOf(frame.savedPkru, savedKey)) : 'rw';
          if (saved !== o.saved_rights)
            ctx.fail(['saved_rights'], `the frame saved ${saved} for key ${savedKey}, expected ${o.saved_rights}`);
        }
      },
    },
  ),
  /** Assert another thread's PKRU through ptrace (PTRACE_GETREGSET NT_X86_XSTATE): the tracee must be stopped. */
  ptrace_check_pkey: defineOp(
    z.strictObject({
      ...op('ptrace_check_pkey'),
      thread: Name,
      key: KeyRef,
      rights: Rights,
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      check: (o, refs) => refs.key(o.key),
      run: (o, ctx) => {
        const tracer = ptraceOf(ctx, o.thread, o.expect);
        if (tracer === undefined) return;
        let got: string | undefined;
        ctx.call(o.expect, () => {
          const r = tracer.getPkru();
          if (typeof r === 'number') return r;
          got = denialsName(ctx.userKernel!.keys!.denialsOf(r, ctx.keyNumber(o.key, 'key')));
          return 0;
        });
        if (got !== undefined && got !== o.rights)
          ctx.fail(['rights'], `ptrace reads ${got} on key ${String(o.key)} in ${o.thread}, expected ${o.rights}`);
      },
    },
  ),
  /** PTRACE_PEEKDATA of another process's memory: a foreign access, so neither PKRU applies; asserts the bytes. */
  ptrace_peek: defineOp(
    z.strictObject({
      ...op('ptrace_peek'),
      thread: Name,
      ...target,
      bytes: Bytes.optional(),
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      check: (o, refs) => refs.object(o.object),
      run: (o, ctx) => {
        const tracer = ptraceOf(ctx, o.thread, o.expect);
        if (tracer === undefined) return;
        const address = ctx.target(o.object, 'object').address + o.offset;
        let got: Uint8Array | undefined;
        ctx.call(o.expect, () => {
          const r = tracer.peekData(address);
          if (typeof r === 'number') return r;
          got = r;
          return 0;
        });
        const wanted = o.bytes === undefined ? undefined : dataBytes({ bytes: o.bytes });
        if (got && wanted && !equalBytes(got.subarray(0, wanted.length), wanted))
          ctx.fail(['bytes'], `PTRACE_PEEKDATA read ${hexBytes(got)}, expected ${hexBytes(wanted)}`);
        else if (got) ctx.done(hexBytes(got));
      },
    },
  ),
  /** Change another thread's PKRU through ptrace (PTRACE_SETREGSET NT_X86_XSTATE): the tracee must be stopped. */
  ptrace_set_pkey: defineOp(
    z.strictObject({
      ...op('ptrace_set_pkey'),
      thread: Name,
      key: KeyRef,
      rights: Rights,
      /** XSTATE_BV[PKRU] in the buffer (x86): false makes the tracee's PKRU its init value, 0, as XRSTOR does. */
      xstate_bv: z.boolean().default(true),
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      check: (o, refs) => refs.key(o.key),
      run: (o, ctx) => {
        const tracer = ptraceOf(ctx, o.thread, o.expect);
        if (tracer === undefined) return;
        ctx.call(o.expect, () => {
          const r = tracer.getPkru();
          if (typeof r === 'number') return r;
          return tracer.setRegset(
            ctx.userKernel!.keys!.withDenials(r, ctx.keyNumber(o.key, 'key'), RIGHTS_DENIALS[o.rights]),
            o.xstate_bv,
          );
        });
      },
    },
  ),
};

/** The PROT_* bits of a protection written as letters. */
function protBits(prot: z.output<typeof Prot>): number {
  return (
    (prot.includes('r') ? PROT_READ : 0) | (prot.includes('w') ? PROT_WRITE : 0) | (prot.includes('x') ? PROT_EXEC : 0)
  );
}

/** The signal delivery the op runs in (bad input outside a signal handler's program). */
function inSignal(ctx: OpContext, name: string) {
  const signal = ctx.signal;
  if (!signal) throw ctx.error(['op'], `${name} runs only in a signal handler's program (sigaction ... handler)`);
  return signal;
}

/** PTRACE_ATTACH from the running thread to a thread of another process; undefined (after a failure) if refused. */
function ptraceOf(ctx: OpContext, name: string, expect: string) {
  const tracee = ctx.userThread(name, 'thread');
  const r = ctx.userKernel!.ptraceAttach(ctx.user, tracee);
  if (typeof r !== 'number') return r;
  ctx.call(expect, () => r);
  return undefined;
}
