import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, ScenarioError } from '../src';

/** What a run of the file ends in: a result (passed or not) or the first line of a ScenarioError. */
function outcome(text: string): string {
  try {
    const result = runScenario(parseScenario(text, 's.yaml'));
    return result.passed ? 'passed' : `failed: ${result.failures[0].message}`;
  } catch (error) {
    if (error instanceof ScenarioError) return `error: ${error.message.split('\n')[0]}`;
    throw error;
  }
}

/** A V10-style exception test: a write to a write-disabled page, and a callback running `callback`. */
const exception = (kernel: string, callback: string) => `
kernel: ${kernel}
keys: [{ name: test, owner: PKS_KEY_TEST }]
memory: [{ name: page }]
threads:
  - name: t
    program:
      - { op: map, object: page, as: view, key: test }
      - { op: set_rights, key: test, rights: ro }
      - op: set_fault_callback
        key: test
        program:
${callback}
          - { op: set_rights, key: test, rights: rw }
      - { op: write, object: view, bytes: [1], expect: handled }
`;

/** One thread calling pks_abandon_protections on `key` under `kernel`. */
const abandon = (kernel: string, key: string, expectation: string) => `
kernel: ${kernel}
keys: [{ name: test, owner: PKS_KEY_TEST }]
threads:
  - name: t
    program:
      - { op: pks_abandon_protections, key: ${key}${expectation} }
`;

describe('check_saved_rights: the rights in the faulting frame’s auxiliary pt_regs area', () => {
  it('is refused outside a fault callback, naming the op', () => {
    const file = exception('{ pks_version: v10 }', '').replace(
      '      - { op: write,',
      '      - { op: check_saved_rights, key: test, rights: ro }\n      - { op: write,',
    );
    expect(outcome(file)).toMatch(/program\[3\]\.op: check_saved_rights runs only in a fault callback/);
  });

  it('fails where the entry code saves no rights (RFC V1 entry mode), saying so', () => {
    const file = exception(
      '{ key_design: static, entry_mode: legacy-rfc-v1 }',
      '          - { op: check_saved_rights, key: test, rights: ro }\n          - { op: pks_update_exception, key: test, rights: rw }',
    );
    expect(outcome(file)).toMatch(/failed: the faulting frame has no auxiliary pt_regs area/);
  });

  it('reports the saved rights it found when they differ', () => {
    const file = exception(
      '{ pks_version: v10 }',
      '          - { op: check_saved_rights, key: test, rights: none }\n          - { op: pks_update_exception, key: test, rights: rw }',
    );
    expect(outcome(file)).toMatch(/failed: the faulting context saved ro on key \d+, expected none/);
  });
});

describe('pks_abandon_protections: the kernel’s answer decides (V7 only)', () => {
  it('is EOPNOTSUPP outside V7', () => {
    expect(outcome(abandon('{ pks_version: v10 }', 'test', ', expect: EOPNOTSUPP'))).toBe('passed');
    expect(outcome(abandon('{ pks_version: v10 }', 'test', ''))).toMatch(/expected ok, got EOPNOTSUPP/);
  });

  it('is EINVAL in V7 for a key that is not in use', () => {
    expect(outcome(abandon('{ pks_version: v7 }', '9', ', expect: EINVAL'))).toBe('passed');
  });

  it('succeeds in V7 for the test key', () => {
    expect(outcome(abandon('{ pks_version: v7 }', 'test', ''))).toBe('passed');
  });
});
