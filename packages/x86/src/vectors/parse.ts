import type { z } from 'zod';
import { accessVectorSchema, insnVectorSchema, type X86Vector } from './schema';

/** Why a vector line was rejected: the first offending field and the validation message. */
export interface VectorIssue {
  /** The offending field, e.g. "page.pkey", "(json)" for a line that is not JSON, "(root)". */
  field: string;
  message: string;
}

/** The result of parsing one vector line: the vector, or the issue that rejected it. */
export type ParsedVector = { ok: true; vector: X86Vector } | { ok: false; issue: VectorIssue };

function firstIssue(error: z.ZodError): VectorIssue {
  const issue = error.issues[0];
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    return {
      field: [...path, keys[0]].join('.'),
      message: `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`,
    };
  }
  return { field: path.length > 0 ? path.join('.') : '(root)', message: issue.message };
}

/** Parse and validate one JSONL line of the vector format. Never throws. */
export function parseVector(line: string): ParsedVector {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { ok: false, issue: { field: '(json)', message: `not valid JSON: ${(error as Error).message}` } };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, issue: { field: '(root)', message: 'a vector must be a JSON object' } };
  }
  const kind = (json as { kind?: unknown }).kind;
  if (kind !== undefined && kind !== 'insn' && kind !== 'access') {
    return {
      ok: false,
      issue: { field: 'kind', message: `unknown kind ${JSON.stringify(kind)} (expected "insn" or absent)` },
    };
  }
  const result = kind === 'insn' ? insnVectorSchema.safeParse(json) : accessVectorSchema.safeParse(json);
  return result.success ? { ok: true, vector: result.data } : { ok: false, issue: firstIssue(result.error) };
}
