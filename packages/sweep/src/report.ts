import type { SweepPoint, SweepRecord } from './point';
import { METRICS, type Metric } from './spec';
import { slope, summarize, type Summary } from './stats';

/** The axes a report can group by; `cycles.EVENT` groups by a cost parameter's value too. */
export const REPORT_AXES = ['campaign', 'scheme', 'protection', 'mode', 'cpus', 'costs'] as const;

/** How the report's confidence intervals are computed, as the report states it. */
export const CI_METHOD = "95% confidence intervals: Student t over each group's points (seeds are the replicates)";

/** One group of a sweep report: its axis values, point and error counts, and a summary per metric. */
export interface ReportGroup {
  /** The group's value of each `by` axis. */
  readonly group: Readonly<Record<string, string>>;
  readonly points: number;
  readonly errors: number;
  readonly metrics: Readonly<Partial<Record<Metric, Summary>>>;
}

/** How much one cost parameter moves a group's modeled cycles. */
export interface Sensitivity {
  readonly group: Readonly<Record<string, string>>;
  readonly parameter: string;
  /** Least-squares d(modeled_cycles) / d(cycles of the event): in effect, that event's count per run. */
  readonly slope: number;
  /** Relative change of modeled cycles per relative change of the parameter, at the means. */
  readonly elasticity: number;
}

/** A sweep's results grouped by the `by` axes, with a summary per metric and cost sensitivities. */
export interface SweepReport {
  readonly points: number;
  readonly errors: number;
  readonly by: readonly string[];
  readonly metrics: readonly Metric[];
  readonly method: string;
  readonly groups: readonly ReportGroup[];
  readonly sensitivity: readonly Sensitivity[];
  /** The first distinct errors, for the reader to see why points failed. */
  readonly errorSamples: readonly string[];
}

function axisValue(point: SweepPoint, axis: string): string {
  if (axis.startsWith('cycles.')) return String(point.cycles?.[axis.slice(7)] ?? 'default');
  return String((point as unknown as Record<string, unknown>)[axis]);
}

/** The axes whose value differs between records (the default grouping: one group per configuration). */
export function varyingAxes(records: readonly SweepRecord[]): string[] {
  return REPORT_AXES.filter((axis) => new Set(records.map((r) => axisValue(r.point, axis))).size > 1);
}

/** Cost parameters (event names) whose cycles differ between the records. */
function varyingParameters(records: readonly SweepRecord[]): string[] {
  const events = [...new Set(records.flatMap((r) => Object.keys(r.point.cycles ?? {})))].sort();
  return events.filter((e) => new Set(records.map((r) => r.point.cycles?.[e])).size > 1);
}

/** Check `--by` axes: a known axis or `cycles.EVENT`. Returns the problem, or undefined. */
export function checkAxes(axes: readonly string[]): string | undefined {
  for (const axis of axes)
    if (!(REPORT_AXES as readonly string[]).includes(axis) && !/^cycles\.[a-z_]+$/.test(axis))
      return `unknown axis '${axis}' (axes: ${REPORT_AXES.join(', ')}, cycles.EVENT)`;
  return undefined;
}

/**
 * Aggregate records per group of `by` axes (default: the axes that vary, so a group is one
 * configuration over its seeds): mean and 95% t interval of each metric, and for every cost
 * parameter that varies within a group, the sensitivity of modeled cycles to it.
 */
