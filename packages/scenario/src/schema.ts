import { PKS_VERSIONS } from '@pkeysim/kernel';
import { z } from 'zod';

/**
 * The scenario file format, as one zod schema. Everything a run needs is here: the machine, the
 * kernel, named keys and memory objects, threads with their programs, injected faults, assertions
 * and a seed. `schema/scenario.schema.json` is generated from it (see json-schema.ts).
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
export const ErrnoName = z.enum(['EFAULT', 'EBUSY', 'EINVAL', 'ENOSPC', 'EOPNOTSUPP'], {
  error: 'expected ok or an errno: EFAULT, EBUSY, EINVAL, ENOSPC, EOPNOTSUPP',
});
/** What a call that returns 0 or -errno is expected to return. */
export const CallExpect = z.union([z.literal('ok'), ErrnoName], {
  error: 'expected ok or an errno: EFAULT, EBUSY, EINVAL, ENOSPC, EOPNOTSUPP',
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
const target = {
  object: Name,
  offset: z.int().min(0).default(0),
};

/** The data an op writes or an assertion expects: exactly one of bytes, text, or fill with length. */
const data = {
  bytes: Bytes.optional(),
  text: z.string().optional(),
  fill: Byte.optional(),
  length: z.int().positive().optional(),
};
type DataFields = { bytes?: unknown; text?: unknown; fill?: unknown; length?: unknown };
function checkData(value: DataFields, ctx: z.core.$RefinementCtx<DataFields>, required: boolean): void {
  const given = ['bytes', 'text', 'fill'].filter((k) => value[k as keyof DataFields] !== undefined);
  if (given.length > 1)
    ctx.addIssue({ code: 'custom', message: `give one of bytes, text or fill, not ${given.join(' and ')}` });
  else if (given.length === 0 && required)
    ctx.addIssue({ code: 'custom', message: 'give the data: bytes, text, or fill with length' });
  if (value.fill !== undefined && value.length === undefined)
    ctx.addIssue({ code: 'custom', path: ['length'], message: 'fill needs a length' });
}

const note = { note: z.string().optional() };
const op = <T extends string>(name: T) => ({ op: z.literal(name), ...note });

// Programs nest (interrupt handlers, forked children, repeat, signal handlers): getters make the
// schema recursive, and these types break the cycle for the type checker.
/** The nesting ops (interrupt, nmi, fork, repeat, signal), over a type of leaf op; recursive. */
export type Nested<Leaf, Signo> =
  | { op: 'interrupt'; note?: string; vector?: string; program: (Leaf | Nested<Leaf, Signo>)[] }
  | { op: 'nmi'; note?: string; program: (Leaf | Nested<Leaf, Signo>)[] }
  | { op: 'fork'; note?: string; name: string; cpu?: number; program: (Leaf | Nested<Leaf, Signo>)[] }
  | { op: 'repeat'; note?: string; times: number; program: (Leaf | Nested<Leaf, Signo>)[] }
  | ({ op: 'signal'; note?: string; handler: (Leaf | Nested<Leaf, Signo>)[] } & Signo);
/** A validated op, as the types see it (the recursive form of ScenarioOp). */
export type OpOutput = z.output<typeof LeafOp> | Nested<z.output<typeof LeafOp>, { signo: keyof typeof SIGNALS }>;
/** An op as written (before defaults), as the types see it. */
export type OpInput = z.input<typeof LeafOp> | Nested<z.input<typeof LeafOp>, { signo?: keyof typeof SIGNALS }>;
/** The type of the Program schema: a list of ops, as written and as validated. */
export type ProgramType = z.ZodType<OpOutput[], OpInput[]>;

const YieldOp = z.strictObject({ ...op('yield') });
const SleepOp = z.strictObject({ ...op('sleep'), rounds: z.int().min(1) });
const ExitOp = z.strictObject({ ...op('exit') });
const AllocKeyOp = z.strictObject({
  ...op('alloc_key'),
  as: Name,
  owner: z.string().min(1).optional(),
  exclusive: z.boolean().default(false),
  expect: CallExpect.default('ok'),
});
const FreeKeyOp = z.strictObject({ ...op('free_key'), key: KeyRef, expect: CallExpect.default('ok') });
const SetRightsOp = z.strictObject({
  ...op('set_rights'),
  key: KeyRef,
  rights: Rights,
  expect: CallExpect.default('ok'),
});
const CheckRightsOp = z.strictObject({ ...op('check_rights'), key: KeyRef, rights: Rights });
const SetKeyOp = z.strictObject({ ...op('set_key'), object: Name, key: KeyRef, expect: CallExpect.default('ok') });
const MapOp = z.strictObject({
  ...op('map'),
  object: Name,
  as: Name,
  key: KeyRef.optional(),
  writable: z.boolean().default(true),
  expect: CallExpect.default('ok'),
});
const UnmapOp = z.strictObject({ ...op('unmap'), view: Name, expect: CallExpect.default('ok') });
/** How an `open` op maps the object into a kernel window: kmap_local, kmap_atomic, kmap or kmap_local_range. */
export const WindowVia = z.enum(['kmap_local', 'kmap_atomic', 'kmap', 'kmap_local_range'], {
  error: 'expected kmap_local, kmap_atomic, kmap or kmap_local_range',
});
const OpenOp = z.strictObject({
  ...op('open'),
  object: Name,
  via: WindowVia.default('kmap_local'),
  expect: CallExpect.default('ok'),
});
const CloseOp = z.strictObject({ ...op('close'), object: Name, expect: CallExpect.default('ok') });
const AccessOp = z.strictObject({
  ...op('access'),
  ...target,
  kind: z.enum(['read', 'write'], { error: 'expected read or write' }),
  expect: AccessExpect.optional(),
});
const ReadOp = z
  .strictObject({ ...op('read'), ...target, ...data, expect: AccessExpect.optional() })
  .superRefine((v, ctx) => checkData(v, ctx, false));
const WriteOp = z
  .strictObject({ ...op('write'), ...target, ...data, expect: AccessExpect.optional() })
  .superRefine((v, ctx) => checkData(v, ctx, true));
const MigrateOp = z.strictObject({ ...op('migrate'), cpu: z.int().min(0) });
const InterruptOp = z.strictObject({
  ...op('interrupt'),
  vector: z.string().optional(),
  get program(): ProgramType {
    return Program;
  },
});
const NmiOp = z.strictObject({
  ...op('nmi'),
  get program(): ProgramType {
    return Program;
  },
});
const ForkOp = z.strictObject({
  ...op('fork'),
  name: Name,
  cpu: z.int().min(0).optional(),
  get program(): ProgramType {
    return Program;
  },
});
const RepeatOp = z.strictObject({
  ...op('repeat'),
  times: z.int().min(1).max(100_000),
  get program(): ProgramType {
    return Program;
  },
});

// User-space protection keys (mainline pkey_alloc(2), pkey_free, pkey_mprotect, PKRU, signals).
const PkeyAllocOp = z.strictObject({
  ...op('pkey_alloc'),
  as: Name,
  rights: Rights.default('rw'),
  expect: CallExpect.default('ok'),
});
const PkeyFreeOp = z.strictObject({ ...op('pkey_free'), key: KeyRef, expect: CallExpect.default('ok') });
const PkeyMprotectOp = z.strictObject({
  ...op('pkey_mprotect'),
  object: Name,
  key: z.union([z.literal(0), KeyRef], { error: 'expected a key 0..15' }),
  expect: CallExpect.default('ok'),
});
const PkeySetOp = z.strictObject({ ...op('pkey_set'), key: KeyRef, rights: Rights, expect: CallExpect.default('ok') });
/** Per-architecture expectations: `on: { power: rw }` overrides the op's expectation when it runs there. */
const PerArch = <T extends z.ZodType>(value: T) =>
  z.record(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, { error: 'expected an architecture plugin name' }), value);
const CheckPkeyOp = z.strictObject({
  ...op('check_pkey'),
  key: KeyRef,
  rights: Rights,
  /** The rights expected instead on the named architectures (where their semantics differ). */
  on: PerArch(Rights).optional(),
});
const MmapOp = z.strictObject({
  ...op('mmap'),
  as: Name,
  pages: z.int().min(1).max(4096).default(1),
  expect: CallExpect.default('ok'),
});
const UserExpect = z.enum(['ok', 'handled', 'killed'], { error: 'expected ok, handled or killed' });
const UserAccessOp = z.strictObject({
  ...op('user_access'),
  ...target,
  kind: z.enum(['read', 'write'], { error: 'expected read or write' }),
  /** ok: no fault; handled: a SIGSEGV handler ran and the access was retried; killed: the process died. */
  expect: UserExpect.optional(),
  /** The outcome expected instead on the named architectures. */
  on: PerArch(UserExpect).optional(),
});
/** The signals a `signal` op can send, with their numbers. */
export const SIGNALS = { SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12 } as const;
const SignalOp = z.strictObject({
  ...op('signal'),
  signo: z
    .enum(['SIGUSR1', 'SIGUSR2', 'SIGSEGV'], { error: 'expected SIGUSR1, SIGUSR2 or SIGSEGV' })
    .default('SIGUSR1'),
  get handler(): ProgramType {
    return Program;
  },
});

// Btrfs-style debugging (packages/btrfs-debug): a declared writer opens the watched pages' key.
const WriterBeginOp = z.strictObject({
  ...op('writer_begin'),
  writer: Name,
  expect: CallExpect.default('ok'),
});
const WriterEndOp = z.strictObject({ ...op('writer_end'), writer: Name, expect: CallExpect.default('ok') });
/** Identity-map protection (Cook): key the object's direct-map entries, splitting large pages. */
const ProtectIdentityOp = z.strictObject({
  ...op('protect_identity'),
  object: Name,
  key: KeyRef,
  expect: CallExpect.default('ok'),
});

const LeafOp = z.discriminatedUnion('op', [
  YieldOp,
  SleepOp,
  ExitOp,
  AllocKeyOp,
  FreeKeyOp,
  SetRightsOp,
  CheckRightsOp,
  SetKeyOp,
  MapOp,
  UnmapOp,
  OpenOp,
  CloseOp,
  AccessOp,
  ReadOp,
  WriteOp,
  MigrateOp,
  PkeyAllocOp,
  PkeyFreeOp,
  PkeyMprotectOp,
  PkeySetOp,
  CheckPkeyOp,
  MmapOp,
  UserAccessOp,
  WriterBeginOp,
  WriterEndOp,
  ProtectIdentityOp,
]);

/** One op of a thread's program (leaf ops and the nesting ones: interrupt, nmi, fork, repeat, signal). */
export const Op = z.discriminatedUnion('op', [...LeafOp.options, InterruptOp, NmiOp, ForkOp, RepeatOp, SignalOp]);
/** A program: a list of ops. */
export const Program: ProgramType = z.array(Op);

/** Operation names, for docs and error messages. */
export const OP_NAMES = Op.options.map((o) => o.shape.op.value);
/** The ops that need the kernel's user-space support (pkey syscalls, PKRU, signals). */
export const USER_SPACE_OPS = [
  'pkey_alloc',
  'pkey_free',
  'pkey_mprotect',
  'pkey_set',
  'check_pkey',
  'mmap',
  'user_access',
  'signal',
] as const;

/** The simulated machine: architecture, CPUs, paging levels, memory, persistent memory and features. */
export const MachineSpec = z
  .strictObject({
    arch: z.string().min(1).default('x86'),
    cpus: z.int().min(1).max(64).default(2),
    paging_levels: z.union([z.literal(4), z.literal(5)], { error: 'expected 4 or 5' }).default(4),
    memory: Size.default(256 * 1024 * 1024),
    pmem: Size.default(64 * 1024 * 1024),
    features: z
      .strictObject({ pks: z.boolean().default(true), pku: z.boolean().default(true) })
      .default({ pks: true, pku: true }),
  })
  .default({
    arch: 'x86',
    cpus: 2,
    paging_levels: 4,
    memory: 256 * 1024 * 1024,
    pmem: 64 * 1024 * 1024,
    features: { pks: true, pku: true },
  });

/** What an unhandled key fault does: strict (oops) or relaxed (WARN once and open the key). */
export const FaultMode = z.enum(['strict', 'relaxed'], { error: 'expected strict or relaxed' });

/** The kernel's configuration: key design, static consumers, entry mode, fault mode and signal policy. */
export const KernelSpec = z
  .strictObject({
    key_design: z.enum(['dynamic', 'static'], { error: 'expected dynamic or static' }).default('dynamic'),
    /**
     * The posting of the PKS series (rfc, v2 .. v10): sets key_design and entry_mode to that posting's,
     * and its allocator's errnos and flags. Without it: static is V10, dynamic V6.
     */
    pks_version: z.enum(PKS_VERSIONS, { error: `expected one of ${PKS_VERSIONS.join(', ')}` }).optional(),
    /** Page-table protection (Edgecombe's series on top of PKS): adds the static key PKS_KEY_PG_TABLES (wd). */
    page_table_protection: z.boolean().optional(),
    /** Static design only: the build-time consumers (V10 PKS_KEY_*), each with its default rights. */
    consumers: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an identifier such as PKS_KEY_TEST' }),
          key: z.int().min(1).max(15).optional(),
          default: z.enum(['rw', 'ad', 'wd'], { error: 'expected rw, ad or wd' }),
        }),
      )
      .optional(),
    entry_mode: z
      .enum(['aux-pt-regs', 'legacy-rfc-v1'], { error: 'expected aux-pt-regs or legacy-rfc-v1' })
      .default('aux-pt-regs'),
    /** What a key fault does when its key has no other handler: strict = oops, relaxed = WARN once and open the key. */
    fault_mode: FaultMode.default('strict'),
    /** The PKRU a signal handler starts with (user space). */
    signal_policy: z
      .enum(['mainline', 'pre-2024', 'inherit', 'lockdown'], {
        error: 'expected mainline, pre-2024, inherit or lockdown',
      })
      .default('mainline'),
  })
  .default({ key_design: 'dynamic', entry_mode: 'aux-pt-regs', fault_mode: 'strict', signal_policy: 'mainline' });

