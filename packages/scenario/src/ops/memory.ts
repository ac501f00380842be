import { z } from 'zod';
import { AccessKind } from '@pkeysim/core';
import { protectIdentityMap } from '@pkeysim/kernel';
import { AccessExpect, CallExpect, checkData, data, KeyRef, Name, op, target, WindowVia } from '../fields';
import { equalBytes, hex, hexBytes } from '../format';
import { dataBytes, dataLength } from '../references';
import { defineOp } from './spec';

const AccessKindName = z.enum(['read', 'write'], { error: 'expected read or write' });

/** Kernel memory: views (vmap), access windows (kmap), kernel loads and stores, and the consumers that key memory. */
export const MEMORY_OPS = {
  /** vmap the object's pages with a key: a view. */
  map: defineOp(
    z.strictObject({
      ...op('map'),
      object: Name,
      as: Name,
      key: KeyRef.optional(),
      writable: z.boolean().default(true),
      expect: CallExpect.default('ok'),
    }),
    {
      bind: (o, names) => names.object(o.as, { sameAs: o.object }),
      check: (o, refs) => {
        refs.object(o.object);
        refs.key(o.key);
      },
      run: (o, ctx) => {
        const t = ctx.target(o.object, 'object');
        const key = o.key === undefined ? undefined : ctx.keyNumber(o.key, 'key');
        const pages = Array.from({ length: t.pages }, (_, i) => t.physical + i * 4096);
        let address = 0;
        ctx.call(o.expect, () => {
          address = ctx.kernel.vmap(pages, { key, writable: o.writable });
        });
        if (address !== 0) {
          ctx.bindTarget({ ...t, name: o.as, address, viewOf: t.viewOf ?? t.name });
          ctx.done(hex(address));
        }
      },
    },
  ),
  /** vunmap a view made by map. */
  unmap: defineOp(z.strictObject({ ...op('unmap'), view: Name, expect: CallExpect.default('ok') }), {
    check: (o, refs) => refs.object(o.view, 'view'),
    run: (o, ctx) => {
      const view = ctx.target(o.view, 'view');
      if (!view.viewOf) throw ctx.error(['view'], `"${o.view}" is a memory object, not a view made by map`);
      ctx.call(o.expect, () => ctx.kernel.vunmap(view.address));
    },
  }),
  /** Open an access window (kmap_local, kmap_atomic, kmap, kmap_local_range): opens the page's key for this thread. */
  open: defineOp(
    z.strictObject({
      ...op('open'),
      object: Name,
      via: WindowVia.default('kmap_local'),
      expect: CallExpect.default('ok'),
    }),
    {
      check: (o, refs) => refs.object(o.object),
      run: (o, ctx) => {
        const t = ctx.target(o.object, 'object');
        const cpu = ctx.cpu;
        const wide = t.viewOf !== undefined || t.pages > 1;
        const via = wide ? (o.via === 'kmap_local' ? 'kmap_local_range' : o.via) : o.via;
        if (via !== 'kmap_local_range' && wide)
          throw ctx.error(['via'], `${via} maps one direct-map page; "${o.object}" needs kmap_local_range`);
        let address = 0;
        ctx.call(o.expect, () => {
          address =
            via === 'kmap_local'
              ? cpu.kmap_local_page(t.physical)
              : via === 'kmap_atomic'
                ? cpu.kmap_atomic(t.physical)
                : via === 'kmap'
                  ? cpu.kmap(t.physical)
                  : cpu.kmap_local_range(t.address, t.length);
        });
        if (address !== 0) {
          ctx.run.windows.push({ object: o.object, via, address, physical: t.physical });
          ctx.done(`${via} ${hex(address)}`);
        }
      },
    },
  ),
  /** The unmap matching the object's last open (kunmap_local, kunmap_atomic, kunmap). */
  close: defineOp(z.strictObject({ ...op('close'), object: Name, expect: CallExpect.default('ok') }), {
    check: (o, refs) => refs.object(o.object),
    run: (o, ctx) => {
      const windows = ctx.run.windows;
      const index = windows.map((w) => w.object).lastIndexOf(o.object);
      const t = ctx.target(o.object, 'object');
      const window =
        index >= 0
          ? windows[index]
          : { object: o.object, via: 'kmap_local' as const, address: t.address, physical: t.physical };
      let closed = false;
      ctx.call(o.expect, () => {
        if (window.via === 'kmap') ctx.cpu.kunmap(window.physical);
        else if (window.via === 'kmap_atomic') ctx.cpu.kunmap_atomic(window.address);
        else ctx.cpu.kunmap_local(window.address);
        closed = true;
      });
      if (closed && index >= 0) windows.splice(index, 1);
    },
  }),
  /** One checked kernel access. */
  access: defineOp(
    z.strictObject({ ...op('access'), ...target, kind: AccessKindName, expect: AccessExpect.optional() }),
    {
      check: (o, refs) => {
        refs.object(o.object);
        refs.fits(o);
      },
      run: (o, ctx) => {
        const address = ctx.target(o.object, 'object').address + o.offset;
        ctx.access(o.expect, () => ctx.cpu.access(address, o.kind === 'read' ? AccessKind.Read : AccessKind.Write));
      },
    },
  ),
  /** A kernel load; with data, asserts what it reads. */
  read: defineOp(
    z
      .strictObject({ ...op('read'), ...target, ...data, expect: AccessExpect.optional() })
      .superRefine((v, c) => checkData(v, c, false)),
    {
      check: (o, refs) => {
        refs.object(o.object);
        refs.fits(o);
      },
      run: (o, ctx) => {
        const address = ctx.target(o.object, 'object').address + o.offset;
        const expected =
          o.bytes !== undefined || o.text !== undefined || o.fill !== undefined ? dataBytes(o) : undefined;
        const length = dataLength(o) ?? 1;
        let got: Uint8Array | undefined;
        ctx.access(o.expect, () => {
          const r = ctx.cpu.read(address, length);
          if (r.ok) got = r.data;
          return r;
        });
        if (got && expected && !equalBytes(got, expected))
          ctx.fail([], `read ${hexBytes(got)} at ${o.object}+${o.offset}, expected ${hexBytes(expected)}`);
      },
    },
  ),
  /** A kernel store of the bytes. */
  write: defineOp(
    z
      .strictObject({ ...op('write'), ...target, ...data, expect: AccessExpect.optional() })
      .superRefine((v, c) => checkData(v, c, true)),
    {
      check: (o, refs) => {
        refs.object(o.object);
        refs.fits(o);
      },
      run: (o, ctx) => {
        const address = ctx.target(o.object, 'object').address + o.offset;
        const bytes = dataBytes(o)!;
        ctx.access(o.expect, () => ctx.cpu.write(address, bytes));
      },
    },
  ),
  /** Btrfs-style debugging: a declared writer opens the watched pages' key for this thread. */
  writer_begin: defineOp(z.strictObject({ ...op('writer_begin'), writer: Name, expect: CallExpect.default('ok') }), {
    check: (_o, refs) => {
      if (!refs.scenario.btrfs_debug) refs.bad(['op'], 'writer_begin needs a btrfs_debug section');
    },
    run: (o, ctx) => {
      ctx.call(o.expect, () => ctx.btrfs!.begin(ctx.cpu.id, o.writer));
    },
  }),
  /** Closes it again (an undeclared writer or an unbalanced end is EINVAL). */
  writer_end: defineOp(z.strictObject({ ...op('writer_end'), writer: Name, expect: CallExpect.default('ok') }), {
    check: (_o, refs) => {
      if (!refs.scenario.btrfs_debug) refs.bad(['op'], 'writer_end needs a btrfs_debug section');
    },
    run: (o, ctx) => {
      ctx.call(o.expect, () => ctx.btrfs!.end(ctx.cpu.id, o.writer));
    },
  }),
  /** Identity-map protection (Cook): key the object's direct-map entries, splitting large pages. */
  protect_identity: defineOp(
    z.strictObject({ ...op('protect_identity'), object: Name, key: KeyRef, expect: CallExpect.default('ok') }),
    {
      check: (o, refs) => {
        refs.object(o.object);
        refs.key(o.key);
      },
      run: (o, ctx) => {
        const t = ctx.target(o.object, 'object');
        const key = ctx.keyNumber(o.key, 'key');
        const r = ctx.call(o.expect, () => protectIdentityMap(ctx.kernel, t.physical, t.pages, key).result);
        if (r === 0) ctx.flushLog();
      },
    },
  ),
};
