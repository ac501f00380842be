import type { SweepRecord } from './point';
import { METRICS } from './spec';

const AXES = ['campaign', 'scheme', 'protection', 'mode', 'cpus', 'costs', 'seed'] as const;

function cell(value: unknown): string {
  const text = value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Records as CSV (RFC 4180): key, the axes, one column per cost parameter any point sets
 * (`cycles.EVENT`), every metric, and the error. One row per record, in the given order.
 */
export function recordsCsv(records: readonly SweepRecord[]): string {
  const events = [...new Set(records.flatMap((r) => Object.keys(r.point.cycles ?? {})))].sort();
  const header = ['key', ...AXES, ...events.map((e) => `cycles.${e}`), ...METRICS, 'error'];
  const rows = records.map((r) => [
    r.key,
    ...AXES.map((a) => r.point[a]),
    ...events.map((e) => r.point.cycles?.[e]),
    ...METRICS.map((m) => r.metrics?.[m]),
    r.error,
  ]);
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