/** A named key the scenario allocates at setup. */
export const KeySpec = z.strictObject({
  name: Name,
  /** Dynamic design: the owner passed to pks_key_alloc (default: the name). Static design: the consumer's name. */
  owner: z.string().min(1).optional(),
  fault_mode: FaultMode.optional(),
});

/** A named memory object: its pages, whether in persistent memory, its key and initial data. */
export const MemorySpec = z
  .strictObject({
    name: Name,
    pages: z.int().min(1).max(4096).default(1),
    /** Taken from persistent memory: its contents survive a reboot. */
    pmem: z.boolean().default(false),
    /** Re-key the object's direct-map pages with this key at setup (set_memory_pks). */
    key: KeyRef.optional(),
    ...data,
  })
  .superRefine((v, ctx) => checkData(v, ctx, false));

/** A thread: its name, CPU, kind (kthread or task) and program. */
export const ThreadSpec = z.strictObject({
  name: Name,
  cpu: z.int().min(0).default(0),
  kind: z.enum(['kthread', 'task'], { error: 'expected kthread or task' }).default('kthread'),
  program: Program,
});

const InjectAt = z.strictObject({ thread: Name, op: z.int().min(0) });
/** A fault injected when a thread reaches an op: an interrupt, an NMI or a stray write. */
export const InjectSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('interrupt'),
    at: InjectAt,
    vector: z.string().optional(),
    program: Program,
    ...note,
  }),
  z.strictObject({ kind: z.literal('nmi'), at: InjectAt, program: Program, ...note }),
  z
    .strictObject({
      kind: z.literal('stray_write'),
      at: InjectAt,
      /** The CPU the stray write runs on (in a fresh kernel thread); default: another CPU than the thread's. */
      cpu: z.int().min(0).optional(),
      ...target,
      ...data,
      ...note,
    })
    .superRefine((v, ctx) => checkData(v, ctx, true)),
]);

