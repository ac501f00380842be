/**
 * The exit codes every pkeysim command uses. Scripts and CI rely on them, so they are part of the
 * public interface: change them only with a major version.
 */
export const ExitCode = {
  /** Everything ran and every check passed. */
  Success: 0,
  /** A check or assertion failed (e.g. `check --expect` found a mismatch). */
  Failed: 1,
  /**
   * The report could not be written to stdout or the `-o` file (disk full, I/O error); one line on
   * stderr names the destination and the error. Shares 1 with {@link ExitCode.Failed}, as write
   * errors do in the GNU tools: the run did not deliver what it promised. A closed pipe (EPIPE,
   * `| head`) is not a failure.
   */
  WriteFailed: 1,
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
