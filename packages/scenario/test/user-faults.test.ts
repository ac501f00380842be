import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { formatEvent, parseScenario, runScenario } from '../src';

const run = (text: string) => {
  const result = runScenario(parseScenario(text, 'u.yaml'));
  return { result, log: () => result.events.map(formatEvent).join('\n') };
};

/** A page mapped (mmap) but never touched, tagged with a key that denies access. */
const UNTOUCHED = (after: string, expectSection: string) => `
machine: { cpus: 1 }
threads:
  - name: t
    kind: task
    program:
      - { op: mmap, as: buf }
      - { op: pkey_alloc, as: k, rights: none }
      - { op: pkey_mprotect, object: buf, key: k }
${after}
expect:
${expectSection}
`;

describe('user faults on pages not yet mapped in (issue 14 item 2)', () => {
  it('a SEGV_PKUERR on an untouched page reaches the handler: expect handled, one counted fault with its key', () => {
    const { result, log } = run(
      UNTOUCHED(
        `      - op: sigaction
        signo: SIGSEGV
        handler:
          - { op: check_signal, signo: SIGSEGV, code: SEGV_PKUERR, key: k, saved_key: k, saved_rights: none }
          - { op: set_saved_pkey, key: k, rights: rw }
      - { op: user_access, object: buf, kind: read, expect: handled }`,
        '  faults: [{ thread: t, key: k, access: read, outcome: handled, count: 1 }]\n  fault_count: 1',
      ),
    );
    expect(result.passed, log()).toBe(true);
    // The retry after the handler is demand paging: logged as handled, not counted.
    expect(result.events.filter((e) => e.type === 'fault').length).toBeGreaterThan(1);
  });

  it('without a handler the process is killed and the fault is reported as killed', () => {
    const { result, log } = run(
      UNTOUCHED(
        '      - { op: user_access, object: buf, kind: write, expect: killed }',
        '  faults: [{ thread: t, key: k, access: write, outcome: killed, count: 1 }]\n  threads: { t: killed }',
      ),
    );
    expect(result.passed, log()).toBe(true);
  });

  it('a first touch the key allows is still demand paging: no fault counted', () => {
    const text = `
threads:
  - name: t
    kind: task
    program:
      - { op: mmap, as: buf }
      - { op: user_access, object: buf, kind: write, expect: ok }
expect: { fault_count: 0 }
`;
    const { result, log } = run(text);
    expect(result.passed, log()).toBe(true);
    expect(result.events.some((e) => e.type === 'fault' && e.outcome === 'handled')).toBe(true);
  });
});

describe('signal handlers run in the receiving thread', () => {
  it('a handler installed by a thread that has exited still runs when another thread of the process takes the signal', () => {
    const text = `
machine: { cpus: 1 }
threads:
  - name: main
    kind: task
    program:
      - op: sigaction
        signo: SIGUSR2
        handler:
          - { op: check_signal, signo: SIGUSR1 }
      - { op: mmap, as: stack, pages: 4 }
      - op: clone
        name: worker
        stack: stack
        program:
          - { op: raise, signo: SIGUSR2, expect: ok }
`;
    const { result, log } = run(text);
    // The handler's check names the wrong signal on purpose: it must run (and fail) in worker.
    expect(
      result.failures.map((f) => f.message),
      log(),
    ).toEqual(['the handler got signal 12, expected SIGUSR1']);
  });
});