/**
 * The Btrfs debugging consumer (Chris Mason at LSFMM 2022): `objects` are watched (write-disabled
 * at rest by `key`), only `writers` may open them (writer_begin/writer_end), and a stray modifier's
 * report names its thread and call site (the op's path and note).
 */
export const BtrfsDebugSpec = z.strictObject({
  key: KeyRef,
  mode: FaultMode.default('strict'),
  objects: z.array(Name).min(1),
  writers: z.array(Name).min(1),
});

/** How threads are scheduled: round-robin or random (with preemption, migration and interrupt rates), and the step limit. */
export const ScheduleSpec = z
  .strictObject({
    /** round-robin: threads in order, each until it yields. random: the kernel's seeded scheduler. */
    policy: z.enum(['round-robin', 'random'], { error: 'expected round-robin or random' }).default('round-robin'),
    preempt: z.number().min(0).max(1).optional(),
    migrate: z.number().min(0).max(1).optional(),
    interrupt: z.number().min(0).max(1).optional(),
    /** Interrupt sources the random scheduler may deliver at any step. */
    interrupts: z.array(z.strictObject({ program: Program })).optional(),
    max_steps: z.int().min(1).max(10_000_000).default(100_000),
  })
  .default({ policy: 'round-robin', max_steps: 100_000 });

