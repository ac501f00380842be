import { type CampaignResult, PKS_VERSIONS, type StrayKind } from '@pkeysim/kernel';
import { z } from 'zod';
import { PTRACE_PKRU_MODES } from '@pkeysim/pkeys-user';
import { SCHEMA } from './names';

/*
 * One definition per `--json` output. The JSON Schemas in packages/cli/schemas/ are generated from
 * these (`npm run schemas`); json.test.ts fails when they drift and validates real command output
 * against these definitions. Objects are strict: a field the definition does not name is an error,
 * so a new field cannot appear in output without appearing here too.
 */

const count = z.number().int().nonnegative();
const schemaField = <const S extends string>(name: S) => z.literal(name).describe('the document and its version');

/** Fails to compile when the kernel's type gains a member the definition lacks. */
type Covers<Defined, Actual> = [Actual] extends [Defined] ? true : never;
const covered = <T extends true>(proof: T) => proof;

const campaignMode = z.enum(['relaxed', 'strict', 'soft']);
const strayKind = z.enum([
  'random-address',
  'wrong-thread',
  'leaked-global-kmap',
  'write-after-kunmap',
  'pte-bit-flip',
  'out-of-bounds',
  'missing-permission',
]);
const campaignConsumer = z.enum(['pmem', 'pgtable', 'ro-at-rest', 'kmap-apis']);
covered<Covers<z.infer<typeof strayKind>, StrayKind>>(true);
covered<Covers<z.infer<typeof campaignConsumer>, CampaignResult['consumer']>>(true);
covered<Covers<z.infer<typeof campaignMode>, CampaignResult['mode']>>(true);
const strayCount = z.strictObject({ attempted: count, blocked: count, landed: count });

export const campaignDocument = z
  .strictObject({
    schema: schemaField(SCHEMA.campaign),
    consumer: campaignConsumer,
    seed: count,
    protection: z.boolean(),
    mode: campaignMode,
    arch: z.string(),
    strays_attempted: count,
    strays_blocked: count,
    strays_landed: count,
    bytes_corrupted_after_reboot: count.optional().describe('PMEM only'),
    granted_rights: z
      .array(z.strictObject({ address: z.number(), granted: z.string() }))
      .optional()
      .describe('page-table campaign only: what each landed write would have granted'),
    domain_switches: count,
    modeled_cycles: z.number().nonnegative(),
    cycles_per_switch: z.number().nonnegative(),
    by_kind: z.partialRecord(strayKind, strayCount),
    notes: z.array(z.string()),
    tables: z
      .array(
        z.strictObject({
          title: z.string(),
          columns: z.array(z.string()),
          rows: z.array(z.array(z.union([z.string(), z.number()]))),
        }),
      )
      .optional()
      .describe('further tables (kmap-apis: one row per API design)'),
    designs: z
      .array(z.looseObject({ design: z.string() }))
      .optional()
      .describe('kmap-apis only: every figure of each API design (docs/kmap-apis.md)'),
    machine_events: z
      .record(z.string(), count)
      .optional()
      .describe("every event the campaign's machine counted, setup and final checks included (event name -> count)"),
  })
  .meta({ title: 'pkeysim campaign --json', description: 'One stray-write campaign against one consumer.' });

/** `check --json`: JSON Lines, one `vector` line per input vector, then a `summary` line with --expect. */
export const checkLine = z
  .discriminatedUnion('type', [
    z
      .looseObject({ schema: schemaField(SCHEMA.check), type: z.literal('vector'), id: z.string() })
      .describe("the model's outcome for one vector, in the vector format's own fields (fault, error_code, ...)"),
    z.strictObject({ schema: schemaField(SCHEMA.check), type: z.literal('summary'), passed: count, failed: count }),
  ])
  .meta({ title: 'pkeysim check --json (one line)', description: 'One line of check --json output (JSON Lines).' });

const demoRow = z.strictObject({
  scheme: z.string(),
  description: z.string(),
  unsupported: z.string().optional().describe('set when no campaign could run under the scheme: why'),
  strays_attempted: count,
  strays_blocked: count,
  bytes_lost_after_reboot: count,
  domain_switches: count,
  modeled_cycles: z.number().nonnegative(),
  cycles_per_switch: z.number().nonnegative().nullable(),
  accesses: count,
  seconds: z.number().nonnegative(),
  accesses_per_second: z.number().nonnegative(),
  skipped: z.array(z.string()),
});

