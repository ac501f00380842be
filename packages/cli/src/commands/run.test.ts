import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/run-cli';

const EXAMPLES = resolve(import.meta.dirname, '../../../../examples');
const example = (name: string) => join(EXAMPLES, name);

function scratch(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pkeysim-run-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const PASSING = `
threads:
  - name: t
    program:
      - { op: alloc_key, as: k }
      - { op: set_rights, key: k, rights: rw }
`;

describe('pkeysim run', () => {
  it('prints the event log, the cost table and PASS, and exits 0 when every assertion holds', async () => {
    const run = await runCli(['run', example('context-switch.yaml')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('switch swapper/0 -> opener');
    expect(run.stdout).toMatch(/fault\s+#PF error code 0x23 .* -> oops/);
    expect(run.stdout).toContain('context_switch');
    expect(run.lines.at(-1)).toBe('PASS: every assertion held');
  });

  it('with --json prints one JSON object per line: events, then costs, then the result', async () => {
    const run = await runCli(['run', example('rfc-v1-interrupt.yaml'), '--json']);
    expect(run.code).toBe(0);
    const records = run.lines.map((l) => JSON.parse(l) as { type: string });
    const types = new Set(records.map((r) => r.type));
    for (const t of ['op', 'access', 'rights_write', 'switch', 'entry', 'exit', 'fault', 'log'])
      expect(types.has(t), t).toBe(true);
    expect(records.at(-2)?.type).toBe('costs');
    expect(records.at(-1)).toMatchObject({ type: 'result', passed: true, failures: [] });
  });

  it('gives the same output for the same file and seed', async () => {
    const a = await runCli(['run', example('context-switch.yaml'), '--json']);
    const b = await runCli(['run', example('context-switch.yaml'), '--json']);
    expect(a.stdout).toBe(b.stdout);
  });

  it('exits 1 and names the file, line and field of each assertion that failed', async () => {
    const file = scratch('fails.yaml', `${PASSING}expect:\n  fault_count: 2\n`);
    const run = await runCli(['run', file]);
    expect(run.code).toBe(1);
    expect(run.lines.at(-1)).toBe('FAIL: 1 assertion(s) failed');
    expect(run.stderr).toBe(`FAIL ${file}:8: expect.fault_count: expected 2 fault(s), saw 0 (none)\n`);
  });

  it('exits 2 with file:line: field: message for a schema error, without a stack trace', async () => {
    const file = scratch('bad.yaml', `${PASSING}      - { op: set_rights, key: 16, rights: rw }\n`);
    const run = await runCli(['run', file]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`pkeysim: ${file}:7: threads[0].program[2].key: expected a key 1..15\n`);
  });

  it('exits 2 with the line of a YAML syntax error', async () => {
    const file = scratch('broken.yaml', 'threads:\n  - name: t\n    program: [ { op: yield }\n');
    const run = await runCli(['run', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^pkeysim: ${file}:\\d+: syntax error: `));
  });

  it('exits 2 for an unreadable file', async () => {
    const run = await runCli(['run', '/nonexistent/x.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('pkeysim: cannot read /nonexistent/x.yaml: no such file\n');
  });

  it('--costs FILE overrides the cycles of an event and rejects unknown events with their line', async () => {
    const good = scratch('costs.yaml', 'rights_write: 1000\n');
    const base = await runCli(['run', example('context-switch.yaml'), '--json']);
    const run = await runCli(['run', example('context-switch.yaml'), '--json', '--costs', good]);
    const costs = (r: typeof run) => JSON.parse(r.lines.at(-2)!) as { model: Record<string, number>; total: number };
    expect(costs(run).model.rights_write).toBe(1000);
    expect(costs(run).total).toBeGreaterThan(costs(base).total);

    const bad = scratch('costs.yaml', 'rights_write: 1\nwrpkru: 20\n');
    const refused = await runCli(['run', example('context-switch.yaml'), '--costs', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^pkeysim: ${bad}:2: wrpkru: unknown cost event`));
  });

  it.each(['x86', 'arm64-poe', 'power'])(
    '--arch %s runs examples/user-pkeys-every-arch.yaml unchanged and every assertion holds',
    async (arch) => {
      const run = await runCli(['run', example('user-pkeys-every-arch.yaml'), '--arch', arch]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`machine: ${arch},`);
      expect(run.lines.at(-1)).toBe('PASS: every assertion held');
    },
  );

  it('--arch refuses an unregistered architecture in one line, exit 2', async () => {
    const run = await runCli(['run', example('user-pkeys-every-arch.yaml'), '--arch', 'sparc']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no architecture or scheme plugin named 'sparc'/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reads the scenario from stdin with "-"', async () => {
    const run = await runCli(['run', '-'], { stdin: PASSING });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('scenario <stdin> (<stdin>), seed 1');
  });
});
