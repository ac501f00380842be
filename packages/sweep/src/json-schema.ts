import { z } from 'zod';
import { SweepSpec } from './spec';

/** Where the published schema lives, relative to the package root. */
export const SWEEP_SCHEMA_FILE = 'schema/sweep.schema.json';

/** The JSON Schema of sweep files, generated from the zod schema (names are checked by the loader). */
export function sweepJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(SweepSpec, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return {
    ...schema,
    $id: 'https://pkeysim.dev/schema/sweep.schema.json',
    title: 'pkeysim sweep',
    description:
      'A pkeysim sweep: the axes of a study (campaigns, schemes, protection, modes, CPUs, cost models, cost parameters, seeds); every combination is one point.',
  };
}

/** The file's exact text: two-space JSON with a final newline. */
export function sweepJsonSchemaText(): string {
  return JSON.stringify(sweepJsonSchema(), null, 2) + '\n';
}
