/**
 * The exit codes every pkeysim command uses. Scripts and CI rely on them, so they are part of the
 * public interface: change them only with a major version.
 */
export const ExitCode = {
  /** Everything ran and every check passed. */
  Success: 0,
  /** A check or assertion failed (e.g. `check --expect` found a mismatch). */
  Failed: 1,
  /** Bad input: a usage error, an unreadable file or malformed lines. Wins over {@link ExitCode.Failed}. */
  BadInput: 2,
  /** A bug in pkeysim itself (an unexpected exception). */
  Internal: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The code to report when several outcomes happened in one run: bad input beats a failed check,
 * which beats success; an internal error beats everything.
 */
export function worstExitCode(a: ExitCode, b: ExitCode): ExitCode {
  return Math.max(a, b) as ExitCode;
}