export const demoDocument = z
  .strictObject({
    schema: schemaField(SCHEMA.demo),
    machine: z.strictObject({ arch: z.string(), cpus: count, pagingLevels: count }),
    seeds: z.array(count),
    campaigns: z.array(z.string()),
    rows: z.array(demoRow),
  })
  .meta({ title: 'pkeysim demo --json', description: 'Every campaign under every protection scheme.' });

export const keysDocument = z
  .strictObject({
    schema: schemaField(SCHEMA.keys),
    supported: z.boolean(),
    design: z.enum(['dynamic', 'static']),
    register: z.string().nullable().describe('where the keys rights live ("PKRS"); null without supervisor keys'),
    keys: count,
    initValue: z.string().nullable().describe('PKS_INIT_VALUE, formatted; null without supervisor keys'),
    rows: z.array(
      z.strictObject({
        key: count,
        owner: z.string(),
        defaultRights: z.string(),
        exclusive: z.boolean(),
        callback: z.boolean(),
      }),
    ),
  })
  .meta({ title: 'pkeysim keys --json', description: 'The supervisor key listing (debugfs pks_keys_allocated).' });

const kindCounts = z.strictObject({ fetch: count, load: count, store: count, modify: count, total: count });

export const replayDocument = z
  .strictObject({
    schema: schemaField(SCHEMA.replay),
    accesses: count,
    faults: count,
    rightsChanges: count,
    arch: z
      .strictObject({
        name: z.string(),
        space: z.string(),
        register: z.string(),
        scope: z.enum(['thread', 'address-space']),
        initialState: z.string(),
      })
      .optional()
      .describe('with --arch: the architecture the policy was mapped onto'),
    threads: count.optional().describe('distinct threads, when the trace has "T <id>" records'),
    trace: z.strictObject({
      lines: count,
      messageLines: count,
      malformedLines: count,
      firstMalformed: z.strictObject({ line: count, reason: z.string() }).optional(),
    }),
    domains: z.array(
      z.strictObject({
        name: z.string(),
        ranges: z.array(z.string()),
        initialRights: z.string(),
        finalRights: z.string(),
        accesses: kindCounts,
        faults: kindCounts,
        archDomain: count.optional().describe("with --arch: the architecture's domain (key, overlay index)"),
      }),
    ),
    firstFaults: z.array(
      z.strictObject({
        index: count,
        kind: z.string(),
        address: z.string(),
        size: count,
        domain: z.string(),
        rights: z.string(),
        thread: count.optional(),
      }),
    ),
  })
  .meta({ title: 'pkeysim replay --json', description: 'A lackey trace replayed against a key policy.' });

/** Where an event happened; every event line has these. */
const at = { schema: schemaField(SCHEMA.run), seq: count, cpu: z.number().int(), thread: z.string() };
const accessKind = z.enum(['read', 'write', 'fetch']);
const threadState = z.enum(['finished', 'oops', 'killed', 'unfinished']);

export const runLine = z
  .discriminatedUnion('type', [
    z.strictObject({
      ...at,
      type: z.literal('op'),
      path: z.string(),
      op: z.string(),
      detail: z.string(),
      result: z.string(),
    }),
    z.strictObject({
      ...at,
      type: z.literal('access'),
      access: accessKind,
      address: z.string(),
      length: count,
      key: z.number().int().nullable(),
      object: z.string().nullable(),
      allowed: z.boolean(),
    }),
    z.strictObject({
      ...at,
      type: z.literal('fault'),
      access: accessKind,
      address: z.string(),
      key: z.number().int().nullable(),
      object: z.string().nullable(),
      cause: z.string(),
      summary: z.string(),
      outcome: z.enum(['pending', 'handled', 'oops', 'panic', 'killed']),
    }),
    z.strictObject({
      ...at,
      type: z.literal('rights_write'),
      register: z.string(),
      value: z.string(),
      skipped: z.boolean(),
    }),
    z.strictObject({ ...at, type: z.literal('switch'), from: z.string(), to: z.string() }),
    z.strictObject({
      ...at,
      type: z.literal('entry'),
      kind: z.string(),
      vector: z.string(),
      depth: count,
      saved: z.string().nullable(),
    }),
    z.strictObject({ ...at, type: z.literal('exit'), vector: z.string(), depth: count }),
    z.strictObject({ ...at, type: z.literal('inject'), kind: z.string(), detail: z.string() }),
    z.strictObject({ ...at, type: z.literal('sched'), action: z.string(), detail: z.string() }),
    z.strictObject({ ...at, type: z.literal('log'), line: z.string() }),
    z.strictObject({
      schema: schemaField(SCHEMA.run),
      type: z.literal('costs'),
      model: z.record(z.string(), z.number()),
      perCpu: z.array(z.number()),
      events: z.array(
        z.strictObject({
          event: z.string(),
          count,
          cyclesEach: z.number(),
          perCpu: z.array(z.number()),
          cycles: z.number(),
        }),
      ),
      total: z.number(),
    }),
    z.strictObject({
      schema: schemaField(SCHEMA.run),
      type: z.literal('result'),
      scenario: z.string(),
      file: z.string(),
      seed: count,
      passed: z.boolean(),
      failures: z.array(z.strictObject({ file: z.string(), line: count, path: z.string(), message: z.string() })),
      threads: z.array(z.strictObject({ name: z.string(), state: threadState })),
      faults: count,
      panic: z.string().nullable(),
    }),
  ])
  .meta({
    title: 'pkeysim run --json (one line)',
    description: 'One line of run --json output (JSON Lines): an event, then the costs line, then the result line.',
  });