export function buildReport(
  records: readonly SweepRecord[],
  options: { by?: readonly string[]; metrics?: readonly Metric[] } = {},
): SweepReport {
  const by = options.by ?? varyingAxes(records);
  const metrics = options.metrics ?? [...METRICS];
  const groups = new Map<string, SweepRecord[]>();
  for (const record of records) {
    const id = JSON.stringify(by.map((axis) => axisValue(record.point, axis)));
    let list = groups.get(id);
    if (!list) groups.set(id, (list = []));
    list.push(record);
  }
  const out: ReportGroup[] = [];
  const sensitivity: Sensitivity[] = [];
  for (const list of groups.values()) {
    const group = Object.fromEntries(by.map((axis) => [axis, axisValue(list[0].point, axis)]));
    const ok = list.filter((r) => r.metrics !== undefined);
    const summaries: Partial<Record<Metric, Summary>> = {};
    for (const metric of metrics) {
      const values = ok.map((r) => r.metrics![metric]).filter((v): v is number => typeof v === 'number');
      if (values.length > 0) summaries[metric] = summarize(values);
    }
    out.push({ group, points: list.length, errors: list.length - ok.length, metrics: summaries });
    for (const parameter of varyingParameters(ok)) {
      const xs = ok.map((r) => r.point.cycles[parameter] ?? NaN);
      const ys = ok.map((r) => r.metrics!.modeled_cycles ?? NaN);
      if (xs.some(Number.isNaN) || ys.some(Number.isNaN)) continue;
      const s = slope(xs, ys);
      if (s === null) continue;
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = ys.reduce((a, b) => a + b, 0) / ys.length;
      sensitivity.push({ group, parameter, slope: s, elasticity: my === 0 ? 0 : (s * mx) / my });
    }
  }
  const order = (g: Readonly<Record<string, string>>) => by.map((a) => g[a]).join('\u0000');
  out.sort((a, b) => compare(order(a.group), order(b.group)));
  sensitivity.sort((a, b) => compare(order(a.group), order(b.group)) || compare(a.parameter, b.parameter));
  const errors = records.filter((r) => r.metrics === undefined);
  return {
    points: records.length,
    errors: errors.length,
    by,
    metrics,
    method: CI_METHOD,
    groups: out,
    sensitivity,
    errorSamples: [...new Set(errors.map((r) => `${r.point.campaign} under ${r.point.scheme}: ${r.error}`))].slice(
      0,
      5,
    ),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A number for a table: integers as is, others to 4 significant digits. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const abs = Math.abs(n);
  return abs >= 1000 ? n.toFixed(0) : abs >= 1 ? n.toPrecision(4) : n === 0 ? '0' : n.toPrecision(3);
}

function table(rows: readonly (readonly string[])[], numericFrom: number): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c >= numericFrom ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}

/** The report as text: one row per group and metric (mean, 95% CI), then the sensitivity table. */
export function formatReport(report: SweepReport): string[] {
  const lines = [
    `sweep report: ${report.points} points, ${report.errors} with errors; grouped by ${report.by.length > 0 ? report.by.join(', ') : '(all points)'}`,
    report.method,
    '',
  ];
  const rows: string[][] = [[...report.by, 'metric', 'n', 'mean', '95% CI']];
  for (const g of report.groups) {
    for (const metric of report.metrics) {
      const s = g.metrics[metric];
      if (!s) continue;
      const ci = s.half === null ? '-' : `[${formatNumber(s.mean - s.half)}, ${formatNumber(s.mean + s.half)}]`;
      rows.push([...report.by.map((a) => g.group[a]), metric, String(s.n), formatNumber(s.mean), ci]);
    }
    if (g.errors > 0) rows.push([...report.by.map((a) => g.group[a]), 'errors', String(g.errors), '', '']);
  }
  lines.push(...table(rows, report.by.length + 1));
  if (report.sensitivity.length > 0) {
    lines.push(
      '',
      'sensitivity of modeled_cycles to each cost parameter (least-squares slope; elasticity at the means)',
    );
    const srows: string[][] = [[...report.by, 'parameter', 'cycles per cycle', 'elasticity']];
    for (const s of report.sensitivity)
      srows.push([...report.by.map((a) => s.group[a]), s.parameter, formatNumber(s.slope), formatNumber(s.elasticity)]);
    lines.push(...table(srows, report.by.length + 1));
  }
  if (report.errorSamples.length > 0) {
    lines.push('', 'errors:');
    for (const e of report.errorSamples) lines.push(`  ${e}`);
  }
  return lines;
}
