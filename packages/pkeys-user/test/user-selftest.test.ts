import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { formatTestResult } from '@pkeysim/kernel';
import { PKEYS_TESTS, runPkeysSelftest, runPkeysTest } from '../src';

const SIGALTSTACK_CASES = [
  'test_sigsegv_handler_with_pkey0_disabled',
  'test_sigsegv_handler_cannot_access_stack',
  'test_sigsegv_handler_with_different_pkey_for_stack',
  'test_pkru_sigreturn',
  'pkeysim_nested_signals_on_pkey_protected_sigaltstack',
];

describe('pkeys selftest', () => {
  it('passes every case under the mainline policy (the unsupported-CPU case is SKIP with PKU)', () => {
    const results = runPkeysSelftest();
    expect(results).toHaveLength(PKEYS_TESTS.length);
    const bad = results.filter((r) => r.status === 'FAIL').map(formatTestResult);
    expect(bad).toEqual([]);
    expect(results.filter((r) => r.status === 'SKIP').map((r) => r.name)).toEqual([
      'test_mprotect_pkey_on_unsupported_cpu',
    ]);
  });

  it('under pre-2024 the protected-sigaltstack cases fail as real kernels did: the frame write faults and SIGSEGV kills', () => {
    const results = runPkeysSelftest({ signalPolicy: 'pre-2024' });
    const failed = results.filter((r) => r.status === 'FAIL');
    expect(failed.map((r) => r.name)).toEqual(SIGALTSTACK_CASES);
    const altstack = failed.find((r) => r.name === 'test_sigsegv_handler_with_different_pkey_for_stack')!;
    expect(altstack.detail).toMatch(
      /killed by SIGSEGV.*frame at 0x[0-9a-f]+ \(sigaltstack\) could not be written with PKRU 0x55555551/,
    );
    expect(results.find((r) => r.name === 'test_pkru_preserved_after_sigusr1')!.status).toBe('OK');
  });

  it.each(['inherit', 'lockdown'] as const)(
    'under %s the same cases fail and a thread started from a handler still inherits its PKRU',
    (policy) => {
      const results = runPkeysSelftest({ signalPolicy: policy });
      expect(results.filter((r) => r.status === 'FAIL').map((r) => r.name)).toEqual(SIGALTSTACK_CASES);
      expect(results.at(-1)!.status).toBe('OK');
    },
  );

  it('without PKU only the unsupported-CPU case runs (pkey_alloc -ENOSPC, pkey_mprotect fails); the rest SKIP', () => {
    const results = runPkeysSelftest({ pku: false });
    expect(results.filter((r) => r.status === 'OK').map((r) => r.name)).toEqual([
      'test_mprotect_pkey_on_unsupported_cpu',
    ]);
    expect(results.filter((r) => r.status === 'FAIL')).toEqual([]);
    for (const r of results.filter((x) => x.status === 'SKIP')) expect(r.detail).toMatch(/-ENOSPC/);
  });

  it('reports an unknown case number as SKIP and is deterministic for a seed', () => {
    expect(runPkeysTest(99).status).toBe('SKIP');
    expect(runPkeysTest(2, { seed: 7 })).toEqual(runPkeysTest(2, { seed: 7 }));
  });
});
