import { describe, expect, it } from 'vitest';
import { formatTestResult, PKS_TEST_MODULES, PKS_VERSIONS, runPksSeriesSelftest } from '../src';
import { boot } from './helpers';

const statuses = (results: readonly { number: number; name: string; status: string }[]) =>
  results.map((r) => `${r.status} ${r.number} ${r.name}`);

describe("each posting's own test module (lib/pks/pks_test.c)", () => {
  it('V10 lib/pks/pks_test.c: CHECK_DEFAULTS .. RUN_CRASH_TEST pass on V8, V9 and V10 kernels', () => {
    for (const v of ['v8', 'v9', 'v10'] as const) {
      const results = runPksSeriesSelftest(boot({ pksVersion: v }));
      expect(statuses(results)).toEqual([
        'OK 0 CHECK_DEFAULTS',
        'OK 1 RUN_SINGLE',
        'OK 2 ARM_CTX_SWITCH',
        'OK 3 CHECK_CTX_SWITCH',
        'OK 4 RUN_EXCEPTION',
        'OK 5 RUN_EXCEPTION_UPDATE',
        'OK 6 RUN_ALL_KEYS',
        'OK 9 RUN_CRASH_TEST',
      ]);
      // V10 include/linux/pks-keys.h: PKS_INIT_VALUE 0x55555554; PKS_KEY_TEST is key 2 (after PGMAP).
      expect(results[0].detail).toContain('0x55555554');
      expect(results[1].detail).toMatch(/^4 accesses on a page with key 2/);
    }
  });

  it('V7 lib/pks/pks_test.c: RUN_DISABLE_TEST (pks_abandon_protections), also after a reschedule', () => {
    const results = runPksSeriesSelftest(boot({ pksVersion: 'v7' }));
    expect(statuses(results)).toEqual([
      'OK 0 RUN_ALLOCATE',
      'OK 1 ARM_CTX_SWITCH',
      'OK 2 CHECK_CTX_SWITCH',
      'OK 3 RUN_ALLOCATE_ALL',
      'OK 4 RUN_ALLOCATE_DEBUG',
      'OK 5 RUN_ALLOCATE_ALL_DEBUG',
      'OK 6 RUN_DISABLE_TEST',
      'OK 9 RUN_CRASH_TEST',
    ]);
    expect(results[6].detail).toMatch(/^12 accesses \(6 modes, with and without a reschedule\)/);
    // The mask was reset after the test, so the crash test still oopses.
    expect(results[7].detail).toMatch(/oopsed/);
  });

  it.each(['v2', 'v3', 'v4', 'v5', 'v6'] as const)(
    'V6 lib/pks/pks_test.c: RUN_ALLOCATE (with the WD rows) .. RUN_CRASH_TEST pass on %s, allocating all 15 keys',
    (v) => {
      const results = runPksSeriesSelftest(boot({ pksVersion: v }));
      expect(results.map((r) => r.status)).toEqual(Array(7).fill('OK'));
      expect(results.map((r) => r.number)).toEqual([0, 1, 2, 3, 4, 5, 9]);
      expect(results[0].detail).toMatch(/^6 accesses .* WD write faults and read does not$/);
      expect(results[3].detail).toMatch(/^15 keys/);
    },
  );

  it("RFC lib/pks/pks_test.c (2020): passes under RFC V1's entry code, its callback fixing the live register", () => {
    const kernel = boot({ pksVersion: 'rfc' });
    expect(kernel.config.entryMode).toBe('legacy-rfc-v1');
    const results = runPksSeriesSelftest(kernel);
    expect(results.map(formatTestResult).filter((l) => !l.startsWith('[OK]'))).toEqual([]);
    expect(results[0].detail).toContain('(the callback opened the live register)');
  });

  it("V10's module under RFC V1 entry code fails where pks_update_exception is needed (what the RFC could not do)", () => {
    const results = runPksSeriesSelftest(boot({ pksVersion: 'v10', entryMode: 'legacy-rfc-v1' }));
    expect(results.filter((r) => r.status === 'FAIL').map((r) => r.name)).toEqual([
      'RUN_SINGLE',
      'RUN_EXCEPTION',
      'RUN_EXCEPTION_UPDATE',
      'RUN_ALL_KEYS',
    ]);
  });

  it('RFC: without PKS every case is SKIP, pks_key_alloc answering -EINVAL as the RFC did', () => {
    const results = runPksSeriesSelftest(boot({ pksVersion: 'rfc', features: { supervisorDomains: false } }));
    for (const r of results) expect(r.detail).toMatch(/pks_key_alloc returns -EINVAL/);
    expect(results.every((r) => r.status === 'SKIP')).toBe(true);
  });

  it('names a source for every case of every module, and runs the kernel version by default', () => {
    for (const cases of Object.values(PKS_TEST_MODULES))
      for (const c of cases) expect(c.source).toMatch(/^(RFC|V\d+) lib\/pks\/pks_test\.c/);
    expect(PKS_VERSIONS).toContain('v10');
    expect(runPksSeriesSelftest(boot({ keyDesign: 'static' })).map((r) => r.name)).toContain('CHECK_DEFAULTS');
  });
});
