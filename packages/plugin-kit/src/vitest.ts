// `@pkeysim/plugin-kit/vitest`: the conformance suite as vitest tests. The only entry point that
// loads vitest (an optional peer dependency), so nothing else in the kit needs a test framework.
import {
  CONFORMANCE_CHECKS,
  checkKnownFailures,
  runCheck,
  type ConformanceOptions,
  type MakeMachine,
} from '@pkeysim/plugin-kit/conformance';
import { describe, it } from 'vitest';

/**
 * The conformance suite as vitest tests: call it at the top level of a test file and it registers
 * `describe(name)` with one `it` per check. A check listed in `options.knownFailures` is registered
 * with `it.fails`, so it must keep failing (and the reason shows in the test name).
 */
export function describeConformance(name: string, make: MakeMachine, options: ConformanceOptions = {}): void {
  checkKnownFailures(options);
  describe(`${name}: protection plugin conformance`, () => {
    for (const check of CONFORMANCE_CHECKS) {
      const known = options.knownFailures?.[check.id];
      const body = (): void => {
        const message = runCheck(check, make, options);
        if (message !== undefined) throw new Error(`${check.id}: ${message}`);
      };
      if (known !== undefined) it.fails(`${check.title} [known deviation: ${known}]`, body);
      else it(check.title, body);
    }
  });
}
