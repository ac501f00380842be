import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { JSON_DOCUMENTS, jsonSchemaText } from '../src/json/documents';
import { SCHEMA } from '../src/json/names';
import { jsonCommands, replayInputs } from './printing-commands';
import { runCli } from './run-cli';

const SCHEMAS_DIR = join(import.meta.dirname, '..', 'schemas');
const inputs = replayInputs();
afterAll(() => rmSync(inputs.dir, { recursive: true, force: true }));

/** Output documented as JSON Lines: every line is one document; everything else is one document. */
const JSON_LINES = new Set(['check', 'run']);

describe('JSON Schemas under packages/cli/schemas', () => {
  const names = Object.keys(JSON_DOCUMENTS) as (keyof typeof JSON_DOCUMENTS)[];

  it.each(names)('%s.schema.json is what the zod definition generates (npm run schemas rewrites it)', (name) => {
    const path = join(SCHEMAS_DIR, `${name}.schema.json`);
    if (process.env.UPDATE_SCHEMAS) writeFileSync(path, jsonSchemaText(name));
    expect(readFileSync(path, 'utf8')).toBe(jsonSchemaText(name));
  });

  it('has a schema file for every definition and nothing else', () => {
    expect(readdirSync(SCHEMAS_DIR).sort()).toEqual(names.map((n) => `${n}.schema.json`).sort());
  });

  it('every schema pins its document name and version in the schema field', () => {
    const pinned = names.map((name) => {
      const schema = JSON.parse(readFileSync(join(SCHEMAS_DIR, `${name}.schema.json`), 'utf8')) as {
        properties?: { schema: { const: string } };
        oneOf?: { properties: { schema: { const: string } } }[];
      };
      const variants = schema.oneOf ?? [schema as { properties: { schema: { const: string } } }];
      return [...new Set(variants.map((v) => v.properties.schema.const))];
    });
    expect(pinned.flat().sort()).toEqual(Object.values(SCHEMA).sort());
  });
});

describe('every --json output validates against its definition', () => {
  const cases = Object.entries(jsonCommands(inputs)).flatMap(([name, runs]) =>
    runs.map((args) => [name, args] as const),
  );

  it.each(cases)('%s: pkeysim %j', { timeout: 60_000 }, async (name, args) => {
    const run = await runCli([...args]);
    expect([0, 1]).toContain(run.code);
    const definition: z.ZodType = JSON_DOCUMENTS[name as keyof typeof JSON_DOCUMENTS];
    if (JSON_LINES.has(name)) {
      expect(run.lines.length).toBeGreaterThan(1);
      for (const line of run.lines) definition.parse(JSON.parse(line));
    } else {
      // One document: the whole of stdout parses, with nothing before or after it.
      expect(run.lines).toHaveLength(1);
      definition.parse(JSON.parse(run.stdout));
    }
  });

  it('rejects output with a field the definition does not name, or a wrong schema version', () => {
    const keys = {
      schema: SCHEMA.keys,
      supported: false,
      design: 'dynamic',
      register: null,
      keys: 0,
      initValue: null,
      rows: [],
    };
    expect(JSON_DOCUMENTS.keys.safeParse(keys).success).toBe(true);
    expect(JSON_DOCUMENTS.keys.safeParse({ ...keys, extra: 1 }).success).toBe(false);
    expect(JSON_DOCUMENTS.keys.safeParse({ ...keys, schema: 'pkeysim.keys/2' }).success).toBe(false);
  });
});
