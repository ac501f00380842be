import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { OP_NAMES, parseScenario, runScenario, ScenarioError, USER_SPACE_OPS } from '../src';
import { OPS } from '../src/ops';

/** The ops the driver in run.ts runs itself: migrate (the scheduler) and the nesting ops (generators). */
const DRIVER_OPS = [
  'migrate',
  'interrupt',
  'nmi',
  'fork',
  'repeat',
  'signal',
  'sigaction',
  'clone',
  'set_fault_callback',
];

describe('the op table (src/ops/)', () => {
  it('every op the schema accepts is either a table op or one the driver runs, never both', () => {
    for (const name of OP_NAMES) expect(Object.hasOwn(OPS, name) !== DRIVER_OPS.includes(name), name).toBe(true);
    expect(OP_NAMES.length).toBe(Object.keys(OPS).length + DRIVER_OPS.length);
  });

  it('the user-space ops are the table ops marked userSpace, plus signal, sigaction and clone', () => {
    const marked = Object.entries(OPS)
      .filter(([, spec]) => (spec as { userSpace?: boolean }).userSpace)
      .map(([name]) => name);
    expect([...USER_SPACE_OPS].sort()).toEqual([...marked, 'signal', 'sigaction', 'clone'].sort());
  });

  it('an unknown op is refused with the file, line and field, before anything runs', () => {
    const text = 'threads:\n  - name: t\n    program:\n      - { op: yield }\n      - { op: pks_frobnicate }\n';
    expect(() => parseScenario(text, 'u.yaml')).toThrow(ScenarioError);
    expect(() => parseScenario(text, 'u.yaml')).toThrow(
      /^u\.yaml:5: threads\[0\]\.program\[1\]\.op: unknown op "pks_frobnicate"/,
    );
  });

  it("a table op's reference check runs at load time: an unbound key in a table op is refused with its field", () => {
    const text = 'threads:\n  - name: t\n    program:\n      - { op: free_key, key: nokey }\n';
    expect(() => parseScenario(text, 'r.yaml')).toThrow(
      /r\.yaml:4: threads\[0\]\.program\[0\]\.key: unknown key "nokey"/,
    );
  });

  it('a user-space table op in a kernel thread is bad input naming the op', () => {
    const loaded = parseScenario('threads:\n  - name: k\n    program:\n      - { op: mmap, as: m }\n', 'k.yaml');
    expect(() => runScenario(loaded)).toThrow(/k\.yaml:4: threads\[0\]\.program\[0\]\.op: mmap is a user-space op/);
  });
});

describe('exit in handlers', () => {
  it('is refused in an interrupt handler (it runs to completion) but allowed in a signal handler (exit(2) from the handler)', () => {
    const irq =
      'threads:\n  - name: t\n    program:\n      - op: interrupt\n        program:\n          - { op: exit }\n';
    expect(() => parseScenario(irq, 'i.yaml')).toThrow(
      /i\.yaml:6: threads\[0\]\.program\[0\]\.program\[0\]\.op: exit is not allowed/,
    );
    const sig =
      'threads:\n  - name: t\n    kind: task\n    program:\n      - op: sigaction\n        signo: SIGUSR1\n        handler:\n          - { op: exit }\n      - { op: raise, signo: SIGUSR1, expect: exited }\n      - { op: pkey_alloc, as: never }\nexpect: { threads: { t: finished } }\n';
    const result = runScenario(parseScenario(sig, 's.yaml'));
    expect(result.passed).toBe(true);
    // The thread ended in its handler: the op after raise never ran.
    expect(result.events.some((e) => e.type === 'op' && e.op === 'pkey_alloc')).toBe(false);
  });
});
