import { describe, expect, it } from 'vitest';
import {
  buildReport,
  expandSweep,
  formatReport,
  parseSweep,
  recordLine,
  runPoint,
  runPoints,
  type SweepRecord,
} from '../src';

const sweep = expandSweep(
  parseSweep('campaigns: [pmem, ro-at-rest]\nschemes: [x86, pagetable]\nmodes: [strict]\nseeds: 1..2\n'),
).points;

async function sortedLines(workers: number): Promise<string> {
  const records: SweepRecord[] = [];
  const outcome = await runPoints(sweep, { workers, onRecord: (r) => records.push(r) });
  expect(outcome).toEqual({ ran: sweep.length, remaining: 0, interrupted: false });
  return records.map(recordLine).sort().join('\n');
}

describe('running points', () => {
  it('gives byte-identical results, after sorting, on 1, 2 and 4 worker threads and in-process', async () => {
    const one = await sortedLines(1);
    expect(await sortedLines(2)).toBe(one);
    expect(await sortedLines(4)).toBe(one);
    expect(
      sweep
        .map((p) => recordLine(runPoint(p)))
        .sort()
        .join('\n'),
    ).toBe(one);
    expect(one.split('\n')).toHaveLength(sweep.length);
  }, 180_000);

  it('runs only the points not done yet', async () => {
    const done = new Set([runPoint(sweep[0]).key, runPoint(sweep[1]).key]);
    const seen: string[] = [];
    const outcome = await runPoints(sweep, { workers: 2, done, onRecord: (r) => seen.push(r.key) });
    expect(outcome.ran).toBe(sweep.length - 2);
    expect(seen.some((k) => done.has(k))).toBe(false);
  });

  it('stops handing out points when aborted and keeps what finished', async () => {
    const controller = new AbortController();
    const seen: SweepRecord[] = [];
    const outcome = await runPoints(sweep, {
      workers: 1,
      signal: controller.signal,
      onRecord: (r) => {
        seen.push(r);
        controller.abort();
      },
    });
    expect(outcome.interrupted).toBe(true);
    expect(outcome.ran).toBe(seen.length);
    expect(outcome.remaining).toBe(sweep.length - seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(1);
  });

  it('records a point its campaign cannot run as an error line, not a crash', () => {
    const record = runPoint({ ...sweep[0], campaign: 'disk' });
    expect(record.error).toBe("no campaign 'disk'");
    expect(record.metrics).toBeUndefined();
  });
});

describe('reports', () => {
  it('groups by the axes that vary and gives each metric a mean and t interval', () => {
    const records = sweep.map(runPoint);
    const report = buildReport(records);
    expect(report.by).toEqual(['campaign', 'scheme']);
    expect(report.groups).toHaveLength(4);
    for (const g of report.groups) expect(g.metrics.strays_attempted?.n).toBe(2);
    const text = formatReport(report).join('\n');
    expect(text).toContain('Student t');
    expect(text).toMatch(/pmem\s+pagetable\s+modeled_cycles\s+2\s+\d+\s+\[/);
  });

  it("measures modeled cycles' sensitivity to a cost parameter as that event's count per run", () => {
    const points = expandSweep(
      parseSweep('campaigns: [pmem]\nmodes: [strict]\nseeds: [1]\ncost_parameters: { rights_write: [10, 20, 40] }\n'),
    ).points;
    const records = points.map(runPoint);
    const report = buildReport(records, { by: ['scheme'] });
    expect(report.sensitivity).toHaveLength(1);
    const s = report.sensitivity[0];
    const cycles = records.map((r) => r.metrics!.modeled_cycles!);
    // Modeled cycles are linear in each event's price: the slope is the cycles added per cycle of rights_write.
    expect(s.slope).toBeCloseTo((cycles[2] - cycles[0]) / 30, 6);
    expect(s.slope).toBeGreaterThan(0);
    expect(s.elasticity).toBeGreaterThan(0);
    expect(s.elasticity).toBeLessThan(1);
    expect(formatReport(report).join('\n')).toContain('rights_write');
  });
});
