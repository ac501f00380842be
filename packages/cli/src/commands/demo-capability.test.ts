import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundledPlugins } from '../arch';
import { runCli } from '../../test/run-cli';
import type { DemoResult } from './demo';
import { demoSchemes } from './demo';

describe('pkeysim demo: the capability scheme', () => {
  beforeAll(() => loadBundledPlugins());

  it('is listed beside keys, page-table permissions and virtual keys', () => {
    expect(demoSchemes().map((s) => s.scheme)).toEqual(
      expect.arrayContaining(['off', 'keys', 'capability', 'pagetable', 'vkeys']),
    );
  });

  it('has a row that runs, with no domain switches (rights live in pointers)', async () => {
    const run = await runCli(['demo', '--runs', '1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.lines.at(-1)!) as DemoResult;
    const row = result.rows.find((r) => r.scheme === 'capability')!;
    expect(row.unsupported, row.skipped.join('; ')).toBeUndefined();
    expect(row.strays_attempted).toBeGreaterThan(0);
    expect(row.domain_switches).toBe(0);
    expect(row.cycles_per_switch).toBeNull();
  });
});
