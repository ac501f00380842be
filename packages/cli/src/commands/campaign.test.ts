import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CampaignResult } from '@pkeysim/kernel';
import { describe, expect, it } from 'vitest';
import { ANSI_ESCAPE, runCli } from '../../test/run-cli';
import { API_CAMPAIGN_RUNNERS } from './api-campaign-runners';
import { CAMPAIGN_RUNNERS } from './campaign-runners';
import { CAMPAIGN_PACKAGES } from './campaign';

function lastJson(lines: string[]): CampaignResult {
  return JSON.parse(lines.at(-1)!) as CampaignResult;
}

describe('pkeysim campaign', () => {
  it('pmem, protection on, strict: an aligned table with every stray blocked and nothing corrupted, exit 0', async () => {
    const run = await runCli(['campaign', 'pmem', '--seed', '1', '--mode', 'strict']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.lines[0]).toBe('pmem campaign: seed 1, protection on, mode strict, arch x86');
    const header = run.lines.indexOf('stray kind          attempted  blocked  landed');
    expect(header).toBeGreaterThan(0);
    expect(run.lines.slice(header + 1, header + 5).map((l) => l.split(/\s+/)[0])).toEqual([
      'random-address',
      'wrong-thread',
      'leaked-global-kmap',
      'write-after-kunmap',
    ]);
    expect(run.lines[header + 5]).toMatch(/^total\s+24\s+24\s+0$/);
    // Every row of the table has its columns at the same positions.
    const widths = run.lines.slice(header, header + 6).map((l) => l.length);
    expect(new Set(widths).size).toBe(1);
    expect(run.stdout).toMatch(/^bytes corrupted after reboot +0$/m);
    expect(run.stdout).toMatch(/^domain switches +[1-9]\d*$/m);
    expect(run.stdout).toMatch(/^cycles per switch +100$/m);
    expect(run.stdout).not.toMatch(ANSI_ESCAPE);
  });

  it('--json prints only one JSON document: the schema and the CampaignResult fields', async () => {
    const run = await runCli(['campaign', 'pmem', '--seed', '2', '--protection', 'off', '--json']);
    expect(run.code).toBe(0);
    expect(run.lines).toHaveLength(1);
    const result = JSON.parse(run.stdout) as CampaignResult & { schema: string };
    expect(result.schema).toBe('pkeysim.campaign/1');
    expect(result).toMatchObject({ consumer: 'pmem', seed: 2, protection: false, mode: 'relaxed', arch: 'x86' });
    for (const field of [
      'strays_attempted',
      'strays_blocked',
      'strays_landed',
      'bytes_corrupted_after_reboot',
      'domain_switches',
      'modeled_cycles',
      'cycles_per_switch',
    ] as const)
      expect(typeof result[field]).toBe('number');
    expect(result.strays_landed).toBe(result.strays_attempted);
    expect(result.bytes_corrupted_after_reboot).toBeGreaterThan(0);
    expect(Object.keys(result.by_kind)).toHaveLength(4);
  });

  it('--costs prices the same run with the given cycles; a bad costs file is one line and exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkeysim-costs-'));
    const costs = join(dir, 'costs.yaml');
    writeFileSync(costs, 'rights_write: 1000\n');
    const base = lastJson((await runCli(['campaign', 'pmem', '--seed', '1', '--mode', 'strict', '--json'])).lines);
    const priced = await runCli(['campaign', 'pmem', '--seed', '1', '--mode', 'strict', '--costs', costs, '--json']);
    expect(priced.code).toBe(0);
    const result = lastJson(priced.lines);
    expect(result.domain_switches).toBe(base.domain_switches);
    expect(result.cycles_per_switch).toBeGreaterThan(base.cycles_per_switch);
    expect(result.modeled_cycles).toBeGreaterThan(base.modeled_cycles);
    writeFileSync(costs, 'wrpkru: 5\n');
    const bad = await runCli(['campaign', 'pmem', '--seed', '1', '--costs', costs]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/wrpkru/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same seed prints the same run; protection off corrupts what strict protection kept', async () => {
    const on = await runCli(['campaign', 'pmem', '--seed', '3', '--mode', 'strict', '--json']);
    const again = await runCli(['campaign', 'pmem', '--seed', '3', '--mode', 'strict', '--json']);
    const off = await runCli(['campaign', 'pmem', '--seed', '3', '--mode', 'strict', '--protection', 'off', '--json']);
    expect(again.stdout).toBe(on.stdout);
    expect(lastJson(on.lines)).toMatchObject({ strays_landed: 0, bytes_corrupted_after_reboot: 0 });
    expect(lastJson(off.lines).bytes_corrupted_after_reboot).toBeGreaterThan(0);
    expect(lastJson(off.lines).domain_switches).toBe(0);
  });

  it('colours landed strays red on a terminal', async () => {
    const run = await runCli(['campaign', 'pmem', '--seed', '1', '--protection', 'off'], { isTTY: true });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(ANSI_ESCAPE);
  });

  it.each([
    [['campaign', 'nosuch', '--seed', '1'], /no campaign for consumer 'nosuch' \(known: pmem/],
    [['campaign', 'pmem'], /--seed/],
    [['campaign', 'pmem', '--seed', 'x'], /--seed.*whole number/],
    [['campaign', 'pmem', '--seed', '-1'], /--seed/],
    [['campaign', 'pmem', '--seed', '1', '--mode', 'soft'], /pmem campaigns have modes relaxed, strict; got 'soft'/],
    [['campaign', 'pmem', '--seed', '1', '--mode', 'silent'], /--mode.*relaxed, strict, soft/],
    [['campaign', 'pmem', '--seed', '1', '--protection', 'maybe'], /--protection.*on, off/],
    [
      ['campaign', 'pmem', '--seed', '1', '--arch', 'mips'],
      /no architecture or scheme plugin named 'mips' \(registered: .*x86/,
    ],
    [['campaign', 'pmem', '--seed', '1', '--cpus', '0'], /--cpus.*1 to 64/],
  ])('refuses %j in one line, exit 2', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toBe('');
  });

  it('loads, for each consumer name, the runner the demo lists under that name', async () => {
    const all = [...CAMPAIGN_RUNNERS, ...API_CAMPAIGN_RUNNERS];
    expect(Object.keys(CAMPAIGN_PACKAGES).sort()).toEqual(all.map((r) => r.consumer).sort());
    for (const runner of all) expect(await CAMPAIGN_PACKAGES[runner.consumer]()).toBe(runner);
  });

  it('has one registry entry per consumer, each with a default mode', () => {
    const names = CAMPAIGN_RUNNERS.map((r) => r.consumer);
    expect(new Set(names).size).toBe(names.length);
    for (const runner of CAMPAIGN_RUNNERS) expect(runner.modes.length).toBeGreaterThan(0);
  });

  it('kmap-apis prints one row per API design, with exposure, misuses and costs; --json carries the designs', async () => {
    const run = await runCli(['campaign', 'kmap-apis', '--seed', '1']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.lines[0]).toBe('kmap-apis campaign: seed 1, protection on, mode strict, arch x86');
    const header = run.lines.findIndex((l) => l.startsWith('design '));
    expect(run.lines[header - 1]).toBe('per API design:');
    for (const column of ['strays caught', 'exposure (B x ticks)', 'misuses detected', 'PTE writes', 'shootdowns'])
      expect(run.lines[header]).toContain(column);
    const designs = run.lines.slice(header + 1, header + 8).map((l) => l.split(/\s+/)[0]);
    expect(designs).toEqual([
      'kmap-local',
      'kmap-local-range',
      'kmap-redefined',
      'vmap',
      'vmap-batched',
      'no-direct-map',
      'capability',
    ]);
    const json = await runCli(['campaign', 'kmap-apis', '--seed', '1', '--json']);
    const result = JSON.parse(json.stdout) as CampaignResult & { designs: { design: string }[] };
    expect(result.consumer).toBe('kmap-apis');
    expect(result.designs).toHaveLength(7);
    const again = await runCli(['campaign', 'kmap-apis', '--seed', '1', '--json']);
    expect(again.stdout).toEqual(json.stdout);
  });

  it('--threads and --ops size the workload; --spaces only where the consumer has address spaces', async () => {
    const run = await runCli([
      'campaign',
      'pgtable',
      '--seed',
      '1',
      '--threads',
      '2',
      '--ops',
      '5',
      '--spaces',
      '4',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(lastJson(run.lines).strays_attempted).toBe(16);
    const refused = await runCli(['campaign', 'pmem', '--seed', '1', '--spaces', '2']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--spaces: the pmem campaign has no spaces to size/);
    const bounds = await runCli(['campaign', 'ro-at-rest', '--seed', '1', '--threads', '65']);
    expect(bounds.code).toBe(2);
    expect(bounds.stderr).toMatch(/--threads.*must be a whole number from 1 to 64/);
  });
});
