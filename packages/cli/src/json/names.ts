/**
 * The `schema` field of every `--json` output: which document it is and its version. A version
 * changes when a field is removed or changes meaning; adding a field is not a new version. The
 * definitions are in ./documents.ts and the JSON Schemas generated from them in packages/cli/schemas/.
 * Kept free of zod so that printing output does not load the validator.
 */
export const SCHEMA = {
  campaign: 'pkeysim.campaign/1',
  check: 'pkeysim.check/1',
  demo: 'pkeysim.demo/1',
  keys: 'pkeysim.keys/1',
  plugins: 'pkeysim.plugins/1',
  replay: 'pkeysim.replay/1',
  run: 'pkeysim.run/1',
  selftestPks: 'pkeysim.selftest-pks/1',
  selftestPkeys: 'pkeysim.selftest-pkeys/1',
} as const;
