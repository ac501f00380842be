import { z } from 'zod';

/**
 * The sweep file format, as one zod schema: the axes of a study (campaigns, schemes, protection,
 * fault modes, CPUs, cost models and cost parameters, seeds). Every combination is one point, run
 * by the consumers' campaign harness. `schema/sweep.schema.json` is generated from it.
 */

/** How many points one sweep may expand to; a bigger study is split into several sweep files. */
export const MAX_POINTS = 1_000_000;
/** How many seeds one `seeds` range may name. */
export const MAX_SEEDS = 100_000;

const SEED_ERROR = { error: 'expected a seed: a whole number from 0 to 4294967295' };
const Seed = z.int(SEED_ERROR).min(0, SEED_ERROR).max(0xffffffff, SEED_ERROR);
const RANGE = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/;
const RANGE_ERROR = { error: 'expected seeds: a list of seeds, "FIRST..LAST" or { from: FIRST, to: LAST }' };

/** Seeds: a list, a "1..20" range (inclusive) or { from, to }. */
export const SeedsSpec = z
  .union(
    [
      z.array(Seed).min(1, { error: 'at least one seed' }),
      z.string().regex(RANGE, RANGE_ERROR),
      z.strictObject({ from: Seed, to: Seed }),
    ],
    RANGE_ERROR,
  )
  .transform((value, ctx) => {
    if (Array.isArray(value)) return [...new Set(value)];
    const [from, to] = typeof value === 'string' ? RANGE.exec(value)!.slice(1, 3).map(Number) : [value.from, value.to];
    if (to < from || to > 0xffffffff) {
      ctx.addIssue({ code: 'custom', message: `an empty or out-of-range seed range ${from}..${to}` });
      return z.NEVER;
    }
    if (to - from + 1 > MAX_SEEDS) {
      ctx.addIssue({ code: 'custom', message: `${to - from + 1} seeds; at most ${MAX_SEEDS} per range` });
      return z.NEVER;
    }
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });

const Cycles = z.number().min(0, { error: 'expected cycles >= 0' });

/** One cost model of the `costs` axis: a name, optionally a cost file and inline overrides (inline wins). */
export const CostSetSpec = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected a name: letters, digits, _ . -' }),
  file: z.string().min(1).optional(),
  cycles: z.record(z.string(), Cycles).optional(),
});

const Protection = z
  .union([z.enum(['on', 'off']), z.boolean()], { error: 'expected on or off' })
  .transform((v) => (v === true ? 'on' : v === false ? 'off' : v));

const Mode = z.enum(['default', 'relaxed', 'strict', 'soft'], {
  error: "expected a fault mode: default (the consumer's own), relaxed, strict or soft",
});

/** The metrics a campaign result has, each a number per point. */
export const METRICS = [
  'strays_attempted',
  'strays_blocked',
  'strays_landed',
  'bytes_corrupted_after_reboot',
  'domain_switches',
  'modeled_cycles',
  'cycles_per_switch',
] as const;
/** One of METRICS. */
export type Metric = (typeof METRICS)[number];

const nonEmpty = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).min(1, { error: `at least one ${what}` });

/** The schema of a sweep file: which campaigns, schemes, modes, CPUs, costs and seeds to run, and which metrics to report. */
export const SweepSpec = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  /** Consumer campaigns (pmem, pgtable, ro-at-rest); default every one. */
  campaigns: nonEmpty(z.string().min(1), 'campaign').optional(),
  /** Architecture or scheme plugins (`--arch` names); default x86. */
  schemes: nonEmpty(z.string().min(1), 'scheme').default(['x86']),
  /** The consumer's protection: on, off or both. */
  protection: nonEmpty(Protection, 'protection value').default(['on']),
  /** Fault modes; `default` is each consumer's boot default. A mode a consumer lacks skips its points. */
  modes: nonEmpty(Mode, 'mode').default(['default']),
  cpus: nonEmpty(z.int().min(1).max(64, { error: 'expected 1..64 CPUs' }), 'CPU count').default([2]),
  seeds: SeedsSpec,
  /** Cost models to price every run with; default core's cycles. */
  costs: nonEmpty(CostSetSpec, 'cost model').optional(),
  /** Cost parameters to vary (event name -> cycles values), for sensitivity; crossed with `costs`. */
  cost_parameters: z.record(z.string(), nonEmpty(Cycles, 'value')).optional(),
  /** The metrics the report shows; default every one. */
  metrics: nonEmpty(z.enum(METRICS, { error: `expected a metric: ${METRICS.join(', ')}` }), 'metric').optional(),
});
/** A sweep spec as written (defaults not yet applied). */
export type SweepSpecInput = z.input<typeof SweepSpec>;
/** A sweep spec after validation, with defaults applied. */
export type SweepSpecData = z.output<typeof SweepSpec>;
