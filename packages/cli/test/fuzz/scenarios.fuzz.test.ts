import '@pkeysim/x86';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, ScenarioError } from '@pkeysim/scenario';
import { runCli } from '../run-cli';
import { fuzzRuns, STACK_FRAME } from './fuzz-runs';

const name = fc.constantFrom('a', 'b', 'buf', 'k1', 'v', 't', 'c');
const key = fc.oneof(fc.integer({ min: 1, max: 15 }), fc.constantFrom('k1', 'k2'));
const rights = fc.constantFrom('rw', 'ro', 'none');

/** One op, valid by the schema (references may still be wrong, which the loader must report). */
const leafOp: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.constant({ op: 'yield' }),
  fc.record({ op: fc.constant('sleep'), rounds: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('alloc_key'), as: fc.constantFrom('k1', 'k2') }),
  fc.record({ op: fc.constant('free_key'), key }),
  fc.record({ op: fc.constant('set_rights'), key, rights }),
  fc.record({ op: fc.constant('check_rights'), key, rights }),
  fc.record({ op: fc.constant('set_key'), object: name, key }),
  fc.record({ op: fc.constant('open'), object: name }),
  fc.record({ op: fc.constant('close'), object: name }),
  fc.record({ op: fc.constant('access'), object: name, offset: fc.nat(5000), kind: fc.constantFrom('read', 'write') }),
  fc.record({ op: fc.constant('write'), object: name, text: fc.string({ maxLength: 4 }) }),
  fc.record({ op: fc.constant('migrate'), cpu: fc.nat(2) }),
  fc.record({ op: fc.constant('pkey_alloc'), as: fc.constantFrom('k1', 'k2') }),
  fc.record({ op: fc.constant('user_access'), object: name, kind: fc.constantFrom('read', 'write') }),
);
const program: fc.Arbitrary<Record<string, unknown>[]> = fc.letrec((tie) => ({
  ops: fc.array(fc.oneof({ weight: 5, arbitrary: leafOp }, { weight: 1, arbitrary: tie('nested') }), { maxLength: 5 }),
  nested: fc.oneof(
    fc.record({ op: fc.constant('repeat'), times: fc.integer({ min: 1, max: 3 }), program: tie('ops') }),
    fc.record({ op: fc.constant('interrupt'), program: tie('ops') }),
    fc.record({ op: fc.constant('fork'), name: fc.constantFrom('c1', 'c2'), program: tie('ops') }),
    fc.record({ op: fc.constant('signal'), handler: tie('ops') }),
  ),
})).ops as fc.Arbitrary<Record<string, unknown>[]>;

const scenario = fc.record({
  seed: fc.nat(1000),
  machine: fc.record({ cpus: fc.integer({ min: 1, max: 3 }) }),
  keys: fc.array(fc.record({ name: fc.constantFrom('k1', 'k2') }), { maxLength: 2 }),
  memory: fc.array(fc.record({ name, pages: fc.integer({ min: 1, max: 2 }) }), { maxLength: 3 }),
  threads: fc.array(fc.record({ name: fc.constantFrom('t', 'u'), kind: fc.constantFrom('kthread', 'task'), program }), {
    minLength: 1,
    maxLength: 2,
  }),
  schedule: fc.record({
    policy: fc.constantFrom('round-robin', 'random'),
    max_steps: fc.integer({ min: 1, max: 500 }),
  }),
});

const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    Infinity,
    -Infinity,
    NaN,
    1e308,
    -1,
    0.5,
    2 ** 53,
    'toString',
    '__proto__',
    '\u001b[2J',
    'x'.repeat(300),
  ),
);

/** Replace, remove or add one field somewhere in the document. */
function mutate(doc: unknown, path: number[], how: number, value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const step of path) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const next = node[keys[step % keys.length]];
    if (next === null || typeof next !== 'object') break;
    node = next as Record<string, unknown>;
  }
  const keys = Object.keys(node);
  const key = keys.length > 0 ? keys[how % keys.length] : 'x';
  if (how % 3 === 0) delete node[key];
  else if (how % 3 === 1) node[key] = value;
  else node[`extra${how}`] = value;
  return copy;
}

/** Scenario text: valid, mutated as data, or mutated as text; as JSON or YAML-flow-ish JSON. */
const scenarioText = fc.oneof(
  scenario.map((s) => JSON.stringify(s)),
  fc
    .tuple(scenario, fc.array(fc.nat(), { maxLength: 6 }), fc.nat(), hostileValue)
    .map(([s, path, how, value]) => JSON.stringify(mutate(s, path, how, value)) ?? ''),
  fc.tuple(scenario, fc.nat(), fc.string({ maxLength: 6 })).map(([s, at, junk]) => {
    const text = JSON.stringify(s);
    const i = at % (text.length + 1);
    return text.slice(0, i) + junk + text.slice(i);
  }),
  fc.string({ maxLength: 80 }),
);

const LIMITS = { steps: 2000, events: 5000 };
const LOAD_RUNS = fuzzRuns(10_000);
const RUN_RUNS = fuzzRuns(1_000);
const CLI_RUNS = fuzzRuns(200);

describe('fuzz: scenario files', () => {
  it(`loading generated and mutated scenarios throws nothing but ScenarioError (${LOAD_RUNS} cases)`, () => {
    fc.assert(
      fc.property(scenarioText, (text) => {
        try {
          parseScenario(text, 'fuzz.json', { limits: LIMITS });
        } catch (error) {
          if (!(error instanceof ScenarioError)) throw error;
          // No stack overflow, and no raw escape byte: messages show control bytes escaped.
          // eslint-disable-next-line no-control-regex
          for (const issue of error.issues) expect(issue.message).not.toMatch(/Maximum call stack|\u001b/);
        }
      }),
      { numRuns: LOAD_RUNS },
    );
  }, 300_000);

  it(`running every scenario that loads ends in a result or a ScenarioError, within its budget (${RUN_RUNS} cases)`, () => {
    fc.assert(
      fc.property(scenario, (s) => {
        let loaded;
        try {
          loaded = parseScenario(JSON.stringify(s), 'fuzz.json', { limits: LIMITS });
        } catch (error) {
          if (error instanceof ScenarioError) return;
          throw error;
        }
        try {
          const result = runScenario(loaded);
          expect(result.events.length).toBeLessThanOrEqual(LIMITS.events);
        } catch (error) {
          if (!(error instanceof ScenarioError)) throw error;
        }
      }),
      { numRuns: RUN_RUNS },
    );
  }, 300_000);

  it(`pkeysim run on generated files exits 0, 1 or 2 with no stack trace (${CLI_RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(scenarioText, async (text) => {
        const run = await runCli(['run', '-', '--max-steps', '2000', '--max-events', '5000'], { stdin: text });
        expect([0, 1, 2]).toContain(run.code);
        expect(run.stderr).not.toMatch(STACK_FRAME);
        expect(run.stderr).not.toMatch(/internal error|Maximum call stack/);
      }),
      { numRuns: CLI_RUNS },
    );
  }, 300_000);
});
