import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, ScenarioError } from '../src';

/** A task program with a kernel memory object `kbuf`, a user page `ubuf` and a kernel thread `k`. */
const file = (ops: string) => `
memory: [{ name: kbuf }]
threads:
  - name: t
    kind: task
    program:
      - { op: mmap, as: ubuf }
${ops}
  - name: k
    program:
      - { op: yield }
`;

/** What a run of the file ends in: a result (passed or not) or the first line of a ScenarioError. */
function outcome(text: string): string {
  try {
    const result = runScenario(parseScenario(text, 'm.yaml'));
    return result.passed ? 'passed' : `failed: ${result.failures[0].message}`;
  } catch (error) {
    if (error instanceof ScenarioError) return `error: ${error.message.split('\n')[0]}`;
    throw error;
  }
}

describe('the new ops used where they do not belong: a clear error naming the op, never a crash', () => {
  const cases: [string, string, RegExp][] = [
    [
      'pks_update_exception outside a fault callback',
      '      - { op: pks_update_exception, key: 1, rights: rw }',
      /program\[1\]\.op: pks_update_exception runs only in a fault callback/,
    ],
    [
      'set_saved_pkey outside a signal handler',
      '      - { op: set_saved_pkey, key: 1, rights: rw }',
      /program\[1\]\.op: set_saved_pkey runs only in a signal handler/,
    ],
    [
      'check_signal outside a signal handler',
      '      - { op: check_signal, signo: SIGSEGV }',
      /check_signal runs only in a signal handler/,
    ],
    [
      'ptrace of a kernel thread',
      '      - { op: ptrace_check_pkey, thread: k, key: 1, rights: rw }',
      /program\[1\]\.thread: "k" is not a user-space thread/,
    ],
    [
      'ptrace of a thread of the same process',
      '      - { op: ptrace_set_pkey, thread: t, key: 1, rights: rw }',
      /failed: ptrace_set_pkey: expected ok, got EPERM/,
    ],
    [
      'clone on a stack that is not user memory',
      '      - op: clone\n        name: c\n        stack: kbuf\n        program: []',
      /^(error|failed)/,
    ],
    [
      'a sigaltstack that is too small for a signal frame is the kernel answer',
      '      - { op: sigaltstack, object: ubuf, expect: ENOMEM }',
      /^(passed|failed)/,
    ],
    [
      'a fault callback on a key that is not allocated',
      '      - op: set_fault_callback\n        key: 9\n        program: []',
      /failed: set_fault_callback: expected ok, got EINVAL/,
    ],
  ];
  for (const [name, ops, wanted] of cases) {
    it(name, () => {
      expect(outcome(file(ops))).toMatch(wanted);
    });
  }
});
