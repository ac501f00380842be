import { z } from 'zod';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@pkeysim/kernel';
import { CallExpect, KeyRef, Name, op, PerArch, Rights, target } from '../fields';
import { denialsName, hex, RIGHTS_DENIALS } from '../format';
import { defineOp } from './spec';

/** ok: no fault; handled: a SIGSEGV handler ran and the access was retried; killed: the process died. */
const UserExpect = z.enum(['ok', 'handled', 'killed'], { error: 'expected ok, handled or killed' });

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
  pkey_free: defineOp(z.strictObject({ ...op('pkey_free'), key: KeyRef, expect: CallExpect.default('ok') }), {
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
      key: z.union([z.literal(0), KeyRef], { error: 'expected a key 0..15' }),
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      check: (o, refs) => {
        refs.object(o.object);
        if (o.key !== 0) refs.key(o.key);
      },
      run: (o, ctx) => {
        const t = ctx.target(o.object, 'object');
        const key = o.key === 0 ? 0 : ctx.keyNumber(o.key, 'key');
        ctx.call(o.expect, () => ctx.user.pkey_mprotect(t.address, t.length, PROT_READ | PROT_WRITE, key));
      },
    },
  ),
  /** glibc pkey_set (WRPKRU). */
  pkey_set: defineOp(
    z.strictObject({ ...op('pkey_set'), key: KeyRef, rights: Rights, expect: CallExpect.default('ok') }),
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
      key: KeyRef,
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
      expect: CallExpect.default('ok'),
    }),
    {
      userSpace: true,
      bind: (o, names) => names.object(o.as, o.pages * 4096),
      run: (o, ctx) => {
        const length = o.pages * 4096;
        const user = ctx.user;
        const address = ctx.call(o.expect, () =>
          user.mmap(0, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS),
        );
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
      kind: z.enum(['read', 'write'], { error: 'expected read or write' }),
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
          () => (o.kind === 'read' ? user.load(address, 1) : user.store(address, new Uint8Array([0x5a]))),
          [onArch ? 'on' : 'expect'],
        );
      },
    },
  ),
};
