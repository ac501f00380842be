import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_VECTORS_PATH } from '@pkeysim/x86/vectors';
import { describe, expect, it } from 'vitest';
import { ANSI_ESCAPE, runCli } from './run-cli';

const sampleText = readFileSync(SAMPLE_VECTORS_PATH, 'utf8');
const sampleLines = sampleText.split('\n').filter((line) => line.trim() !== '');
const sampleVectors = sampleLines.map((line) => JSON.parse(line) as Record<string, unknown>);
const firstAccess = sampleVectors.find((v) => v.kind === undefined)!;

function withResult(vector: Record<string, unknown>, result: Record<string, unknown>): string {
  return JSON.stringify({ ...vector, result });
}

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pkeysim-cli-')), name);
  writeFileSync(path, text);
  return path;
}

describe('pkeysim check on the bundled sample', () => {
  it('the bundled sample holds the 411 QEMU vectors', () => {
    expect(sampleLines).toHaveLength(411);
  });

  it('--sample --expect passes every vector and ends with "411 passed, 0 failed"', async () => {
    const run = await runCli(['check', '--sample', '--expect']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.lines).toHaveLength(412);
    expect(run.lines.at(-1)).toBe('411 passed, 0 failed');
  });

  it('a file given by path passes every vector too, output in input order', async () => {
    const run = await runCli(['check', '--expect', SAMPLE_VECTORS_PATH]);
    expect(run.code).toBe(0);
    expect(run.lines.at(-1)).toBe('411 passed, 0 failed');
    const ids = run.lines.slice(0, -1).map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(sampleVectors.map((v) => v.id));
  });

  it('reads stdin when the file is "-" or absent', async () => {
    for (const args of [
      ['check', '--expect', '-'],
      ['check', '--expect'],
    ]) {
      const run = await runCli(args, { stdin: sampleText });
      expect(run.code).toBe(0);
      expect(run.lines.at(-1)).toBe('411 passed, 0 failed');
    }
  });

  it('an access vector gives {id, fault, error_code}; an insn vector {id, exception, pkru, pkrs}', async () => {
    const insn = sampleVectors.find((v) => v.kind === 'insn' && v.insn === 'wrpkru')!;
    const run = await runCli(['check'], { stdin: `${JSON.stringify(firstAccess)}\n${JSON.stringify(insn)}\n` });
    expect(run.code).toBe(0);
    const [access, instruction] = run.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(access)).toEqual(['id', 'fault', 'error_code']);
    expect(access).toEqual({ id: firstAccess.id, ...(firstAccess.result as object) });
    expect(Object.keys(instruction)).toEqual(expect.arrayContaining(['id', 'exception', 'pkru', 'pkrs']));
    expect(instruction.id).toBe(insn.id);
  });

  it('without --expect there is no summary line', async () => {
    const run = await runCli(['check', '--sample']);
    expect(run.code).toBe(0);
    expect(run.lines).toHaveLength(411);
  });

  it('--expect --json ends with a JSON summary line carrying the schema', async () => {
    const run = await runCli(['check', '--sample', '--expect', '--json']);
    expect(run.lines.at(-1)).toBe('{"schema":"pkeysim.check/1","type":"summary","passed":411,"failed":0}');
  });
});

describe('pkeysim check --expect with a wrong recorded result', () => {
  const result = firstAccess.result as { fault: boolean; error_code: number | null };
  const wrong = withResult(
    firstAccess,
    result.fault ? { fault: false, error_code: null } : { fault: true, error_code: 7 },
  );
  const input = [wrong, ...sampleLines.slice(1)].join('\n');

  it('exits 1, names the vector on stderr and ends with "410 passed, 1 failed"', async () => {
    const run = await runCli(['check', '--expect'], { stdin: input });
    expect(run.code).toBe(1);
    expect(run.lines.at(-1)).toBe('410 passed, 1 failed');
    const failures = run.stderr.trimEnd().split('\n');
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect(failure).toMatch(new RegExp(`^FAIL <stdin>:1: ${String(firstAccess.id)}: `));
  });

  it('the output line reports what the model computed, not the recorded result', async () => {
    const run = await runCli(['check'], { stdin: wrong });
    expect(JSON.parse(run.lines[0])).toEqual({ id: firstAccess.id, ...result });
  });

  it('failure lines are coloured on a terminal and plain with NO_COLOR', async () => {
    const coloured = await runCli(['check', '--expect'], { stdin: wrong, isTTY: true, env: {} });
    const plain = await runCli(['check', '--expect'], { stdin: wrong, isTTY: true, env: { NO_COLOR: '1' } });
    expect(coloured.stderr).toMatch(ANSI_ESCAPE);
    expect(plain.stderr).not.toMatch(ANSI_ESCAPE);
    expect(plain.stdout).not.toMatch(ANSI_ESCAPE);
    expect(plain.lines.at(-1)).toBe('0 passed, 1 failed');
  });
});

