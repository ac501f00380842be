import '@pkeysim/x86';
import '@pkeysim/arm64-poe';
import '@pkeysim/power';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEvent, parseScenario, runScenario } from '../src';

const EXAMPLES = resolve(import.meta.dirname, '../../../examples');
const files = readdirSync(EXAMPLES)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();

describe('examples/', () => {
  it('holds a scenario for every situation in the reference material', () => {
    for (const name of [
      'pmem-stray-write',
      'global-kmap-leak',
      'rfc-v1-interrupt',
      'signal-pkru-policies',
      'key-exhaustion',
      'context-switch',
      'btrfs-debug-stray-write',
      'btrfs-debug-relaxed',
      'identity-map-protection',
    ]) {
      expect(
        files.some((f) => f.startsWith(name)),
        name,
      ).toBe(true);
    }
  });

  for (const file of files) {
    it(`${file}: runs and every assertion holds`, () => {
      const loaded = parseScenario(readFileSync(resolve(EXAMPLES, file), 'utf8'), `examples/${file}`);
      const result = runScenario(loaded);
      const why = result.failures.map((f) => `${file}:${f.line}: ${f.path}: ${f.message}`).join('\n');
      expect(result.passed, `${why}\n${result.events.map(formatEvent).join('\n')}`).toBe(true);
    });
  }
});