const FaultMatch = z.strictObject({
  thread: Name.optional(),
  object: Name.optional(),
  key: KeyRef.optional(),
  access: z.enum(['read', 'write'], { error: 'expected read or write' }).optional(),
  outcome: z
    .enum(['handled', 'oops', 'panic', 'killed'], { error: 'expected handled, oops, panic or killed' })
    .optional(),
  /** Exactly this many faults match (default: at least one). */
  count: z.int().min(0).optional(),
});

/** The run's assertions: faults, memory contents, rights, thread states, kernel log and panic. */
export const ExpectSpec = z
  .strictObject({
    /** Every fault of the run, matched against these (each by its own count). */
    faults: z.array(FaultMatch).optional(),
    /** The total number of faults. */
    fault_count: z.int().min(0).optional(),
    memory: z
      .array(
        z
          .strictObject({
            ...target,
            ...data,
            /** Check after a simulated reboot (only persistent memory keeps its contents). */
            after_reboot: z.boolean().default(false),
          })
          .superRefine((v, ctx) => checkData(v, ctx, true)),
      )
      .optional(),
    rights: z.array(z.strictObject({ thread: Name, key: KeyRef, rights: Rights })).optional(),
    threads: z
      .record(Name, z.enum(['finished', 'oops', 'killed'], { error: 'expected finished, oops or killed' }))
      .optional(),
    /** Substrings the kernel log must contain. */
    log: z.array(z.string().min(1)).optional(),
    /** Substrings the kernel log must not contain. */
    no_log: z.array(z.string().min(1)).optional(),
    panic: z.boolean().optional(),
  })
  .default({});

