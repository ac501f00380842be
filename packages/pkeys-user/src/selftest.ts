import { createKernel } from '@pkeysim/kernel';
import { KernelError } from '@pkeysim/kernel';
import { registeredUserPkeyAbi } from './arch-abi';
import { Prng } from '@pkeysim/kernel';
import { UserErrno, userErrnoName } from './abi';
import { PROTECTION_KEYS_CASES } from './selftest-protection-keys';
import { SIGHANDLER_CASES } from './selftest-sighandler';
import {
  bootUser,
  type CaseEnv,
  type PkeysSelftestOptions,
  type PkeysTestResult,
  startProgram,
  TestFailure,
  TestSkip,
} from './selftest-support';

export type { PkeysSelftestOptions, PkeysTestResult, PkeysTestStatus } from './selftest-support';

/** Every case, numbered from 1 in the order they run. */
export const PKEYS_TESTS: readonly { number: number; name: string; source: PkeysTestResult['source'] }[] = [
  ...PROTECTION_KEYS_CASES.map((c) => ({ name: c.name, source: 'protection_keys.c' as const })),
  ...SIGHANDLER_CASES.map((c) => ({ name: c.name, source: 'pkey_sighandler_tests.c' as const })),
].map((c, i) => ({ number: i + 1, ...c }));

const RUNNERS = [...PROTECTION_KEYS_CASES, ...SIGHANDLER_CASES].map((c) => c.run);

function resolveOptions(options: PkeysSelftestOptions): Required<PkeysSelftestOptions> {
  const resolved = {
    arch: options.arch ?? 'x86',
    cpus: options.cpus ?? 2,
    pku: options.pku ?? true,
    signalPolicy: options.signalPolicy ?? 'mainline',
    seed: options.seed ?? 1,
  };
  if (!Number.isInteger(resolved.seed))
    throw new KernelError('EINVAL', `seed must be an integer, got ${String(resolved.seed)}`);
  return resolved;
}

/**
 * Without pkeys a case is SKIP only if the API answers as a kernel without OSPKE does: pkey_alloc
 * -ENOSPC (only key 0 exists, mm_pkey_alloc finds none free) and pkey_mprotect(key 1) -EINVAL.
 */
function unsupportedAnswer(env: CaseEnv): string | undefined {
  const u = bootUser(env);
  if (u.supported) return undefined;
  const { thread: t } = startProgram(u, 'probe');
  const alloc = t.pkey_alloc(0, 0);
  const ptr = t.mmap(0, 4096, 0, 0x22);
  const attach = t.pkey_mprotect(ptr, 4096, 0, 1);
  if (alloc !== -UserErrno.ENOSPC || attach !== -UserErrno.EINVAL) {
    throw new TestFailure(
      `no pkeys, but pkey_alloc returned ${userErrnoName(alloc)} and pkey_mprotect ${userErrnoName(attach)} (expected -ENOSPC, -EINVAL)`,
    );
  }
  return 'the CPU has no protection keys: pkey_alloc -ENOSPC, pkey_mprotect -EINVAL';
}

/** A case Linux does not build on the architecture, and the rule that leaves it out. */
export interface PkeysCompiledOut {
  readonly number: number;
  readonly name: string;
  readonly source: PkeysTestResult['source'];
  readonly reason: string;
}

/**
 * The cases Linux compiles out on the selected architecture (its pkey ABI's selftest facts: #if in
 * protection_keys.c, the selftests Makefile), by case name or by whole file.
 */
export function pkeysCompiledOut(options: PkeysSelftestOptions = {}): PkeysCompiledOut[] {
  const resolved = resolveOptions(options);
  const abi = registeredUserPkeyAbi(createKernel({ arch: resolved.arch, cpus: resolved.cpus }));
  const rules = abi?.selftest.compiledOut ?? [];
  return PKEYS_TESTS.flatMap((t) => {
    const rule = rules.find((r) => r.name === t.name || r.name === t.source);
    return rule ? [{ ...t, reason: rule.reason }] : [];
  });
}

/** Run one case (numbered as in {@link PKEYS_TESTS}) on fresh machines. */
export function runPkeysTest(number: number, options: PkeysSelftestOptions = {}): PkeysTestResult {
  const test = PKEYS_TESTS.find((t) => t.number === number);
  if (!test)
    return { number, name: 'UNKNOWN', source: 'protection_keys.c', status: 'SKIP', detail: `no test number ${number}` };
  const resolved = resolveOptions(options);
  const env: CaseEnv = { options: resolved, prng: new Prng(resolved.seed + number) };
  const result = (status: PkeysTestResult['status'], detail: string): PkeysTestResult => ({ ...test, status, detail });
  const out = pkeysCompiledOut(resolved).find((c) => c.number === number);
  if (out) return result('SKIP', `compiled out on ${resolved.arch}: ${out.reason}`);
  try {
    if (test.name !== 'test_mprotect_pkey_on_unsupported_cpu') {
      const skip = unsupportedAnswer(env);
      if (skip) return result('SKIP', skip);
    }
    return result('OK', RUNNERS[number - 1](env));
  } catch (error) {
    if (error instanceof TestSkip) return result('SKIP', error.message);
    if (error instanceof TestFailure) return result('FAIL', error.message);
    return result('FAIL', `error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The user-space pkeys selftest: every applicable case of protection_keys.c, then the signal cases
 * of pkey_sighandler_tests.c and pkeysim's nesting and thread-from-handler cases, leaving out the
 * cases Linux compiles out on the architecture ({@link pkeysCompiledOut}).
 */
export function runPkeysSelftest(options: PkeysSelftestOptions = {}): PkeysTestResult[] {
  const out = new Set(pkeysCompiledOut(options).map((c) => c.number));
  return PKEYS_TESTS.filter((t) => !out.has(t.number)).map((t) => runPkeysTest(t.number, options));
}
