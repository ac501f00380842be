import '@pkeysim/x86';
import '@pkeysim/arm64-poe';
import '@pkeysim/power';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEvent, parseScenario, runScenario } from '../src';

const FILE = resolve(import.meta.dirname, '../../../examples/user-pkeys-every-arch.yaml');
const loaded = parseScenario(readFileSync(FILE, 'utf8'), 'examples/user-pkeys-every-arch.yaml');

/** The rights check_pkey saw, in program order (the op events' results). */
function checkedRights(arch: string): string[] {
  const result = runScenario(loaded, { arch });
  const why = result.failures.map((f) => `${f.line}: ${f.path}: ${f.message}`).join('\n');
  expect(result.passed, `${arch}:\n${why}\n${result.events.map(formatEvent).join('\n')}`).toBe(true);
  return result.events.flatMap((e) => (e.type === 'op' && e.op === 'check_pkey' ? [String(e.result)] : []));
}

describe('examples/user-pkeys-every-arch.yaml runs unchanged on every architecture with user keys', () => {
  it.each(['x86', 'arm64-poe'])(
    '%s: the handler starts with the key access-disabled; sigreturn restores ro',
    (arch) => {
      expect(checkedRights(arch)).toEqual(['none', 'ro']);
    },
  );

  it('power: the handler inherits the AMR and the rights it sets survive rt_sigreturn', () => {
    expect(checkedRights('power')).toEqual(['ro', 'rw']);
  });

  it('refuses an on: expectation for an architecture no plugin registers, naming the file, line and field', () => {
    const text = readFileSync(FILE, 'utf8').replace('on: { power: ro }', 'on: { powr: ro }');
    expect(() => runScenario(parseScenario(text, 'typo.yaml'))).toThrow(
      /typo\.yaml:\d+: threads\[0\]\.program\[6\]\.handler\[0\]\.on\.powr: no architecture plugin named "powr"/,
    );
  });

  it('fails with the per-architecture expectation named when a semantics differs from the file', () => {
    const text = readFileSync(FILE, 'utf8').replace('on: { power: ro }', 'on: { power: none }');
    const result = runScenario(parseScenario(text, 'edited.yaml'), { arch: 'power' });
    expect(result.passed).toBe(false);
    expect(result.failures[0].message).toMatch(/has ro on user key \d+ here, expected none on power/);
  });
});
