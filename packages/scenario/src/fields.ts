import { z } from 'zod';

/**
 * The field schemas every op and section shares: names, keys, rights, errnos, sizes, bytes and
 * data. In their own module so the op families (ops/) and the scenario schema can both use them.
 */

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** A name: a letter or _, then letters, digits, _ . or -. */
export const Name = z.string().regex(NAME, { error: 'expected a name: a letter or _, then letters, digits, _ . -' });

/** A key: a number 1..15 (key 0 is the default key, never a scenario's to change) or a name bound by `keys` or `as`. */
const KEY_RANGE = { error: 'expected a key 1..15' };
/** A key: a number 1..15 or a name bound by `keys` or `as`. */
export const KeyRef = z.union([z.int(KEY_RANGE).min(1, KEY_RANGE).max(15, KEY_RANGE), Name], KEY_RANGE);

/** Rights as the series' three protections: read/write (0), read-only (PKEY_DISABLE_WRITE), none (PKEY_DISABLE_ACCESS). */
export const Rights = z.enum(['rw', 'ro', 'none'], { error: 'expected rw, ro or none' });

/** The errnos a kernel call can answer with (include/uapi/asm-generic/errno-base.h, errno.h). */
export const ErrnoName = z.enum(
  ['EFAULT', 'EBUSY', 'EINVAL', 'ENOSPC', 'EOPNOTSUPP', 'EPERM', 'ESRCH', 'EIO', 'ENOMEM', 'EAGAIN', 'ETIMEDOUT'],
  {
    error:
      'expected ok or an errno: EFAULT, EBUSY, EINVAL, ENOSPC, EOPNOTSUPP, EPERM, ESRCH, EIO, ENOMEM, EAGAIN, ETIMEDOUT',
  },
);
/** What a call that returns 0 or -errno is expected to return. */
export const CallExpect = z.union([z.literal('ok'), ErrnoName], {
  error:
    'expected ok or an errno: EFAULT, EBUSY, EINVAL, ENOSPC, EOPNOTSUPP, EPERM, ESRCH, EIO, ENOMEM, EAGAIN, ETIMEDOUT',
});
/** What an access is expected to do: complete without a fault, complete after a handled fault, or oops. */
export const AccessExpect = z.enum(['ok', 'handled', 'oops', 'panic'], {
  error: 'expected ok, handled, oops or panic',
});

const SIZE = /^(\d+)\s*(B|KiB|MiB|GiB)?$/;
const SIZE_ERROR = { error: 'expected a size: bytes, or e.g. "64MiB" (B, KiB, MiB, GiB)' };
const UNIT: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
/** A size in bytes: a number, or a string such as "64MiB" (B, KiB, MiB, GiB). */
export const Size = z
  .union([z.int(SIZE_ERROR).positive(SIZE_ERROR), z.string().regex(SIZE, SIZE_ERROR)], SIZE_ERROR)
  .transform((v) => {
    if (typeof v === 'number') return v;
    const [, n, unit] = SIZE.exec(v)!;
    return Number(n) * UNIT[unit ?? 'B'];
  });

const Byte = z.int().min(0).max(255, { error: 'expected a byte 0..255' });
const HEX = /^\s*([0-9a-fA-F]{2}\s*)+$/;
/** Bytes: a list of numbers 0..255, or hex pairs in a string ("de ad be ef"). */
export const Bytes = z.union([z.array(Byte).min(1), z.string().regex(HEX)], {
  error: 'expected bytes: a list of 0..255 or hex pairs such as "de ad be ef"',
});

/** Where a program points: a memory object or a `map` view, and an offset into it. */
export const target = {
  object: Name,
  offset: z.int().min(0).default(0),
};

/** The data an op writes or an assertion expects: exactly one of bytes, text, or fill with length. */
export const data = {
  bytes: Bytes.optional(),
  text: z.string().optional(),
  fill: Byte.optional(),
  length: z.int().positive().optional(),
};
type DataFields = { bytes?: unknown; text?: unknown; fill?: unknown; length?: unknown };
export function checkData(value: DataFields, ctx: z.core.$RefinementCtx<DataFields>, required: boolean): void {
  const given = ['bytes', 'text', 'fill'].filter((k) => value[k as keyof DataFields] !== undefined);
  if (given.length > 1)
    ctx.addIssue({ code: 'custom', message: `give one of bytes, text or fill, not ${given.join(' and ')}` });
  else if (given.length === 0 && required)
    ctx.addIssue({ code: 'custom', message: 'give the data: bytes, text, or fill with length' });
  if (value.fill !== undefined && value.length === undefined)
    ctx.addIssue({ code: 'custom', path: ['length'], message: 'fill needs a length' });
}

export const note = { note: z.string().optional() };
export const op = <T extends string>(name: T) => ({ op: z.literal(name), ...note });

/** How an `open` op maps the object into a kernel window: kmap_local, kmap_atomic, kmap or kmap_local_range. */
export const WindowVia = z.enum(['kmap_local', 'kmap_atomic', 'kmap', 'kmap_local_range'], {
  error: 'expected kmap_local, kmap_atomic, kmap or kmap_local_range',
});

/** Per-architecture expectations: `on: { power: rw }` overrides the op's expectation when it runs there. */
export const PerArch = <T extends z.ZodType>(value: T) =>
  z.record(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, { error: 'expected an architecture plugin name' }), value);

/** Rights by name: rw, ro or none. */
export type RightsName = z.output<typeof Rights>;

/**
 * A key as a system call or kernel call takes it: any integer (key 0, out of range, negative: the
 * kernel's answer decides, as in the real tests) or a name bound by `keys` or `as`.
 */
export const AnyKey = z.union([z.int(), Name], { error: 'expected an integer key or a key name' });

/** Page protections as mmap/mprotect take them: r, w and x letters (PROT_READ, PROT_WRITE, PROT_EXEC) or none. */
export const Prot = z.enum(['none', 'r', 'w', 'x', 'rw', 'rx', 'wx', 'rwx'], {
  error: 'expected none or r, w, x letters in that order (rw, rx, rwx, ...)',
});

/** The signals scenarios send and handle, with their numbers. */
export const SIGNAL_NUMBERS = { SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12 } as const;
/** A signal by name: SIGUSR1, SIGUSR2 or SIGSEGV. */
export const SignalName = z.enum(['SIGUSR1', 'SIGUSR2', 'SIGSEGV'], { error: 'expected SIGUSR1, SIGUSR2 or SIGSEGV' });
