/**
 * How many cases a fuzz property runs: its CI count times PKEYSIM_FUZZ_RUNS (a whole-number
 * multiplier, default 1; nightly runs set e.g. PKEYSIM_FUZZ_RUNS=20). Property names print the count.
 */
export function fuzzRuns(ciCount: number): number {
  const raw = process.env.PKEYSIM_FUZZ_RUNS;
  const scale = raw && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : 1;
  return ciCount * scale;
}

/** A stack frame of a JavaScript stack trace. */
export const STACK_FRAME = /\n\s+at .+[:(]/;
