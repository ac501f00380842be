import { z } from 'zod';
import { ScenarioSpec } from './schema';

/** Where the published schema lives, relative to the package root. */
export const JSON_SCHEMA_FILE = 'schema/scenario.schema.json';

/**
 * The JSON Schema of scenario files, generated from the zod schema (what a file may contain, so
 * editors can complete and check it). Sizes accept their string forms; references between names
 * are checked only by the loader.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ScenarioSpec, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return {
    ...schema,
    $id: 'https://pkeysim.dev/schema/scenario.schema.json',
    title: 'pkeysim scenario',
    description:
      'A pkeysim scenario: machine, kernel, keys, memory, threads and programs, injected faults, assertions and a seed.',
  };
}

/** The file's exact text: two-space JSON with a final newline. */
export function scenarioJsonSchemaText(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
}