/** Cycles per event, overriding core's defaults (event names from MACHINE_EVENT_NAMES). */
export const CostsSpec = z.record(z.string(), z.number().min(0, { error: 'expected cycles >= 0' }));

/** The whole scenario file. */
export const ScenarioSpec = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  seed: z.int().default(1),
  machine: MachineSpec,
  kernel: KernelSpec,
  costs: CostsSpec.optional(),
  keys: z.array(KeySpec).default([]),
  memory: z.array(MemorySpec).default([]),
  threads: z.array(ThreadSpec).min(1, { error: 'a scenario needs at least one thread' }),
  inject: z.array(InjectSpec).default([]),
  btrfs_debug: BtrfsDebugSpec.optional(),
  schedule: ScheduleSpec,
  expect: ExpectSpec,
});

/** A validated scenario, with defaults applied. */
export type Scenario = z.output<typeof ScenarioSpec>;
/** A scenario as written (defaults not yet applied). */
export type ScenarioInput = z.input<typeof ScenarioSpec>;
/** A validated op. */
export type ScenarioOp = z.output<typeof Op>;
/** The name of an op (its `op` field). */
export type OpName = ScenarioOp['op'];
/** Rights by name: rw, ro or none. */
export type RightsName = z.output<typeof Rights>;
/** A validated injected fault. */
export type InjectSpec = z.output<typeof InjectSpec>;
/** A validated memory object. */
export type MemorySpec = z.output<typeof MemorySpec>;
/** Data to write or expect: bytes, text, or a fill byte with a length. */
export type DataSpec = { bytes?: number[] | string; text?: string; fill?: number; length?: number };
