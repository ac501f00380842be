import './plugins';
import type { CampaignResult } from '@pkeysim/kernel';
import { findCampaign } from './campaigns';
import { pointKey, type SweepPoint, type SweepRecord } from './point';
import { METRICS, type Metric } from './spec';

/**
 * Run one point with its consumer's campaign harness (the same `CampaignRunner.run` that
 * `pkeysim campaign` calls) and keep its metrics. A campaign that cannot run the point (a scheme it
 * does not support, ...) gives a record with the error: a result of the sweep, not a crash.
 * Deterministic: no wall-clock figures, so any worker on any machine writes the same bytes.
 */
export function runPoint(point: SweepPoint): SweepRecord {
  const key = pointKey(point);
  const runner = findCampaign(point.campaign);
  if (!runner) return { key, point, error: `no campaign '${point.campaign}'` };
  let result: CampaignResult;
  try {
    result = runner.run({
      seed: point.seed,
      protection: point.protection === 'on',
      mode: point.mode,
      arch: point.scheme,
      cpus: point.cpus,
      costs: point.cycles,
    });
  } catch (error) {
    return { key, point, error: error instanceof Error ? error.message : String(error) };
  }
  const metrics: Partial<Record<Metric, number>> = {};
  for (const metric of METRICS) {
    const value = result[metric];
    if (typeof value === 'number') metrics[metric] = value;
  }
  return { key, point, metrics };
}

/** The worker-thread entry of the sweep pool: piscina calls this export of the built package with one point. */
export function runPointTask(point: SweepPoint): SweepRecord {
  return runPoint(point);
}
