import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const fixture = resolve(import.meta.dirname, 'fixtures/two-key-plugin');
const scratch = mkdtempSync(join(tmpdir(), 'pkeysim-plugins-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function listedNames(stdout: string): string[] {
  const listing = JSON.parse(stdout) as { schema: string; plugins: { name: string }[] };
  expect(listing.schema).toBe('pkeysim.plugins/1');
  return listing.plugins.map((p) => p.name);
}

describe('third-party plugins in the CLI', () => {
  it('lists the built-in plugins with their package and domain spaces', async () => {
    const run = await runCli(['plugins', '--json']);
    expect(run.code).toBe(0);
    const listing = JSON.parse(run.stdout) as {
      plugins: { name: string; package: string; spaces: { id: string; domains: number | null }[] }[];
    };
    const x86 = listing.plugins.find((p) => p.name === 'x86')!;
    expect(x86.package).toBe('@pkeysim/x86');
    expect(x86.spaces.map((s) => [s.id, s.domains])).toEqual([
      ['x86.pks', 16],
      ['x86.pku', 16],
    ]);
    expect(listing.plugins.find((p) => p.name === 'pagetable')!.spaces[0]!.domains).toBeNull();
  });

  it('loads a plugin directory named with --plugin before parsing, so --arch accepts it', async () => {
    // Two domains leave one key to hand out: V6's allocator fits, V10's two static keys do not.
    const run = await runCli(['--plugin', fixture, 'selftest', 'pks', '--arch', 'two-keys', '--pks-version', 'v6']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/7 tests: 7 OK, 0 FAIL, 0 SKIP/);
  });

  it('loads plugins named in PKEYSIM_PLUGINS and credits them to their package', async () => {
    const run = await runCli(['plugins', '--json'], { env: { PKEYSIM_PLUGINS: ` ${fixture} ,` } });
    expect(run.code).toBe(0);
    expect(listedNames(run.stdout)).toContain('two-keys');
    const listing = JSON.parse(run.stdout) as { plugins: { name: string; package: string }[] };
    expect(listing.plugins.find((p) => p.name === 'two-keys')!.package).toBe('pkeysim-plugin-two-keys');
  });

  it('loads plugins named in a pkeysim.config.json found from the working directory upwards', async () => {
    const project = mkdtempSync(join(scratch, 'project-'));
    writeFileSync(join(project, 'pkeysim.config.json'), JSON.stringify({ plugins: [fixture] }));
    const nested = join(project, 'sub');
    rmSync(nested, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(nested);
    const run = await runCli(['plugins', '--json'], { cwd: nested });
    expect(run.code).toBe(0);
    expect(listedNames(run.stdout)).toContain('two-keys');
  });

  it('names the config file and the field when the config is malformed', async () => {
    const project = mkdtempSync(join(scratch, 'bad-'));
    writeFileSync(join(project, 'pkeysim.config.json'), JSON.stringify({ plugins: 'two-keys' }));
    const run = await runCli(['plugins'], { cwd: project });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/pkeysim\.config\.json: field "plugins" must be an array .* found a string/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers a plugin that cannot be found or registers nothing with one line and exit 2', async () => {
    const missing = await runCli(['--plugin', 'no-such-pkeysim-plugin', 'plugins']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /cannot load plugin 'no-such-pkeysim-plugin' \(--plugin\): package .* is not installed/,
    );
    const empty = join(scratch, 'empty.mjs');
    writeFileSync(empty, 'export const nothing = 1;\n');
    const inert = await runCli(['--plugin', empty, 'plugins']);
    expect(inert.code).toBe(2);
    expect(inert.stderr).toMatch(/registered no protection plugin/);
    const noValue = await runCli(['plugins', '--plugin']);
    expect(noValue.code).toBe(2);
  });

  it('reports a plugin with too few domains for a consumer as exit 2 naming the plugin and what it lacks', async () => {
    const run = await runCli(['--plugin', fixture, 'campaign', 'pmem', '--arch', 'two-keys', '--seed', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.stderr).toMatch(
      /plugin 'two-keys' \(pkeysim-plugin-two-keys\) cannot serve 'pkeysim campaign pmem': .*no key left.*supervisor pages: 2 domains \(two-keys\.pks\), user pages: no domain space/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('shipped examples', () => {
  it('lists every example with the first sentence of its description', async () => {
    const run = await runCli(['examples']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^rfc-v1-interrupt\.yaml\s+RFC V1 of the PKS series \(July 2020\) saved PKRS/m);
  });

  it('copies one out, and refuses to overwrite without --force', async () => {
    const target = join(scratch, 'copy.yaml');
    const first = await runCli(['examples', 'copy', 'context-switch.yaml', target]);
    expect(first.code).toBe(0);
    expect(readFileSync(target, 'utf8')).toMatch(/^name: context-switch$/m);
    const again = await runCli(['examples', 'copy', 'context-switch.yaml', target]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists; pass --force/);
    const unknown = await runCli(['examples', 'copy', 'nope.yaml', join(scratch, 'x.yaml')]);
    expect(unknown.code).toBe(2);
    expect(existsSync(join(scratch, 'x.yaml'))).toBe(false);
  });

  it('runs examples/NAME from the shipped copy when there is no examples/ folder here', async () => {
    const run = await runCli(['run', 'examples/rfc-v1-interrupt.yaml'], { cwd: scratch });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/PASS: every assertion held/);
  });
});
