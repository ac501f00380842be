import { PKS_VERSIONS } from '@pkeysim/kernel';
import { z } from 'zod';

/**
 * The scenario file format, as one zod schema. Everything a run needs is here: the machine, the
 * kernel, named keys and memory objects, threads with their programs, injected faults, assertions
 * and a seed. `schema/scenario.schema.json` is generated from it (see json-schema.ts).
 */

import {
  AccessExpect,
  Bytes,
  CallExpect,
  checkData,
  data,
  ErrnoName,
  KeyRef,
  Name,
  note,
  op,
  Rights,
  Size,
  target,
  PerArch,
  WindowVia,
  AnyKey,
  SignalName,
} from './fields';
import { TABLE_OP_SCHEMAS, TABLE_USER_SPACE_OPS } from './ops';

export { Name, KeyRef, Rights, ErrnoName, CallExpect, AccessExpect, Size, Bytes, PerArch, WindowVia };

// Programs nest (interrupt handlers, forked children, repeat, signal handlers): getters make the
// schema recursive, and these types break the cycle for the type checker.
/** The nesting ops (interrupt, nmi, fork, repeat, signal), over a type of leaf op; recursive. */
export type Nested<Leaf, Signo> =
  | { op: 'interrupt'; note?: string; vector?: string; program: (Leaf | Nested<Leaf, Signo>)[] }
  | { op: 'nmi'; note?: string; program: (Leaf | Nested<Leaf, Signo>)[] }
  | { op: 'fork'; note?: string; name: string; cpu?: number; program: (Leaf | Nested<Leaf, Signo>)[] }
  | { op: 'repeat'; note?: string; times: number; program: (Leaf | Nested<Leaf, Signo>)[] }
  | ({ op: 'signal'; note?: string; handler: (Leaf | Nested<Leaf, Signo>)[] } & Signo)
  | ({ op: 'sigaction'; note?: string; flags?: 'onstack'[]; handler: (Leaf | Nested<Leaf, Signo>)[] } & Signo)
  | {
      op: 'clone';
      note?: string;
      name: string;
      cpu?: number;
      stack: string;
      sp?: number;
      program: (Leaf | Nested<Leaf, Signo>)[];
    }
  | {
      op: 'set_fault_callback';
      note?: string;
      key: string | number;
      handled?: boolean;
      program: (Leaf | Nested<Leaf, Signo>)[];
    };
/** A validated op, as the types see it (the recursive form of ScenarioOp). */
export type OpOutput = z.output<typeof LeafOp> | Nested<z.output<typeof LeafOp>, { signo: keyof typeof SIGNALS }>;
/** An op as written (before defaults), as the types see it. */
export type OpInput = z.input<typeof LeafOp> | Nested<z.input<typeof LeafOp>, { signo?: keyof typeof SIGNALS }>;
/** The type of the Program schema: a list of ops, as written and as validated. */
export type ProgramType = z.ZodType<OpOutput[], OpInput[]>;

// Leaf ops live in ops/ (one OpSpec per op: schema, checks, run); migrate and the nesting ops
// stay here because the driver's scheduler and generators run them.
/** migrate needs the round-robin driver (the random scheduler migrates on its own). */
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

/** sigaction(2) with a handler program (flags: onstack = SA_ONSTACK); the handler runs when the signal is delivered. */
const SigactionOp = z.strictObject({
  ...op('sigaction'),
  signo: SignalName.default('SIGSEGV'),
  flags: z.array(z.enum(['onstack'], { error: 'expected onstack' })).optional(),
  get handler(): ProgramType {
    return Program;
  },
});
/** clone(CLONE_VM | CLONE_THREAD): a new thread of the task's process on the `stack` object, running `program`. */
const CloneOp = z.strictObject({
  ...op('clone'),
  name: Name,
  cpu: z.int().min(0).optional(),
  stack: Name,
  /** Where in the stack object the stack pointer starts (default: its end). */
  sp: z.int().min(0).optional(),
  get program(): ProgramType {
    return Program;
  },
});
/**
 * pks_set_fault_callback(key, callback): on a key fault, run `program` (pks_update_exception may
 * change what the faulting context resumes with) and report the fault `handled` (default true).
 */
const SetFaultCallbackOp = z.strictObject({
  ...op('set_fault_callback'),
  key: AnyKey,
  handled: z.boolean().optional(),
  get program(): ProgramType {
    return Program;
  },
});

const LeafOp = z.discriminatedUnion('op', [...TABLE_OP_SCHEMAS, MigrateOp]);

/** One op of a thread's program (leaf ops and the nesting ones: interrupt, nmi, fork, repeat, signal). */
export const Op = z.discriminatedUnion('op', [
  ...LeafOp.options,
  InterruptOp,
  NmiOp,
  ForkOp,
  RepeatOp,
  SignalOp,
  SigactionOp,
  CloneOp,
  SetFaultCallbackOp,
]);
/** A program: a list of ops. */
export const Program: ProgramType = z.array(Op);

/** Operation names, for docs and error messages. */
export const OP_NAMES = Op.options.map((o) => o.shape.op.value);
/** The ops that need the kernel's user-space support (pkey syscalls, PKRU, signals). */
export const USER_SPACE_OPS: readonly OpName[] = [...TABLE_USER_SPACE_OPS, 'signal', 'sigaction', 'clone'];

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
      .enum(['mainline', 'pre-2024', 'inherit', 'lockdown', 'clear-14+2', 'cleared-2016', 'amd-window'], {
        error: 'expected mainline, pre-2024, inherit, lockdown, clear-14+2, cleared-2016 or amd-window',
      })
      .default('mainline'),
    /** How PTRACE_SETREGSET NT_X86_XSTATE treats PKRU (user space): mainline, or ignored-5.14 (the 5.14..6.1 regression). */
    ptrace_pkru: z
      .enum(['mainline', 'ignored-5.14'], { error: 'expected mainline or ignored-5.14' })
      .default('mainline'),
  })
  .default({
    key_design: 'dynamic',
    entry_mode: 'aux-pt-regs',
    fault_mode: 'strict',
    signal_policy: 'mainline',
    ptrace_pkru: 'mainline',
  });

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
  /** Key 0 too: a user fault on the default key (a thread that disabled it). */
  key: z.union([z.literal(0), KeyRef], { error: 'expected a key 0..15 or a key name' }).optional(),
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
export type { RightsName } from './fields';
/** A validated injected fault. */
export type InjectSpec = z.output<typeof InjectSpec>;
/** A validated memory object. */
export type MemorySpec = z.output<typeof MemorySpec>;
/** Data to write or expect: bytes, text, or a fill byte with a length. */
export type DataSpec = { bytes?: number[] | string; text?: string; fill?: number; length?: number };
