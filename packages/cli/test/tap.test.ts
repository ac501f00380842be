import { describe, expect, it } from 'vitest';
import { formatTap } from '../src/tap';
import { runCli } from './run-cli';

interface TapReport {
  plan: number;
  results: { ok: boolean; number: number; description: string; skip?: string }[];
  totals: Record<string, number>;
}

/**
 * A strict reader of the TAP 13 kselftest prints: the version line first, the plan second, then
 * only test lines and "# " diagnostics, numbers 1..N in order, as many results as planned, and the
 * "# Totals:" line of ksft_print_cnts() last. Anything else throws, naming the line.
 */
function parseKselftestTap(text: string): TapReport {
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== 'TAP version 13') throw new Error(`line 1: expected "TAP version 13", got ${lines[0]}`);
  const plan = /^1\.\.(\d+)$/.exec(lines[1] ?? '');
  if (!plan) throw new Error(`line 2: expected the plan "1..N", got ${lines[1]}`);
  const totalsLine = lines.at(-1)!;
  const totals = /^# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) skip:(\d+) error:(\d+)$/.exec(totalsLine);
  if (!totals) throw new Error(`last line: expected "# Totals: ...", got ${totalsLine}`);
  const results: TapReport['results'] = [];
  lines.slice(2, -1).forEach((line, i) => {
    if (/^# \S/.test(line)) return;
    // A description may not contain an unescaped "#": that starts a directive.
    const test = /^(ok|not ok) (\d+) ((?:[^#\\]|\\.)+?)(?: # (SKIP|TODO) (.+))?$/.exec(line);
    if (!test) throw new Error(`line ${i + 3}: not a TAP 13 test line or diagnostic: ${line}`);
    const number = Number(test[2]);
    if (number !== results.length + 1) throw new Error(`line ${i + 3}: test ${number} out of order`);
    if (test[4] === 'SKIP' && test[1] !== 'ok') throw new Error(`line ${i + 3}: a SKIP must be "ok"`);
    results.push({
      ok: test[1] === 'ok',
      number,
      description: test[3],
      ...(test[4] === 'SKIP' ? { skip: test[5] } : {}),
    });
  });
  if (results.length !== Number(plan[1])) throw new Error(`planned ${plan[1]} tests, saw ${results.length}`);
  const [pass, fail, xfail, xpass, skip, error] = totals.slice(1).map(Number);
  return { plan: Number(plan[1]), results, totals: { pass, fail, xfail, xpass, skip, error } };
}

function counted(report: TapReport) {
  return {
    pass: report.results.filter((r) => r.ok && r.skip === undefined).length,
    fail: report.results.filter((r) => !r.ok).length,
    skip: report.results.filter((r) => r.skip !== undefined).length,
  };
}

describe('selftest --tap prints TAP 13 as kselftest does', () => {
  it.each([
    [['selftest', 'pks', '--tap'], 0, { pass: 8, fail: 0, skip: 0 }],
    [['selftest', 'pks', '--tap', '--entry', 'legacy-rfc-v1'], 1, { pass: 4, fail: 4, skip: 0 }],
    [['selftest', 'pks', '--tap', '--no-pks'], 0, { pass: 0, fail: 0, skip: 8 }],
    [['selftest', 'pks', '--tap', '--pks-version', 'v7'], 0, { pass: 8, fail: 0, skip: 0 }],
    [['selftest', 'pkeys', '--tap'], 0, { pass: 28, fail: 0, skip: 1 }],
    [['selftest', 'pkeys', '--tap', '--signal-policy', 'pre-2024'], 1, { pass: 23, fail: 5, skip: 1 }],
  ] as const)('pkeysim %j: exit %i, counts %j', async (args, code, counts) => {
    const run = await runCli([...args]);
    expect(run.code).toBe(code);
    expect(run.stderr).toBe('');
    const report = parseKselftestTap(run.stdout);
    expect(counted(report)).toEqual(counts);
    expect(report.totals).toEqual({ ...counts, xfail: 0, xpass: 0, error: 0 });
  });

  it('prints why a test failed as diagnostics before its "not ok" line', async () => {
    const run = await runCli(['selftest', 'pks', '--tap', '--entry', 'legacy-rfc-v1']);
    expect(run.stdout).toMatch(/^# RUN_EXCEPTION: .+\nnot ok \d+ RUN_EXCEPTION$/m);
  });

  it('agrees with the [OK]/[FAIL]/[SKIP] output case by case', async () => {
    const text = await runCli(['selftest', 'pkeys', '--signal-policy', 'pre-2024']);
    const tap = parseKselftestTap((await runCli(['selftest', 'pkeys', '--signal-policy', 'pre-2024', '--tap'])).stdout);
    const statuses = text.lines.slice(0, -1).map((l) => /^\[(\w+)\]/.exec(l)![1]);
    expect(tap.results.map((r) => (r.skip !== undefined ? 'SKIP' : r.ok ? 'OK' : 'FAIL'))).toEqual(statuses);
  });

  it('refuses --tap with --json in one line, exit 2', async () => {
    const run = await runCli(['selftest', 'pkeys', '--tap', '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toBe('');
  });

  it('the strict reader rejects what is not kselftest TAP 13', () => {
    const good = 'TAP version 13\n1..1\nok 1 a\n# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0\n';
    expect(parseKselftestTap(good).plan).toBe(1);
    expect(() => parseKselftestTap(good.replace('1..1', '1..2'))).toThrow(/planned 2/);
    expect(() => parseKselftestTap(good.replace('ok 1 a', 'ok 2 a'))).toThrow(/out of order/);
    expect(() => parseKselftestTap(good.replace('ok 1 a', '[OK] 1 a'))).toThrow(/not a TAP 13 test line/);
    expect(() => parseKselftestTap(good.replace(/# Totals.*\n/, ''))).toThrow(/Totals/);
  });
});

describe('formatTap', () => {
  it('escapes "#" in names, keeps every line one line, and numbers from 1', () => {
    const lines = formatTap(
      ['machine\nx86'],
      [
        { name: 'a # b', status: 'OK', detail: '' },
        { name: 'c', status: 'SKIP', detail: 'no\nkeys' },
        { name: 'd', status: 'FAIL', detail: 'first\nsecond' },
      ],
    );
    expect(lines).toEqual([
      'TAP version 13',
      '1..3',
      '# machine x86',
      'ok 1 a \\# b',
      'ok 2 c # SKIP no keys',
      '# d: first',
      '# d: second',
      'not ok 3 d',
      '# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0',
    ]);
    expect(parseKselftestTap(`${lines.join('\n')}\n`).results[0].description).toBe('a \\# b');
  });
});
