import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyError, replayTrace, TraceFormatError } from '@pkeysim/trace';
import { fuzzRuns } from './fuzz-runs';

const address = fc.oneof(
  fc.nat().map((n) => `0x${n.toString(16)}`),
  fc.nat(),
  fc.constantFrom('16M', '4K', '0x' + 'f'.repeat(30), '-1', '1e400', 'NaN', 'toString', Infinity, -0.5),
);
const rights = fc.oneof(
  fc.constantFrom('rw', 'r', 'rwx', 'none', 'x', 'toString', '__proto__', ''),
  fc.string({ maxLength: 4 }),
);
const policy = fc.record(
  {
    maxDomains: fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constantFrom(1.5, 1e9, 'x')),
    domains: fc.array(
      fc.record(
        {
          name: fc.oneof(fc.constantFrom('a', 'b', 'default', 'toString', '\u001b[2J'), fc.string({ maxLength: 5 })),
          rights,
          ranges: fc.array(fc.record({ start: address, end: address, size: address }, { requiredKeys: ['start'] }), {
            maxLength: 3,
          }),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 4 },
    ),
    changes: fc.array(
      fc.oneof(
        fc.record({
          atAccess: fc.oneof(fc.nat(100), fc.constant(-1)),
          set: fc.dictionary(fc.constantFrom('a', 'b', 'toString'), rights),
        }),
        fc.record({ onFetch: address, set: fc.dictionary(fc.constantFrom('a', 'b'), rights) }),
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

/** Policy text: generated JSON, the same as YAML-ish flow text, spliced with junk, or junk. */
const policyText = fc.oneof(
  policy.map((p) => JSON.stringify(p)),
  policy.map((p) => `# yaml\n${JSON.stringify(p)}`),
  fc.tuple(policy, fc.nat(), fc.string({ maxLength: 4 })).map(([p, at, junk]) => {
    const text = JSON.stringify(p);
    const i = at % (text.length + 1);
    return text.slice(0, i) + junk + text.slice(i);
  }),
  fc.string({ maxLength: 60 }),
);

const lackeyLine = fc.oneof(
  fc
    .tuple(fc.constantFrom('I ', ' L', ' S', ' M'), fc.nat(), fc.integer({ min: 0, max: 64 }))
    .map(([k, a, s]) => `${k} ${a.toString(16)},${s}`),
  fc.constantFrom(
    '==123== valgrind',
    ' L ffffffffffffffffffffff,4',
    ' S 1000,',
    'I  zz,4',
    ' X 1000,4',
    '',
    ' L 1000,99999999999',
  ),
  fc.string({ maxLength: 20 }),
);

const POLICY_RUNS = fuzzRuns(15_000);
const TRACE_RUNS = fuzzRuns(30_000);
const FIXED = parsePolicy(
  JSON.stringify({
    domains: [{ name: 'a', rights: 'r', ranges: [{ start: '0x1000', size: '4K' }] }],
    changes: [{ atAccess: 3, set: { a: 'none' } }],
  }),
  'fixed.json',
);

describe('fuzz: policies and traces', () => {
  it(`parsePolicy throws nothing but PolicyError, with escaped one-line messages (${POLICY_RUNS} cases)`, () => {
    fc.assert(
      fc.property(policyText, (text) => {
        try {
          parsePolicy(text, 'fuzz.json');
        } catch (error) {
          if (!(error instanceof PolicyError)) throw error;
          expect(error.message).not.toMatch(/Maximum call stack/);
        }
      }),
      { numRuns: POLICY_RUNS },
    );
  }, 300_000);

  it(`replaying generated traces ends in a report or a TraceFormatError, in both malformed modes (${TRACE_RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(lackeyLine, { maxLength: 12 }), fc.boolean(), async (lines, skip) => {
        try {
          const report = await replayTrace([lines.join('\n')], FIXED, {
            malformed: skip ? 'skip' : 'error',
            firstFaults: 3,
          });
          expect(report.faults).toBeGreaterThanOrEqual(0);
        } catch (error) {
          if (skip || !(error instanceof TraceFormatError)) throw error;
        }
      }),
      { numRuns: TRACE_RUNS },
    );
  }, 300_000);
});
