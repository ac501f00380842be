// `@pkeysim/plugin-kit/conformance`: the conformance suite without a test framework. It needs
// fast-check (the property checks) but never vitest; the vitest binding is `@pkeysim/plugin-kit/vitest`.
export { CONFORMANCE_CHECKS, type ConformanceCheck } from './checks';
export type { ConformanceFailure, ConformanceOptions, MakeMachine } from './options';
export { checkConformance, checkKnownFailures, formatConformanceFailures, runCheck } from './run';
