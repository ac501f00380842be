import { createHash } from 'node:crypto';
import type { CampaignMode } from '@pkeysim/kernel';
import { canonicalJson } from './canonical';
import type { Metric } from './spec';

/** One job of a sweep: every parameter of one campaign run, self-contained (cost files already read). */
export interface SweepPoint {
  readonly campaign: string;
  readonly scheme: string;
  readonly protection: 'on' | 'off';
  readonly mode: CampaignMode;
  readonly cpus: number;
  /** The cost model's name (`costs[].name`, or "default"). */
  readonly costs: string;
  /** Cycles per event overriding core's defaults: the cost model's file and cycles, then cost parameters. */
  readonly cycles: Readonly<Record<string, number>>;
  readonly seed: number;
}

/** What one point produced: its metrics, or the error that stopped its campaign. */
export interface SweepRecord {
  readonly key: string;
  readonly point: SweepPoint;
  readonly metrics?: Readonly<Partial<Record<Metric, number>>>;
  readonly error?: string;
}

/**
 * The point's key: a hash of its parameters (not of its place in the sweep), so the same run has
 * the same key in every sweep file, shard and machine, and a result is found again when re-run.
 */
export function pointKey(point: SweepPoint): string {
  return createHash('sha256').update(canonicalJson(point)).digest('hex').slice(0, 20);
}

/** One JSON Lines line (without the newline) for a record: canonical, so equal results are equal bytes. */
export function recordLine(record: SweepRecord): string {
  return canonicalJson(record);
}
