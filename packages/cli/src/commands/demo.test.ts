import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/run-cli';
import '@pkeysim/x86';
import { CAMPAIGN_RUNNERS } from './campaign-runners';
import { type DemoResult, runDemo } from './demo';

describe('pkeysim demo', () => {
  it('ends with one table: a row for protection off, for keys and for every scheme that runs', async () => {
    const run = await runCli(['demo', '--runs', '1']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const header = run.lines.findIndex((l) => l.startsWith('scheme '));
    expect(run.lines[header]).toMatch(
      /^scheme\s+strays blocked\s+bytes lost after reboot\s+domain switches\s+modeled cycles\s+cycles\/switch\s+accesses$/,
    );
    const rows = run.lines.slice(header + 1, run.lines.indexOf('', header));
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(expect.arrayContaining(['off', 'keys']));
    expect(run.lines[1]).toContain('4 CPUs, 4-level paging, PKS and PKU, a PMEM namespace, page-table protection on');
  });

  it('the table holds only figures the seed decides; the wall-clock rate is one labelled line below it', async () => {
    const a = await runCli(['demo', '--runs', '1']);
    const b = await runCli(['demo', '--runs', '1']);
    const table = (lines: string[]) =>
      lines.slice(
        0,
        lines.findIndex((l) => l.startsWith('wall clock')),
      );
    expect(table(a.lines)).toEqual(table(b.lines));
    expect(a.lines.filter((l) => l.startsWith('wall clock (this host, varies run to run): '))).toHaveLength(1);
    expect(a.lines.at(-1)).toMatch(/^wall clock .*: \d+\.\d\d s simulating, [\d,]+ simulated accesses\/s$/);
  });

  it("counts the PMEM campaign's accesses and cycles although the campaign reboots the machine", () => {
    const result = runDemo({ seed: 3, runs: 1 });
    const keys = result.rows.find((r) => r.scheme === 'keys')!;
    // Each campaign measures its own run before the reboot; the demo sees every event of the machines.
    let measured = 0;
    for (const runner of CAMPAIGN_RUNNERS) {
      const mode = runner.modes.includes('strict') ? 'strict' : runner.modes[0];
      measured += runner.run({ seed: 3, protection: true, mode, cpus: 4 }).modeled_cycles;
    }
    expect(keys.modeled_cycles).toBeGreaterThanOrEqual(measured);
    expect(keys.accesses).toBeGreaterThan(0);
  });

  it('--threads, --ops, --spaces and --cpus size the workload; out-of-bounds values are refused with exit 2', async () => {
    const small = JSON.parse((await runCli(['demo', '--runs', '1', '--json'])).lines.at(-1)!) as DemoResult;
    const big = JSON.parse(
      (
        await runCli(['demo', '--runs', '1', '--json', '--threads', '4', '--ops', '30', '--spaces', '3', '--cpus', '2'])
      ).lines.at(-1)!,
    ) as DemoResult;
    const keys = (r: DemoResult) => r.rows.find((x) => x.scheme === 'keys')!;
    expect(big.machine.cpus).toBe(2);
    expect(keys(big).strays_attempted).toBe((keys(small).strays_attempted / 3) * 4);
    expect(keys(big).accesses).toBeGreaterThan(keys(small).accesses);
    for (const bad of [
      ['--threads', '0'],
      ['--ops', '10001'],
      ['--spaces', 'x'],
      ['--cpus', '65'],
    ]) {
      const run = await runCli(['demo', '--runs', '1', ...bad]);
      expect(run.code, bad.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/must be a whole number from \d+ to \d+/);
    }
  });

  it('with keys every stray is blocked and no PMEM byte is lost; with protection off strays land and bytes are lost', async () => {
    const run = await runCli(['demo', '--runs', '1', '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.lines.at(-1)!) as DemoResult;
    const row = (scheme: string) => result.rows.find((r) => r.scheme === scheme)!;
    expect(row('keys').strays_attempted).toBeGreaterThan(0);
    expect(row('keys').strays_blocked).toBe(row('keys').strays_attempted);
    expect(row('keys').bytes_lost_after_reboot).toBe(0);
    expect(row('keys').domain_switches).toBeGreaterThan(0);
    expect(row('keys').cycles_per_switch).toBeGreaterThan(0);
    expect(row('off').strays_blocked).toBe(0);
    expect(row('off').bytes_lost_after_reboot).toBeGreaterThan(0);
    expect(row('off').cycles_per_switch).toBeNull();
    for (const r of result.rows.filter((x) => x.unsupported === undefined))
      expect(r.accesses_per_second).toBeGreaterThan(0);
    expect(result.campaigns).toEqual(expect.arrayContaining(['pmem']));
  });

  it('runs on arm64 POE and POWER with --arch: off and keys rows, every stray blocked under keys', async () => {
    for (const arch of ['arm64-poe', 'power']) {
      const run = await runCli(['demo', '--arch', arch, '--runs', '1', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.lines.at(-1)!) as DemoResult;
      expect(result.machine.arch).toBe(arch);
      expect(result.rows.map((r) => r.scheme)).toEqual(['off', 'keys']);
      const [off, keys] = result.rows;
      expect(keys.unsupported, keys.skipped.join('; ')).toBeUndefined();
      expect(keys.strays_attempted).toBeGreaterThan(0);
      expect(keys.strays_blocked).toBe(keys.strays_attempted);
      expect(keys.bytes_lost_after_reboot).toBe(0);
      expect(off.bytes_lost_after_reboot).toBeGreaterThan(0);
    }
  });

  it('refuses a scheme as --arch, and an unknown name, with one line and exit 2', async () => {
    const scheme = await runCli(['demo', '--arch', 'vkeys']);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toMatch(/vkeys is a protection scheme/);
    // Refused before the table's header is printed, not under it.
    expect(scheme.stdout).toBe('');
    const unknown = await runCli(['demo', '--arch', 'sparc']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no architecture or scheme plugin named 'sparc'/);
  });

  it('draws a progress bar on stderr only when it is a terminal, and erases it', async () => {
    const tty = await runCli(['demo', '--runs', '1'], { isTTY: true });
    expect(tty.stderr).toMatch(/\r\[[#-]+\] \d+\/\d+ pmem under off, seed 1/);
    expect(tty.stderr.endsWith('\r\x1b[K')).toBe(true);
    const piped = await runCli(['demo', '--runs', '1']);
    expect(piped.stderr).toBe('');
  });

  it('--costs changes the modeled cycles; a bad --costs file is bad input', async () => {
    const base = JSON.parse((await runCli(['demo', '--runs', '1', '--json'])).lines.at(-1)!) as DemoResult;
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'pkeysim-demo-'));
    writeFileSync(join(dir, 'costs.yaml'), 'rights_write: 1000\n');
    writeFileSync(join(dir, 'bad.yaml'), 'wrmsr: 1\n');
    const dear = JSON.parse(
      (await runCli(['demo', '--runs', '1', '--json', '--costs', join(dir, 'costs.yaml')])).lines.at(-1)!,
    ) as DemoResult;
    const keys = (r: DemoResult) => r.rows.find((x) => x.scheme === 'keys')!;
    expect(keys(dear).modeled_cycles).toBeGreaterThan(keys(base).modeled_cycles);
    const bad = await runCli(['demo', '--costs', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^pkeysim: .*bad\.yaml:1: wrmsr: unknown cost event/);
  });
});
