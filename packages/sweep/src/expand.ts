import type { CampaignMode } from '@pkeysim/kernel';
import { SWEEP_CAMPAIGNS, findCampaign } from './campaigns';
import type { CostSet, LoadedSweep } from './load';
import type { SweepPoint } from './point';
import { MAX_POINTS } from './spec';

/** The points a sweep expands to, and the combinations it skipped. */
export interface Expansion {
  /** Every point, in a stable order: campaign, scheme, protection, mode, CPUs, costs, cost parameters, seed. */
  readonly points: readonly SweepPoint[];
  /** Axis combinations that cannot run, e.g. a fault mode a consumer does not have. */
  readonly skipped: readonly string[];
}

/** Every combination of the cost parameters' values, the first parameter varying slowest. */
function costGrid(parameters: Readonly<Record<string, readonly number[]>> | undefined): Record<string, number>[] {
  let grid: Record<string, number>[] = [{}];
  for (const [event, values] of Object.entries(parameters ?? {}))
    grid = grid.flatMap((cell) => values.map((value) => ({ ...cell, [event]: value })));
  return grid;
}

/**
 * The sweep's points. The order depends only on the file, never on scheduling, so shards and
 * re-runs agree; a point's key depends only on its parameters.
 */
export function expandSweep(sweep: LoadedSweep): Expansion {
  const { spec } = sweep;
  const campaigns = spec.campaigns ?? SWEEP_CAMPAIGNS.map((r) => r.consumer);
  const grid = costGrid(spec.cost_parameters);
  const perCampaign =
    spec.schemes.length *
    spec.protection.length *
    spec.modes.length *
    spec.cpus.length *
    sweep.costSets.length *
    grid.length *
    spec.seeds.length;
  if (perCampaign * campaigns.length > MAX_POINTS)
    throw new RangeError(
      `the sweep has ${perCampaign * campaigns.length} points; at most ${MAX_POINTS} (split it into several sweep files)`,
    );
  const points: SweepPoint[] = [];
  const skipped: string[] = [];
  for (const campaign of campaigns) {
    const runner = findCampaign(campaign)!;
    for (const scheme of spec.schemes)
      for (const protection of spec.protection)
        for (const wanted of spec.modes) {
          const mode: CampaignMode = wanted === 'default' ? runner.modes[0] : wanted;
          if (!runner.modes.includes(mode)) {
            skipped.push(`${campaign} has no ${mode} mode (it has ${runner.modes.join(', ')})`);
            continue;
          }
          for (const cpus of spec.cpus)
            for (const set of sweep.costSets)
              for (const cell of grid)
                for (const seed of spec.seeds)
                  points.push({ campaign, scheme, protection, mode, cpus, ...costsOf(set, cell), seed });
        }
  }
  return { points: dedupe(points), skipped: [...new Set(skipped)] };
}

function costsOf(set: CostSet, cell: Record<string, number>): { costs: string; cycles: Record<string, number> } {
  const cycles: Record<string, number> = { ...set.cycles, ...cell };
  return { costs: set.name, cycles: Object.fromEntries(Object.entries(cycles).sort(([a], [b]) => (a < b ? -1 : 1))) };
}

/** `modes: [default, strict]` names the same run twice for a consumer whose default is strict: keep one. */
function dedupe(points: SweepPoint[]): SweepPoint[] {
  const seen = new Set<string>();
  return points.filter((p) => {
    const id = JSON.stringify(p);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** A shard: `index` of `count` (1-based, as Slurm array task ids usually are). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parse "I/N" (1 <= I <= N <= 100000), or throw a RangeError saying what is expected. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > 100_000 || index < 1 || index > count)
    throw new RangeError(`expected a shard I/N with 1 <= I <= N <= 100000 (got '${text}')`);
  return { index, count };
}

/** The shard's points: every count-th point from the index-th, so every shard gets a mix of the axes. */
export function shardPoints<T>(points: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...points];
  return points.filter((_, i) => i % shard.count === shard.index - 1);
}
