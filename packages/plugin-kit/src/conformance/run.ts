import { CONFORMANCE_CHECKS, type ConformanceCheck } from './checks';
import type { ConformanceFailure, ConformanceOptions, MakeMachine } from './options';

/** Run one check: undefined when it behaves as expected, else why not. */
export function runCheck(
  check: ConformanceCheck,
  make: MakeMachine,
  options: ConformanceOptions = {},
): string | undefined {
  try {
    check.run(make, options);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Refuse a knownFailures list that names checks that do not exist (a typo would hide nothing). */
export function checkKnownFailures(options: ConformanceOptions): void {
  for (const id of Object.keys(options.knownFailures ?? {})) {
    if (!CONFORMANCE_CHECKS.some((c) => c.id === id)) {
      const known = CONFORMANCE_CHECKS.map((c) => c.id).join(', ');
      throw new RangeError(`knownFailures names "${id}", which is not a conformance check (checks: ${known})`);
    }
  }
}

/**
 * The conformance suite without a test framework: run every check against fresh machines from
 * `make` and return the failures (empty when the plugin conforms). A check listed in
 * `options.knownFailures` that fails is returned with `expected: true`; one that passes is returned
 * as a failure of its own, so a fixed plugin gets its list updated.
 */
export function checkConformance(make: MakeMachine, options: ConformanceOptions = {}): ConformanceFailure[] {
  checkKnownFailures(options);
  const failures: ConformanceFailure[] = [];
  for (const check of CONFORMANCE_CHECKS) {
    const known = options.knownFailures?.[check.id];
    const message = runCheck(check, make, options);
    if (message !== undefined) {
      failures.push({ check: check.id, title: check.title, message, expected: known !== undefined, known });
    } else if (known !== undefined) {
      failures.push({
        check: check.id,
        title: check.title,
        message: `listed as a known failure (${known}) but it passes: remove it from knownFailures`,
        expected: false,
      });
    }
  }
  return failures;
}

/** One line per failure, for logs and CLIs. */
export function formatConformanceFailures(failures: readonly ConformanceFailure[]): string[] {
  return failures.map((f) => `${f.expected ? '[KNOWN]' : '[FAIL]'} ${f.check}: ${f.message}`);
}