describe('pkeysim check with malformed lines', () => {
  const good = JSON.stringify(firstAccess);
  const { access: _dropped, ...missingAccess } = firstAccess;
  const lines = [
    good,
    '{"id": "broken", "paging": 4,',
    JSON.stringify(missingAccess),
    JSON.stringify({ ...firstAccess, page: { ...(firstAccess.page as object), pkey: 16 } }),
    JSON.stringify({ ...firstAccess, cpl: '3' }),
    '',
    good,
  ];

  it('names each bad line number and field, still runs the good lines, exit 2', async () => {
    const run = await runCli(['check', '--expect'], { stdin: lines.join('\n') });
    expect(run.code).toBe(2);
    const errors = run.stderr.trimEnd().split('\n');
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatch(/^pkeysim: <stdin>:2: \S+: \S/);
    expect(errors[1]).toMatch(/^pkeysim: <stdin>:3: access: \S/);
    expect(errors[2]).toMatch(/^pkeysim: <stdin>:4: page\.pkey: \S/);
    expect(errors[3]).toMatch(/^pkeysim: <stdin>:5: cpl: \S/);
    expect(run.lines).toHaveLength(3);
    expect(run.lines.at(-1)).toBe('2 passed, 0 failed');
  });

  it('names the file as given on the command line', async () => {
    const path = tempFile('bad.jsonl', `${good}\nnot json\n`);
    const run = await runCli(['check', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^pkeysim: ${path.replace(/[.\\/]/g, '\\$&')}:2: \\S+: `));
    expect(run.lines).toHaveLength(1);
  });

  it('bad input (exit 2) wins over a mismatch (exit 1)', async () => {
    const wrong = withResult(firstAccess, { fault: !(firstAccess.result as { fault: boolean }).fault, error_code: 7 });
    const run = await runCli(['check', '--expect'], { stdin: `${wrong}\n{\n` });
    expect(run.code).toBe(2);
    expect(run.lines.at(-1)).toBe('0 passed, 1 failed');
  });
});

describe('pkeysim check usage errors', () => {
  it('a missing file is one line and exit 2', async () => {
    const run = await runCli(['check', '/nonexistent/vectors.jsonl']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('pkeysim: cannot read /nonexistent/vectors.jsonl: no such file\n');
  });

  it('a missing file with -o FILE is one line and exit 2, not an uncaught error and a hang', async () => {
    // The input was opened before the report file: its open error fired with no listener.
    const dir = mkdtempSync(join(tmpdir(), 'pkeysim-cli-'));
    const run = await runCli(['check', join(dir, 'missing.jsonl'), '-o', join(dir, 'report.txt')]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`pkeysim: cannot read ${join(dir, 'missing.jsonl')}: no such file\n`);
  }, 10_000);

  it('a directory is one line and exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkeysim-cli-'));
    const run = await runCli(['check', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`pkeysim: cannot read ${dir}: is a directory\n`);
  });

  it('--sample together with a file is refused, exit 2', async () => {
    const run = await runCli(['check', '--sample', 'x.jsonl']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('pkeysim: give a file or --sample, not both\n');
  });

  it('an empty input runs nothing and passes', async () => {
    const run = await runCli(['check', '--expect'], { stdin: '\n\n' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('0 passed, 0 failed\n');
  });
});
