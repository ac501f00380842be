/**
 * The rights a context holds, as a context switch or an exception entry saves and restores them:
 * a scheme-defined tuple of unsigned 32-bit register words. x86 PKS is `[PKRS]`, x86 PKU `[PKRU]`,
 * arm64 POE `[POR]`, POWER `[AMR hi, AMR lo, IAMR hi, IAMR lo]`; a scheme whose rights live in the
 * page tables saves nothing and uses `[]`. States are immutable values: every change makes a new one.
 */
export type RightsState = readonly number[];

/** True when the two rights states hold the same words in the same order. */
export function rightsStateEqual(a: RightsState, b: RightsState): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `0x55555554`, or words joined by `:` for multi-word states. */
export function formatRightsState(state: RightsState): string {
  if (state.length === 0) return '(none)';
  return state.map((w) => '0x' + (w >>> 0).toString(16).padStart(8, '0')).join(':');
}

/** Freeze a fresh copy of the words, each reduced to an unsigned 32-bit value. */
export function rightsState(...words: number[]): RightsState {
  // The rest array is this call's own: reduce it in place (every rights read makes one).
  for (let i = 0; i < words.length; i++) words[i] = words[i] >>> 0;
  return Object.freeze(words);
}
