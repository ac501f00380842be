import { describe, expect, it } from 'vitest';
import { formatTestResult, PKS_TESTS, PksTestModule, runInterruptInWindow, runPksSelftest } from '../src';
import { boot, bootWithoutSupervisorSpace } from './helpers';

describe("the series' test module (lib/pks/pks_test.c)", () => {
  it.each([1, 2, 4])('passes every test on the default machine with %i CPU(s)', (cpus) => {
    const results = runPksSelftest(boot({ cpus }));
    expect(results.map((r) => r.number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 9]);
    for (const r of results) expect(formatTestResult(r)).toMatch(/^\[OK\] /);
  });

  it('passes with the static key design (key exhaustion is SKIP: there is no allocator)', () => {
    const results = runPksSelftest(boot({ keyDesign: 'static' }));
    expect(results.filter((r) => r.status !== 'OK').map(formatTestResult)).toEqual([
      '[SKIP] 7 KEY_EXHAUSTION: static key design: no allocator to exhaust',
    ]);
  });

  it.each([
    ['a CPU without PKS', () => boot({ features: { supervisorDomains: false } })],
    ['an architecture without supervisor keys', () => bootWithoutSupervisorSpace()],
  ])('reports every test SKIP, as unsupported, on %s', (_label, make) => {
    const results = runPksSelftest(make());
    expect(results).toHaveLength(PKS_TESTS.length);
    for (const r of results) {
      expect(r.status).toBe('SKIP');
      expect(r.detail).toMatch(/not supported.*-EOPNOTSUPP/);
    }
  });

  it('reports unknown test numbers as SKIP', () => {
    expect(new PksTestModule(boot()).run(8)).toEqual({
      number: 8,
      name: 'UNKNOWN',
      status: 'SKIP',
      detail: 'no test number 8',
    });
  });

  it('fails CHECK_CTX_SWITCH when no context was armed', () => {
    const result = new PksTestModule(boot()).run(3);
    expect(result.status).toBe('FAIL');
    expect(result.detail).toMatch(/no context armed/);
  });

  it('RUN_CRASH_TEST leaves an oops in the log and the rest of the kernel running', () => {
    const kernel = boot();
    const module = new PksTestModule(kernel);
    expect(module.run(9).status).toBe('OK');
    expect(kernel.log.lines().some((l) => l.startsWith('Oops: CPU: 0'))).toBe(true);
    expect(kernel.panic).toBeUndefined();
    expect(module.run(1).status).toBe('OK');
  });

  it('in legacy RFC V1 entry mode, the tests that rely on the auxiliary area fail', () => {
    const results = runPksSelftest(boot({ entryMode: 'legacy-rfc-v1' }));
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(results.filter((r) => r.status === 'FAIL').map((r) => r.name)).toEqual([
      'RUN_SINGLE',
      'RUN_EXCEPTION',
      'RUN_EXCEPTION_UPDATE',
      'RUN_ALL_KEYS',
    ]);
    // No auxiliary area: the callback cannot open the key in the saved context, so the fault oopses.
    expect(byName.RUN_SINGLE.detail).toMatch(/oopsed: the fault callback of key \d+ did not handle it/);
    // The handler runs with the interrupted thread's WD instead of PKS_INIT_VALUE.
    expect(byName.RUN_EXCEPTION.detail).toMatch(/the handler runs with 0x55555558, not PKS_INIT_VALUE/);
    expect(byName.CHECK_CTX_SWITCH.status).toBe('OK');
  });
});

describe('an interrupt inside an access window', () => {
  it("corrupts the interrupted thread's rights in legacy RFC V1 mode: its next write oopses", () => {
    const result = runInterruptInWindow(boot({ entryMode: 'legacy-rfc-v1' }));
    expect(result.corrupted).toBe(true);
    expect(result.before).toBe('0x55555550');
    expect(result.handlerStarted).toBe('0x55555550');
    expect(result.after).toBe('0x55555554');
    expect(result.oops).toMatchObject({
      severity: 'oops',
      key: result.key,
      access: 'write',
      thread: { name: 'window_writer' },
    });
  });

  it("leaves the thread's window intact with the V9/V10 auxiliary area", () => {
    const result = runInterruptInWindow(boot());
    expect(result).toMatchObject({
      entryMode: 'aux-pt-regs',
      corrupted: false,
      before: '0x55555550',
      handlerStarted: '0x55555554',
      after: '0x55555550',
    });
    expect(result.oops).toBeUndefined();
  });

  it('refuses to run without supervisor keys', () => {
    expect(() => runInterruptInWindow(boot({ features: { supervisorDomains: false } }))).toThrow(
      /needs supervisor keys/,
    );
  });
});
