import {
  CostModel,
  type EventCounters,
  MACHINE_EVENT_COUNT,
  MACHINE_EVENT_NAMES,
  type MachineEvent,
} from '@pkeysim/core';

/** One event's share of a run's modeled cost. */
export interface EventCost {
  readonly event: string;
  readonly count: number;
  readonly cyclesEach: number;
  /** Cycles on each CPU. */
  readonly perCpu: readonly number[];
  readonly cycles: number;
}

/** Modeled cycles of a run, per CPU and per event, from the event counters and core's cost model. */
export interface CostReport {
  /** The cycles each event was charged (defaults with the run's overrides applied). */
  readonly model: Readonly<Record<string, number>>;
  readonly perCpu: readonly number[];
  /** Events that happened, in MACHINE_EVENT_NAMES order. */
  readonly events: readonly EventCost[];
  readonly total: number;
}

/** Overrides merged left to right (a later source wins): scenario `costs:`, then `--costs FILE`. */
export function costModel(...overrides: (Readonly<Record<string, number>> | undefined)[]): CostModel {
  return new CostModel(Object.assign({}, ...overrides.filter(Boolean)));
}

/** The cycles a run cost: each event's count and cycles under `model`, per CPU and in total. */
export function costReport(counters: EventCounters, model: CostModel): CostReport {
  const events: EventCost[] = [];
  const modelCycles: Record<string, number> = {};
  for (let e = 0; e < MACHINE_EVENT_COUNT; e++) {
    const event = e as MachineEvent;
    const cyclesEach = model.cyclesOf(event);
    modelCycles[MACHINE_EVENT_NAMES[e]] = cyclesEach;
    const count = counters.total(event);
    if (count === 0) continue;
    const perCpu = Array.from({ length: counters.cpus }, (_, cpu) => counters.get(cpu, event) * cyclesEach);
    events.push({ event: MACHINE_EVENT_NAMES[e], count, cyclesEach, perCpu, cycles: count * cyclesEach });
  }
  const perCpu = Array.from({ length: counters.cpus }, (_, cpu) => model.total(counters, cpu));
  return { model: modelCycles, perCpu, events, total: model.total(counters) };
}

/** The report as an aligned text table: one row per event, one column per CPU, then the total. */
export function formatCostReport(report: CostReport): string[] {
  const cpus = report.perCpu.map((_, i) => `cpu${i}`);
  const header = ['event', 'count', 'cycles/ev', ...cpus, 'total'];
  const rows = report.events.map((e) => [
    e.event,
    num(e.count),
    num(e.cyclesEach),
    ...e.perCpu.map(num),
    num(e.cycles),
  ]);
  rows.push(['total', '', '', ...report.perCpu.map(num), num(report.total)]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), ...rows.map(line)];
}

function num(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1);
}
