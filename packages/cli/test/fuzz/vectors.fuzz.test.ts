import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { x86VectorEngine } from '../../src/check/vector-engine';
import { runCli } from '../run-cli';
import { fuzzRuns, STACK_FRAME } from './fuzz-runs';

const SAMPLE = readFileSync(x86VectorEngine.samplePath, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .slice(0, 200)
  .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Values a hostile vector field might hold. */
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    -1,
    2 ** 53,
    1e308,
    -0,
    0.5,
    4294967296,
    '0x' + 'f'.repeat(40),
    '\u001b[31m',
    'toString',
    '__proto__',
  ),
  fc.integer(),
  fc.string({ maxLength: 20 }),
);

/** A sample vector with one field (possibly nested) replaced, removed or added. */
const mutatedVector = fc
  .tuple(
    fc.constantFrom(...SAMPLE),
    fc.constantFrom('replace', 'remove', 'add', 'nested'),
    fc.nat(),
    hostileValue,
    fc.string({ maxLength: 8 }),
  )
  .map(([base, how, pick, value, name]) => {
    const v = structuredClone(base) as Record<string, unknown>;
    const keys = Object.keys(v);
    const key = keys[pick % keys.length];
    if (how === 'replace') v[key] = value;
    else if (how === 'remove') delete v[key];
    else if (how === 'add') v[name] = value;
    else if (v.page && typeof v.page === 'object') {
      const page = v.page as Record<string, unknown>;
      const pkeys = Object.keys(page);
      page[pkeys[pick % pkeys.length]] = value;
    }
    return JSON.stringify(v);
  });

/** A line of text: a mutated vector, cut or spliced with junk, or plain junk. */
const hostileLine = fc.oneof(
  mutatedVector,
  mutatedVector.chain((line) => fc.nat(line.length).map((n) => line.slice(0, n))),
  fc
    .tuple(mutatedVector, fc.nat(), fc.string({ maxLength: 5 }))
    .map(([l, n, s]) => l.slice(0, n % (l.length + 1)) + s + l.slice(n % (l.length + 1))),
  fc.string({ maxLength: 60 }),
);

const RUN_RUNS = fuzzRuns(10_000);
const PARSE_RUNS = fuzzRuns(32_000);
const CLI_RUNS = fuzzRuns(300);

describe('fuzz: x86 vector lines', () => {
  it(`parse never throws on hostile lines and reports an escaped-safe issue (${PARSE_RUNS} cases)`, () => {
    fc.assert(
      fc.property(hostileLine, (line) => {
        const parsed = x86VectorEngine.parse(line);
        if (!parsed.ok) expect(typeof parsed.issue.field).toBe('string');
      }),
      { numRuns: PARSE_RUNS },
    );
  }, 300_000);

  it(`parse never throws and a parsed vector always runs (${RUN_RUNS} cases)`, () => {
    fc.assert(
      fc.property(hostileLine, (line) => {
        const parsed = x86VectorEngine.parse(line);
        if (!parsed.ok) {
          expect(typeof parsed.issue.message).toBe('string');
          return;
        }
        const output = x86VectorEngine.run(parsed.vector);
        expect(typeof output).toBe('object');
      }),
      { numRuns: RUN_RUNS },
    );
  }, 300_000);

  it(`pkeysim check on generated files exits 0, 1 or 2 with no stack trace and a bounded error list (${CLI_RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileLine, { maxLength: 40 }), fc.boolean(), async (lines, expectFlag) => {
        const run = await runCli(expectFlag ? ['check', '--expect', '-'] : ['check', '-'], { stdin: lines.join('\n') });
        expect([0, 1, 2]).toContain(run.code);
        expect(run.stderr).not.toMatch(STACK_FRAME);
        expect(run.stderr).not.toContain(String.fromCharCode(0x1b));
        expect(run.stderr.split('\n').length).toBeLessThanOrEqual(22 + (expectFlag ? 10 * lines.length : 0));
      }),
      { numRuns: CLI_RUNS },
    );
  }, 300_000);
});
