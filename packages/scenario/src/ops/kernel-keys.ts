import { z } from 'zod';
import { formatKeyListing, PKS_FLAG_EXCLUSIVE, type ExceptionFrame } from '@pkeysim/kernel';
import { AnyKey, CallExpect, KeyRef, Name, op, Rights } from '../fields';
import { RIGHTS_DENIALS, rightsNameOf } from '../format';
import { defineOp, type OpContext } from './spec';

/** The frame of the key fault whose callback program runs this op; outside one, a clear error. */
function callbackFrame(ctx: OpContext, name: string): ExceptionFrame {
  const frame = ctx.faultFrame;
  if (!frame) throw ctx.error(['op'], `${name} runs only in a fault callback's program (set_fault_callback)`);
  return frame;
}

/** Supervisor keys (the PKS series' pks_* API): allocate, free, change and check rights, key pages. */
export const KERNEL_KEY_OPS = {
  /** pks_key_alloc(owner, flags), binding the key to `as`. */
  alloc_key: defineOp(
    z.strictObject({
      ...op('alloc_key'),
      as: Name,
      owner: z.string().min(1).optional(),
      exclusive: z.boolean().default(false),
      expect: CallExpect.default('ok'),
    }),
    {
      bind: (o, names) => names.key(o.as),
      run: (o, ctx) => {
        const owner = o.owner ?? o.as;
        const result = ctx.call(o.expect, () => ctx.kernel.pks_key_alloc(owner, o.exclusive ? PKS_FLAG_EXCLUSIVE : 0));
        if (result !== undefined && result > 0) ctx.bindKey(o.as, result, { owner });
      },
    },
  ),
  /** pks_key_free(key). */
  free_key: defineOp(z.strictObject({ ...op('free_key'), key: AnyKey, expect: CallExpect.default('ok') }), {
    check: (o, refs) => refs.key(o.key),
    run: (o, ctx) => {
      const key = ctx.keyNumber(o.key, 'key');
      ctx.call(o.expect, () => ctx.kernel.pks_key_free(key, ctx.cpu.id));
    },
  }),
  /** pks_update_protection(key, 0 / PKEY_DISABLE_WRITE / PKEY_DISABLE_ACCESS) in the current context. */
  set_rights: defineOp(
    z.strictObject({ ...op('set_rights'), key: KeyRef, rights: Rights, expect: CallExpect.default('ok') }),
    {
      check: (o, refs) => refs.key(o.key),
      run: (o, ctx) => {
        const key = ctx.keyNumber(o.key, 'key');
        ctx.call(o.expect, () => ctx.cpu.pks_update_protection(key, RIGHTS_DENIALS[o.rights]));
      },
    },
  ),
  /** Assert the live rights (PKRS) of the current context. */
  check_rights: defineOp(z.strictObject({ ...op('check_rights'), key: KeyRef, rights: Rights }), {
    check: (o, refs) => refs.key(o.key),
    run: (o, ctx) => {
      const key = ctx.keyNumber(o.key, 'key');
      const got = rightsNameOf(ctx.kernel, ctx.cpu.rights(), key);
      ctx.done(got);
      if (got !== o.rights) ctx.fail(['rights'], `${ctx.run.name} has ${got} on key ${key} here, expected ${o.rights}`);
    },
  }),
  /** set_memory_pks over the object's pages. */
  set_key: defineOp(z.strictObject({ ...op('set_key'), object: Name, key: KeyRef, expect: CallExpect.default('ok') }), {
    check: (o, refs) => {
      refs.object(o.object);
      refs.key(o.key);
    },
    run: (o, ctx) => {
      const target = ctx.target(o.object, 'object');
      const key = ctx.keyNumber(o.key, 'key');
      ctx.call(o.expect, () => ctx.kernel.set_memory_pks(target.address, target.pages, key));
    },
  }),
  /**
   * pks_update_exception(regs, key, prot) (V10): in a fault callback's program, change the rights the
   * faulting context resumes with (the test module's callback opens the key and returns true).
   */
  pks_update_exception: defineOp(
    z.strictObject({ ...op('pks_update_exception'), key: AnyKey, rights: Rights, expect: CallExpect.default('ok') }),
    {
      check: (o, refs) => refs.key(o.key),
      run: (o, ctx) => {
        const frame = callbackFrame(ctx, 'pks_update_exception');
        const key = ctx.keyNumber(o.key, 'key');
        ctx.call(o.expect, () => ctx.kernel.pks_update_exception(frame, key, RIGHTS_DENIALS[o.rights]));
      },
    },
  ),
  /**
   * In a fault callback's program: assert the rights the faulting context saved in its frame's
   * auxiliary pt_regs area (V10 lib/pks/pks_test.c checks the saved PKRS holds the key's WD).
   */
  check_saved_rights: defineOp(z.strictObject({ ...op('check_saved_rights'), key: KeyRef, rights: Rights }), {
    check: (o, refs) => refs.key(o.key),
    run: (o, ctx) => {
      const frame = callbackFrame(ctx, 'check_saved_rights');
      const key = ctx.keyNumber(o.key, 'key');
      const saved = frame.savedRights;
      if (!saved) {
        ctx.done('no saved rights');
        ctx.fail(['rights'], 'the faulting frame has no auxiliary pt_regs area: this entry mode saves no rights');
        return;
      }
      const got = rightsNameOf(ctx.kernel, saved, key);
      ctx.done(got);
      if (got !== o.rights)
        ctx.fail(['rights'], `the faulting context saved ${got} on key ${key}, expected ${o.rights}`);
    },
  }),
  /** pks_abandon_protections(key) (V7): the key becomes read/write in every thread, for good. */
  pks_abandon_protections: defineOp(
    z.strictObject({ ...op('pks_abandon_protections'), key: AnyKey, expect: CallExpect.default('ok') }),
    {
      check: (o, refs) => refs.key(o.key),
      run: (o, ctx) => {
        const key = ctx.keyNumber(o.key, 'key');
        ctx.call(o.expect, () => ctx.kernel.pks_abandon_protections(key));
      },
    },
  ),
  /** Print the debugfs key listing (pks_keys_allocated); `contains` asserts lines of it. */
  print_keys: defineOp(z.strictObject({ ...op('print_keys'), contains: z.array(z.string().min(1)).default([]) }), {
    run: (o, ctx) => {
      const lines = formatKeyListing(ctx.kernel.pks_keys_allocated());
      for (const line of lines) ctx.print(line);
      ctx.done(`${lines.length} line(s)`);
      o.contains.forEach((wanted, i) => {
        if (!lines.some((l) => l.includes(wanted)))
          ctx.fail(['contains', i], `no line of the key listing contains ${JSON.stringify(wanted)}`);
      });
    },
  }),
};
