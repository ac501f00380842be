import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { JSON_SCHEMA_FILE, OP_NAMES, scenarioJsonSchemaText } from '../src';

const file = resolve(import.meta.dirname, '..', JSON_SCHEMA_FILE);

describe('the published JSON Schema', () => {
  it(`${JSON_SCHEMA_FILE} is generated from the zod schema and up to date (UPDATE_SCHEMA=1 rewrites it)`, () => {
    const generated = scenarioJsonSchemaText();
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(file, generated);
    expect(readFileSync(file, 'utf8')).toBe(generated);
  });

  it('lists every op', () => {
    const text = readFileSync(file, 'utf8');
    for (const op of OP_NAMES) expect(text).toContain(`"const": "${op}"`);
  });

  it('every example names it for editors', () => {
    const examples = resolve(import.meta.dirname, '../../../examples');
    for (const name of readdirSync(examples).filter((f) => f.endsWith('.yaml'))) {
      const text = readFileSync(resolve(examples, name), 'utf8');
      expect(text.split('\n')[0], name).toBe(
        '# yaml-language-server: $schema=../packages/scenario/schema/scenario.schema.json',
      );
      expect(parse(text)).toBeTypeOf('object');
    }
  });
});
