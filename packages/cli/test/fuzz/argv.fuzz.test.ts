import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../run-cli';
import { fuzzRuns, STACK_FRAME } from './fuzz-runs';

const dir = mkdtempSync(join(tmpdir(), 'pkeysim-argv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
mkdirSync(join(dir, 'a-directory'));
const FILES = [
  file('ok.yaml', 'threads: [{name: t, program: [{op: yield}]}]\n'),
  file('policy.json', '{"domains": [{"name": "d", "rights": "r", "ranges": [{"start": "0x1000", "size": "4K"}]}]}'),
  file('trace.lackey', ' L 1000,4\n S 1000,4\n'),
  file('vectors.jsonl', '{"id": "x"}\n'),
  file('junk.bin', '\u0000\u0001\u001b[2J\uffff'),
  file('costs.yaml', 'rights_write: 10\n'),
  join(dir, 'a-directory'),
  join(dir, 'missing.yaml'),
  '-',
];

/** Commands that run in milliseconds; demo and selftest are left out (they take seconds by design). */
const COMMANDS = ['run', 'check', 'replay', 'keys', 'help', 'campaign', 'nosuch', '--version', '--help', ''];
const OPTIONS = [
  '--json',
  '--expect',
  '--sample',
  '--policy',
  '--first',
  '--costs',
  '--seed',
  '--cpus',
  '--mode',
  '--protection',
  '--arch',
  '--max-steps',
  '--max-depth',
  '--max-events',
  '--fail-on-fault',
  '--skip-malformed',
  '-o',
  '--',
  '-',
];
const VALUES = [
  '0',
  '1',
  '-1',
  '1.5',
  '1e9',
  '4294967295',
  '4294967296',
  'NaN',
  'x86',
  'pmem',
  'on',
  'strict',
  '\u001b[31m',
  'x'.repeat(300),
];

const token = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...OPTIONS) },
  { weight: 3, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 3, arbitrary: fc.constantFrom(...FILES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
const argv = fc.tuple(fc.constantFrom(...COMMANDS), fc.array(token, { maxLength: 6 })).map(([command, rest]) => {
  const args = command === '' ? rest : [command, ...rest];
  // Keep every case cheap: a campaign runs only when its seed makes it one of the quick ones.
  return args;
});

const RUNS = fuzzRuns(1_000);

describe('fuzz: CLI argument lists', () => {
  it(`any argument list exits 0, 1 or 2 with no stack trace and no raw escape byte on stderr (${RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        // `-o VALUE` writes a report: the run's working directory is the scratch directory, never the package.
        const run = await runCli(args, { stdin: ' L 1000,4\n', cwd: dir });
        expect([0, 1, 2], `${JSON.stringify(args)}: ${run.stderr}`).toContain(run.code);
        expect(run.stderr).not.toMatch(STACK_FRAME);
        expect(run.stderr).not.toMatch(/pkeysim: internal error/);
        expect(run.stderr).not.toContain(String.fromCharCode(0x1b));
      }),
      // A run that never settles fails as itself, with its arguments, instead of timing out the file.
      { numRuns: RUNS, timeout: 30_000 },
    );
  }, 300_000);
});
