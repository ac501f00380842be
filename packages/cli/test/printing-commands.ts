import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository's example scenarios (part of the repository, not of a shared fixture tree). */
export const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');

/** A lackey trace and a policy under which two of its accesses fault, in a fresh directory. */
export function replayInputs(): { dir: string; trace: string; policy: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pkeysim-output-'));
  const trace = join(dir, 'trace.lackey');
  const policy = join(dir, 'policy.json');
  writeFileSync(trace, ['I  00401000,4', ' L 1fff000ff8,8', ' S 1fff000ff0,8', ' S 00601000,8', ''].join('\n'));
  writeFileSync(
    policy,
    JSON.stringify({ domains: [{ name: 'stack', rights: 'r', ranges: [{ start: '0x1fff000000', size: '4K' }] }] }),
  );
  return { dir, trace, policy };
}

/**
 * One invocation of every command that prints a report, in its plain form (text or, for check,
 * JSON lines), plus the program's own help and version. Each completes with exit 0.
 */
export function printingCommands(inputs: { trace: string; policy: string }): Record<string, string[]> {
  return {
    help: ['--help'],
    version: ['--version'],
    check: ['check', '--sample', '--expect'],
    'selftest pks': ['selftest', 'pks'],
    'selftest pkeys': ['selftest', 'pkeys'],
    keys: ['keys'],
    replay: ['replay', inputs.trace, '--policy', inputs.policy],
    campaign: ['campaign', 'pmem', '--seed', '1'],
    run: ['run', join(EXAMPLES, 'context-switch.yaml')],
    demo: ['demo', '--runs', '1'],
    plugins: ['plugins'],
    examples: ['examples'],
  };
}

/** Every `--json` output, by the name of its schema file (schemas/<name>.schema.json). */
export function jsonCommands(inputs: { trace: string; policy: string }): Record<string, string[][]> {
  return {
    campaign: [
      ['campaign', 'pmem', '--seed', '1', '--json'],
      ['campaign', 'pgtable', '--seed', '2', '--protection', 'off', '--json'],
      ['campaign', 'ro-at-rest', '--seed', '3', '--json'],
    ],
    check: [['check', '--sample', '--expect', '--json']],
    demo: [['demo', '--runs', '1', '--json']],
    keys: [
      ['keys', '--json'],
      ['keys', '--design', 'static', '--json'],
      ['keys', '--no-pks', '--json'],
    ],
    plugins: [['plugins', '--json']],
    replay: [
      ['replay', inputs.trace, '--policy', inputs.policy, '--json'],
      ['replay', inputs.trace, '--policy', inputs.policy, '--json', '--first', '0'],
    ],
    run: [
      ['run', join(EXAMPLES, 'context-switch.yaml'), '--json'],
      ['run', join(EXAMPLES, 'rfc-v1-interrupt.yaml'), '--json'],
      ['run', join(EXAMPLES, 'signal-pkru-policies.yaml'), '--json'],
      ['run', join(EXAMPLES, 'pmem-stray-write.yaml'), '--json'],
    ],
    'selftest-pks': [
      ['selftest', 'pks', '--json'],
      ['selftest', 'pks', '--no-pks', '--json'],
      ['selftest', 'pks', '--entry', 'legacy-rfc-v1', '--json'],
    ],
    'selftest-pkeys': [
      ['selftest', 'pkeys', '--json'],
      ['selftest', 'pkeys', '--no-pku', '--json'],
      ['selftest', 'pkeys', '--signal-policy', 'pre-2024', '--json'],
    ],
  };
}
