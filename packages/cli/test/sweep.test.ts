import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

let dir: string;
let spec: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pkeysim-sweep-'));
  spec = join(dir, 'study.yaml');
  writeFileSync(spec, 'campaigns: [pmem, ro-at-rest]\nschemes: [x86, vkeys]\nmodes: [strict]\nseeds: 1..3\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sorted = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).sort().join('\n');

describe('pkeysim sweep', () => {
  it('runs every point, writes one JSON line each, and reports means with 95% t intervals', async () => {
    const out = join(dir, 'all.jsonl');
    const csv = join(dir, 'all.csv');
    const run = await runCli(['sweep', spec, '--workers', '2', '-o', out, '--csv', csv]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(12);
    expect(readFileSync(csv, 'utf8').split('\r\n')).toHaveLength(14);
    expect(run.lines[0]).toBe('sweep report: 12 points, 0 with errors; grouped by campaign, scheme');
    expect(run.stdout).toContain('Student t');
    expect(run.stdout).toMatch(/ro-at-rest\s+vkeys\s+strays_blocked\s+3\s+24\s+\[24, 24\]/);
  });

  it('gives the same results and report with one worker, and skips points already in the file', async () => {
    const out = join(dir, 'one.jsonl');
    const one = await runCli(['sweep', spec, '--workers', '1', '-o', out]);
    const two = await runCli(['sweep', spec, '--workers', '2', '-o', join(dir, 'two.jsonl')]);
    expect(one.stdout).toBe(two.stdout);
    expect(sorted(out)).toBe(sorted(join(dir, 'two.jsonl')));
    const before = readFileSync(out, 'utf8');
    const again = await runCli(['sweep', spec, '--workers', '2', '-o', out, '--progress']);
    expect(again.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(before);
    expect(again.stderr).toContain('sweep: 12/12 points (100%)');
  });

  it('runs shards that merge into the whole sweep, and reports from the merged file', async () => {
    for (const i of [1, 2, 3])
      expect(
        (await runCli(['sweep', spec, '--shard', `${i}/3`, '-o', join(dir, `s${i}.jsonl`), '--no-report'])).code,
      ).toBe(0);
    const merged = join(dir, 'merged.jsonl');
    const merge = await runCli(['sweep', 'merge', ...[1, 2, 3].map((i) => join(dir, `s${i}.jsonl`)), '-o', merged]);
    expect(merge.code).toBe(0);
    expect(merge.stderr).toContain('merged 12 points from 3 files');
    expect(readFileSync(merged, 'utf8').split('\n').filter(Boolean).join('\n')).toBe(sorted(join(dir, 'one.jsonl')));
    const report = await runCli(['sweep', 'report', merged, '--by', 'scheme', '--metrics', 'strays_landed']);
    expect(report.code).toBe(0);
    expect(report.lines.slice(3)).toEqual([
      expect.stringMatching(/^scheme\s+metric\s+n\s+mean\s+95% CI$/),
      expect.stringMatching(/^vkeys\s+strays_landed\s+6\s+0\s+\[0, 0\]$/),
      expect.stringMatching(/^x86\s+strays_landed\s+6\s+0\s+\[0, 0\]$/),
    ]);
  });

  it('rejects a bad sweep file with its file, line and field, exit 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'seeds: 1..2\nschemes:\n  - x86\n  - itanium\n');
    const run = await runCli(['sweep', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(`^pkeysim: ${bad}:4: schemes\\[1\\]: no architecture or scheme plugin 'itanium'`),
    );
    expect((await runCli(['sweep', join(dir, 'missing.yaml')])).stderr).toMatch(/missing\.yaml: no such file/);
    expect((await runCli(['sweep', spec, '--workers', '0'])).code).toBe(2);
    expect((await runCli(['sweep', spec, '--shard', '4/3'])).code).toBe(2);
    expect((await runCli(['sweep', 'report', join(dir, 'missing.jsonl')])).stderr).toMatch(/no such file/);
    expect((await runCli(['sweep', 'report', spec])).stderr).toMatch(/study\.yaml:1: not a JSON line/);
    expect((await runCli(['sweep', 'report', join(dir, 'one.jsonl'), '--by', 'colour'])).code).toBe(2);
  });

  it('fails fast with exit 2 when the Redis queue cannot be reached', async () => {
    const run = await runCli(['sweep', spec, '--queue', 'redis://127.0.0.1:1', '--no-report']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    expect((await runCli(['sweep', spec, '--queue', 'http://x'])).stderr).toMatch(/expected a Redis URL/);
  }, 20_000);
});
