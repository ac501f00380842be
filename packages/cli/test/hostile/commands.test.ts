import { describe, expect, it } from 'vitest';
import { expectHostile, inputFile } from './harness';

const ESC = String.fromCharCode(0x1b);
const POLICY = '{"domains": [{"name": "d", "ranges": [{"start": "0x1000", "end": "0x2000"}], "rights": "rw"}]}';

describe('hostile vector files, traces, policies and arguments: one line, exit 0, 1 or 2', () => {
  it('check on a file of junk reports a capped list and one summary line', async () => {
    const junk = Array.from({ length: 20_000 }, (_, i) => `junk ${i} ${'#'.repeat(i % 50)}`).join('\n');
    const run = await expectHostile(['check', inputFile('junk.jsonl', junk)], { codes: [2], stderrLines: 4 });
    expect(run.stderr).toMatch(/junk\.jsonl: 19997 more malformed lines not shown \(the first at .*junk\.jsonl:4;/);
  });

  it('check on mixed junk never lists more than the cap', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) =>
      i % 3 === 0 ? `{"id": ${i}}` : i % 3 === 1 ? '[1,2]' : `{"id": "v${i}", "x": 1}`,
    );
    await expectHostile(['check', inputFile('mixed.jsonl', lines.join('\n'))], { codes: [2], stderrLines: 21 });
  });

  it('a vector line with terminal escape bytes is echoed escaped, never raw', async () => {
    const line = `${ESC}]0;pwned${String.fromCharCode(7)}${ESC}[2J{"id": "${ESC}[31mred"}`;
    const run = await expectHostile(['check', inputFile('escape.jsonl', line)], { codes: [2] });
    expect(run.stderr).toContain('\\x1b');
  });

  it('a huge hex literal is cut short in the error, not echoed whole', async () => {
    const line = `{"id": "h", "address": "0x${'f'.repeat(100_000)}"}`;
    const run = await expectHostile(['check', inputFile('hex.jsonl', line)], { codes: [2] });
    expect(run.stderr.length).toBeLessThan(800);
  });

  it('a line of deeply nested JSON is one malformed-line error', async () => {
    const line = '['.repeat(100_000) + ']'.repeat(100_000);
    await expectHostile(['check', inputFile('deep.jsonl', line)], { codes: [2] });
  });

  it('replay --first far past its cap is refused with the cap named', async () => {
    const policy = inputFile('p.json', POLICY);
    const trace = inputFile('t.lackey', ' L 1000,4\n');
    for (const first of ['99999999999999999999', '100001', '1e9', '-1']) {
      const run = await expectHostile(['replay', trace, '--policy', policy, '--first', first], { codes: [2] });
      expect(run.stderr).toMatch(/--first/);
    }
    await expectHostile(['replay', trace, '--policy', policy, '--first', '100000'], { codes: [0] });
  });

  it.each([
    ['deep policy JSON', '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000), 'json'],
    ['deep policy YAML', '['.repeat(50_000) + ']'.repeat(50_000), 'yaml'],
    [
      'alias bomb policy',
      'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
      'yaml',
    ],
    ['alias cycle policy', 'domains: &d [*d]\n', 'yaml'],
    ['js/function policy', 'domains: !!js/function "f"\n', 'yaml'],
    ['infinite range', 'domains: [{name: d, rights: rw, ranges: [{start: 0, end: .inf}]}]\n', 'yaml'],
  ])('replay with a %s ends in one line, exit 2', async (name, text, ext) => {
    const policy = inputFile(`${name.replace(/[ /]/g, '-')}.${ext}`, text);
    await expectHostile(['replay', inputFile('t2.lackey', ' L 1000,4\n'), '--policy', policy], { codes: [2] });
  });

  it('a trace of junk stops at the first malformed line, or is counted with --skip-malformed', async () => {
    const policy = inputFile('p2.json', POLICY);
    const junk = inputFile('junk.lackey', Array.from({ length: 10_000 }, (_, i) => ` L zz${i},${ESC}[2J`).join('\n'));
    await expectHostile(['replay', junk, '--policy', policy], { codes: [2] });
    await expectHostile(['replay', junk, '--policy', policy, '--skip-malformed'], { codes: [0], stderrLines: 0 });
  });

  it('demo and campaign accept the same seed range: the last seed a demo runs must be one campaign takes', async () => {
    const demo = await expectHostile(['demo', '--seed', '4294967295'], { codes: [2] });
    expect(demo.stderr).toContain('the last must be at most 4294967295');
    for (const seed of ['4294967296', '-1', '1.5', `9${'9'.repeat(400)}`]) {
      await expectHostile(['demo', '--seed', seed], { codes: [2] });
      await expectHostile(['campaign', 'pmem', '--seed', seed], { codes: [2] });
    }
    await expectHostile(['campaign', 'pmem', '--seed', '4294967295'], { codes: [0, 1], stderrLines: 0, ms: 20_000 });
  }, 60_000);

  it('a costs file with a non-finite or wrong-typed value is one located line', async () => {
    const costs = inputFile('costs.yaml', 'rights_write: .inf\n');
    const run = await expectHostile(['campaign', 'pmem', '--seed', '1', '--costs', costs], { codes: [2] });
    expect(run.stderr).toMatch(/costs\.yaml:1: rights_write: .*found infinity/);
  });

  it('arguments with escape bytes are echoed escaped', async () => {
    const run = await expectHostile([`${ESC}[2Jcheck`], { codes: [2] });
    expect(run.stderr).toContain('\\x1b');
  });
});
