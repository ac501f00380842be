import { compareVector, parseVector, runVector, SAMPLE_VECTORS_PATH, type X86Vector } from '@pkeysim/x86/vectors';

/** Why a line is not a valid vector: the field at fault and what is wrong with it. */
export interface LineIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * What `pkeysim check` needs from an architecture's vector format. The x86 package provides the
 * only one today; the check loop is written against this so it stays architecture-neutral.
 */
export interface VectorEngine<V extends { readonly id: string }> {
  parse(line: string): { ok: true; vector: V } | { ok: false; issue: LineIssue };
  /** Build the machine state for the vector, execute it, and report the outcome as a JSON object. */
  run(vector: V): Record<string, unknown>;
  /** The differences between `output` and the vector's recorded result; empty when they agree. */
  compare(vector: V, output: Record<string, unknown>): string[];
  /** The bundled sample vectors, for `--sample`. */
  readonly samplePath: string;
}

export const x86VectorEngine: VectorEngine<X86Vector> = {
  parse: parseVector,
  run: runVector,
  compare: compareVector,
  samplePath: SAMPLE_VECTORS_PATH,
};
