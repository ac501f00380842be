import '@pkeysim/x86';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEvent, parseScenario, runScenario } from '../src';

const DIR = resolve(import.meta.dirname, '../../../examples/selftests');
const files = readdirSync(DIR)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();

describe('examples/selftests/: the Linux selftest cases as scenario files', () => {
  it('holds cases of protection_keys.c, pkey_sighandler_tests.c and the V10 PKS test module', () => {
    for (const suite of ['protection_keys.', 'pkey_sighandler_tests.', 'test_pks.'])
      expect(
        files.some((f) => f.startsWith(suite)),
        suite,
      ).toBe(true);
  });

  for (const file of files) {
    it(`${file}: passes under its signal policy`, () => {
      const text = readFileSync(resolve(DIR, file), 'utf8');
      expect(text.split('\n')[0]).toBe(
        '# yaml-language-server: $schema=../../packages/scenario/schema/scenario.schema.json',
      );
      const result = runScenario(parseScenario(text, `examples/selftests/${file}`));
      const why = result.failures.map((f) => `${file}:${f.line}: ${f.path}: ${f.message}`).join('\n');
      expect(result.passed, `${why}\n${result.events.map(formatEvent).join('\n')}`).toBe(true);
    });
  }
});