const testStatus = z.enum(['OK', 'FAIL', 'SKIP']);
const totals = { ok: count, failed: count, skipped: count };

export const selftestPksDocument = z
  .strictObject({
    schema: schemaField(SCHEMA.selftestPks),
    machine: z.strictObject({
      arch: z.string(),
      cpus: count,
      pks: z.boolean(),
      pksVersion: z.enum(PKS_VERSIONS),
      design: z.enum(['dynamic', 'static']),
      entry: z.enum(['aux-pt-regs', 'legacy-rfc-v1']),
    }),
    results: z.array(z.strictObject({ number: count, name: z.string(), status: testStatus, detail: z.string() })),
    ...totals,
  })
  .meta({ title: 'pkeysim selftest pks --json', description: "The PKS series' test module, every result." });

export const selftestPkeysDocument = z
  .strictObject({
    schema: schemaField(SCHEMA.selftestPkeys),
    machine: z.strictObject({
      arch: z.string(),
      cpus: count,
      pku: z.boolean(),
      signalPolicy: z.string(),
      // The conditions that change verdicts: ptrace's PKRU handling and protection_keys.c's rounds.
      ptracePkru: z.enum(PTRACE_PKRU_MODES),
      iterations: count,
    }),
    results: z.array(
      z.strictObject({
        number: count,
        name: z.string(),
        source: z.enum(['protection_keys.c', 'pkey_sighandler_tests.c']),
        status: testStatus,
        detail: z.string(),
      }),
    ),
    ...totals,
    compiledOut: z
      .array(
        z.strictObject({
          number: count,
          name: z.string(),
          source: z.enum(['protection_keys.c', 'pkey_sighandler_tests.c']),
          reason: z.string(),
        }),
      )
      .optional()
      .describe('cases Linux does not build on this architecture: listed, not run, not counted'),
  })
  .meta({ title: 'pkeysim selftest pkeys --json', description: 'The user-space protection-keys selftests.' });

export const pluginsDocument = z
  .strictObject({
    schema: schemaField(SCHEMA.plugins),
    plugins: z.array(
      z.strictObject({
        name: z.string().describe('the name --arch selects it by'),
        kind: z.enum(['architecture', 'scheme']),
        package: z.string().describe('the npm package (or file) that registered it; "(unknown)" if none said'),
        description: z.string(),
        spaces: z.array(
          z.strictObject({
            id: z.string(),
            register: z.string(),
            governs: z.enum(['user', 'supervisor', 'shared']),
            domains: count.nullable().describe('null for an unbounded space'),
          }),
        ),
        error: z.string().optional().describe("why the plugin's machine could not be built for the listing"),
      }),
    ),
  })
  .meta({ title: 'pkeysim plugins --json', description: 'The registered architecture and scheme plugins.' });

/** Every output definition by the file name of its JSON Schema (schemas/<name>.schema.json). */
export const JSON_DOCUMENTS = {
  campaign: campaignDocument,
  check: checkLine,
  demo: demoDocument,
  keys: keysDocument,
  plugins: pluginsDocument,
  replay: replayDocument,
  run: runLine,
  'selftest-pks': selftestPksDocument,
  'selftest-pkeys': selftestPkeysDocument,
} as const;

/** The JSON Schema text of one definition, as checked in under packages/cli/schemas/. */
export function jsonSchemaText(name: keyof typeof JSON_DOCUMENTS): string {
  const schema = z.toJSONSchema(JSON_DOCUMENTS[name], { target: 'draft-2020-12' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
