import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/run-cli';

describe('pkeysim selftest pks', () => {
  it("runs V10's lib/pks/pks_test.c by default: [OK] for every test, exit 0", async () => {
    const run = await runCli(['selftest', 'pks']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.lines.slice(0, -1).map((l) => l.split(':')[0])).toEqual([
      '[OK] 0 CHECK_DEFAULTS',
      '[OK] 1 RUN_SINGLE',
      '[OK] 2 ARM_CTX_SWITCH',
      '[OK] 3 CHECK_CTX_SWITCH',
      '[OK] 4 RUN_EXCEPTION',
      '[OK] 5 RUN_EXCEPTION_UPDATE',
      '[OK] 6 RUN_ALL_KEYS',
      '[OK] 9 RUN_CRASH_TEST',
    ]);
    expect(run.lines[0]).toContain('PKS_INIT_VALUE 0x55555554');
    expect(run.lines.at(-1)).toBe('8 tests: 8 OK, 0 FAIL, 0 SKIP');
  });

  it.each([
    [
      'v7',
      [
        'RUN_ALLOCATE',
        'ARM_CTX_SWITCH',
        'CHECK_CTX_SWITCH',
        'RUN_ALLOCATE_ALL',
        'RUN_ALLOCATE_DEBUG',
        'RUN_ALLOCATE_ALL_DEBUG',
        'RUN_DISABLE_TEST',
        'RUN_CRASH_TEST',
      ],
    ],
    [
      'v6',
      [
        'RUN_ALLOCATE',
        'ARM_CTX_SWITCH',
        'CHECK_CTX_SWITCH',
        'RUN_ALLOCATE_ALL',
        'RUN_ALLOCATE_DEBUG',
        'RUN_ALLOCATE_ALL_DEBUG',
        'RUN_CRASH_TEST',
      ],
    ],
    [
      'rfc',
      [
        'RUN_ALLOCATE',
        'ARM_CTX_SWITCH',
        'CHECK_CTX_SWITCH',
        'RUN_ALLOCATE_ALL',
        'RUN_ALLOCATE_DEBUG',
        'RUN_ALLOCATE_ALL_DEBUG',
        'RUN_CRASH_TEST',
      ],
    ],
  ])("--pks-version %s runs that posting's own module, every test [OK]", async (version, names) => {
    const run = await runCli(['selftest', 'pks', '--pks-version', version]);
    expect(run.code).toBe(0);
    expect(run.lines.slice(0, -1).map((l) => /^\[OK\] \d (\w+):/.exec(l)?.[1])).toEqual(names);
  });

  it('--no-pks reports every test [SKIP] as unsupported and exits 0', async () => {
    const run = await runCli(['selftest', 'pks', '--no-pks', '--cpus', '4']);
    expect(run.code).toBe(0);
    for (const line of run.lines.slice(0, -1)) expect(line).toMatch(/^\[SKIP\] \d .*-EOPNOTSUPP/);
    expect(run.lines.at(-1)).toBe('8 tests: 0 OK, 0 FAIL, 8 SKIP');
  });

  it('--pks-version rfc --no-pks: the RFC allocator answers -EINVAL', async () => {
    const run = await runCli(['selftest', 'pks', '--pks-version', 'rfc', '--no-pks']);
    expect(run.code).toBe(0);
    expect(run.lines[0]).toMatch(/^\[SKIP\] 0 RUN_ALLOCATE: .*pks_key_alloc returns -EINVAL/);
  });

  it('exits 1 when a test fails (legacy RFC V1 entry code)', async () => {
    const run = await runCli(['selftest', 'pks', '--entry', 'legacy-rfc-v1']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^\[FAIL\] 4 RUN_EXCEPTION: /m);
  });

  it('--json prints one object with the machine, every result and the counts', async () => {
    const run = await runCli(['selftest', 'pks', '--json', '--cpus', '3', '--design', 'static']);
    expect(run.code).toBe(0);
    expect(run.lines).toHaveLength(1);
    const report = JSON.parse(run.lines[0]) as {
      machine: Record<string, unknown>;
      results: { status: string }[];
      ok: number;
      skipped: number;
    };
    expect(report.machine).toEqual({
      arch: 'x86',
      cpus: 3,
      pks: true,
      pksVersion: 'v10',
      design: 'static',
      entry: 'aux-pt-regs',
    });
    expect(report.results).toHaveLength(8);
    expect(report.ok).toBe(8);
    expect(report.skipped).toBe(0);
  });

  it.each([
    [['--cpus', '0'], /--cpus.*must be a whole number from 1 to 64/],
    [['--design', 'random'], /--design.*dynamic, static/],
    [['--pks-version', 'v11'], /--pks-version.*rfc, v2, .*v10/],
    [['--pks-version', 'v10', '--design', 'dynamic'], /--design "dynamic" is not the design of PKS V10/],
  ])('refuses bad options %j in one line, exit 2', async (args, message) => {
    const run = await runCli(['selftest', 'pks', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('pkeysim selftest pkeys', () => {
  it('prints [OK] for every case on the default machine (the unsupported-CPU case [SKIP]) and exits 0', async () => {
    const run = await runCli(['selftest', 'pkeys']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const cases = run.lines.slice(0, -1);
    expect(cases).toHaveLength(29);
    expect(cases[0]).toMatch(/^\[OK\] 1 test_read_of_write_disabled_region: /);
    expect(cases.filter((l) => l.startsWith('[SKIP]'))).toEqual([
      expect.stringMatching(/^\[SKIP\] 22 test_mprotect_pkey_on_unsupported_cpu: /),
    ]);
    expect(run.lines.at(-1)).toBe('29 tests: 28 OK, 0 FAIL, 1 SKIP');
  });

  it('--signal-policy pre-2024 fails the protected-sigaltstack cases and exits 1', async () => {
    const run = await runCli(['selftest', 'pkeys', '--signal-policy', 'pre-2024']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^\[FAIL\] 25 test_sigsegv_handler_with_different_pkey_for_stack: .*killed by SIGSEGV/m);
    expect(run.lines.at(-1)).toBe('29 tests: 23 OK, 5 FAIL, 1 SKIP');
  });

  it('--no-pku: pkey_alloc fails as on real kernels, only the unsupported-CPU case runs, exit 0', async () => {
    const run = await runCli(['selftest', 'pkeys', '--no-pku']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\[OK\] 22 test_mprotect_pkey_on_unsupported_cpu: pkey_alloc: -ENOSPC/m);
    expect(run.lines.at(-1)).toBe('29 tests: 1 OK, 0 FAIL, 28 SKIP');
  });

  it('--json prints one object with the machine, the policy and every result', async () => {
    const run = await runCli([
      'selftest',
      'pkeys',
      '--json',
      '--signal-policy',
      'lockdown',
      '--iterations',
      '3',
      '--cpus',
      '1',
    ]);
    expect(run.code).toBe(1);
    expect(run.lines).toHaveLength(1);
    const report = JSON.parse(run.lines[0]) as { machine: Record<string, unknown>; results: unknown[]; failed: number };
    // Every condition that changes a verdict is in the document.
    expect(report.machine).toEqual({
      arch: 'x86',
      cpus: 1,
      pku: true,
      signalPolicy: 'lockdown',
      ptracePkru: 'mainline',
      iterations: 3,
    });
    expect(report.results).toHaveLength(29);
    expect(report.failed).toBe(5);
  });

  it('--arch arm64-poe runs every case Linux builds on arm64 with its expectations: all OK but the unsupported-CPU case', async () => {
    const run = await runCli(['selftest', 'pkeys', '--arch', 'arm64-poe']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\[OK\] 12 test_executing_on_unreadable_memory: .*PKEY_DISABLE_ACCESS leaves execute/m);
    expect(run.stdout).toMatch(/^\[OK\] 21 test_ptrace_modifies_pkru: .*NT_ARM_POE/m);
    expect(run.stdout).not.toMatch(/compiled out/);
    expect(run.lines.at(-1)).toBe('29 tests: 28 OK, 0 FAIL, 1 SKIP');
  });

  it('--arch power runs the powerpc cases and lists the ones Linux compiles out there', async () => {
    const run = await runCli(['selftest', 'pkeys', '--arch', 'power']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\[OK\] 13 test_implicit_mprotect_exec_only_memory: .*execute-only key 2/m);
    expect(run.stdout).not.toMatch(/^\[\w+\] (21|2[3-9]) /m);
    const listed = run.lines.slice(
      run.lines.indexOf('compiled out on power (Linux does not build them there):') + 1,
      -1,
    );
    expect(listed.map((l) => l.trim().split(' ').slice(0, 2).join(' '))).toEqual([
      '21 test_ptrace_modifies_pkru',
      '23 test_sigsegv_handler_with_pkey0_disabled',
      '24 test_sigsegv_handler_cannot_access_stack',
      '25 test_sigsegv_handler_with_different_pkey_for_stack',
      '26 test_pkru_preserved_after_sigusr1',
      '27 test_pkru_sigreturn',
      '28 pkeysim_nested_signals_on_pkey_protected_sigaltstack',
      '29 pkeysim_thread_started_from_handler',
    ]);
    expect(run.lines.at(-1)).toBe('21 tests: 20 OK, 0 FAIL, 1 SKIP');
  });

  it('--arch power --json lists the compiled-out cases with the rule that leaves each out', async () => {
    const run = await runCli(['selftest', 'pkeys', '--arch', 'power', '--json', '--cpus', '1']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.lines[0]) as {
      machine: Record<string, unknown>;
      results: unknown[];
      compiledOut: { name: string; reason: string }[];
    };
    expect(report.machine).toEqual({
      arch: 'power',
      cpus: 1,
      pku: true,
      signalPolicy: 'mainline',
      ptracePkru: 'mainline',
      iterations: 22,
    });
    expect(report.results).toHaveLength(21);
    expect(report.compiledOut[0]).toEqual(
      expect.objectContaining({ name: 'test_ptrace_modifies_pkru', reason: expect.stringMatching(/__aarch64__/) }),
    );
  });

  it('--signal-policy amd-window fails the cases that check the restored PKRU; --ptrace-pkru ignored-5.14 fails test_ptrace_modifies_pkru', async () => {
    const amd = await runCli(['selftest', 'pkeys', '--signal-policy', 'amd-window', '--iterations', '2']);
    expect(amd.code).toBe(1);
    expect(amd.stdout).toMatch(/^\[FAIL\] 26 test_pkru_preserved_after_sigusr1: PKRU 0x00000000 after the handler/m);
    const ptrace = await runCli(['selftest', 'pkeys', '--ptrace-pkru', 'ignored-5.14', '--iterations', '1']);
    expect(ptrace.code).toBe(1);
    expect(ptrace.stdout).toMatch(/^\[FAIL\] 21 test_ptrace_modifies_pkru: .*4a804c4f8356/m);
  });

  it('--case runs one case alone; a case number that does not exist is refused, exit 2', async () => {
    const run = await runCli(['selftest', 'pkeys', '--case', '11']);
    expect(run.code).toBe(0);
    expect(run.lines[0]).toMatch(/^\[OK\] 11 test_kernel_gup_write_to_write_disabled_region: .*-EAGAIN/);
    expect(run.lines.at(-1)).toBe('1 tests: 1 OK, 0 FAIL, 0 SKIP');
    const bad = await runCli(['selftest', 'pkeys', '--case', '99']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--case.*case number from 1 to 29/);
  });

  it('refuses an unknown --signal-policy in one line, exit 2', async () => {
    const run = await runCli(['selftest', 'pkeys', '--signal-policy', 'never']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--signal-policy.*mainline, pre-2024, inherit, lockdown/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
