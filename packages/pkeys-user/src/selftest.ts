import { createKernel } from '@pkeysim/kernel';
import { KernelError } from '@pkeysim/kernel';
import { registeredUserPkeyAbi } from './arch-abi';
import { ptracePkruMode } from './regset';
import { Prng } from '@pkeysim/kernel';
import { UserErrno, userErrnoName } from './abi';
import { PROTECTION_KEYS_CASES } from './selftest-protection-keys';
import { SIGHANDLER_CASES } from './selftest-sighandler';
import { USER_PAGE_SIZE } from './layout';
import {
  allocRandomPkey,
  bootUser,
  type CaseEnv,
  check,
  installFaultRecorder,
  mallocPkey,
  type SuiteProcess,
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

/** main()'s nr_iterations in protection_keys.c: run_tests_once() runs this many times in one process. */
export const PROTECTION_KEYS_ITERATIONS = 22;
/** The most iterations a run may ask for (each runs every case once). */
export const MAX_ITERATIONS = 1000;

function resolveOptions(options: PkeysSelftestOptions): Required<PkeysSelftestOptions> {
  const resolved = {
    arch: options.arch ?? 'x86',
    cpus: options.cpus ?? 2,
    pku: options.pku ?? true,
    signalPolicy: options.signalPolicy ?? 'mainline',
    seed: options.seed ?? 1,
    ptracePkru: ptracePkruMode(options.ptracePkru),
    iterations: options.iterations ?? PROTECTION_KEYS_ITERATIONS,
  };
  if (!Number.isInteger(resolved.iterations) || resolved.iterations < 1 || resolved.iterations > MAX_ITERATIONS)
    throw new KernelError(
      'EINVAL',
      `iterations must be a whole number from 1 to ${MAX_ITERATIONS}, got ${String(resolved.iterations)}`,
    );
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

/** A case's verdict from an exception it threw. */
function failureOf(error: unknown): { status: PkeysTestResult['status']; detail: string } {
  if (error instanceof TestSkip) return { status: 'SKIP', detail: error.message };
  if (error instanceof TestFailure) return { status: 'FAIL', detail: error.message };
  return { status: 'FAIL', detail: `error: ${error instanceof Error ? error.message : String(error)}` };
}

/**
 * protection_keys.c as Linux runs it: main() starts one process, installs the SIGSEGV handler, then
 * run_tests_once() `iterations` times; each round gives every case a fresh random key and page
 * (alloc_random_pkey, malloc_pkey) and frees both after it, so everything else a case leaves (PKRU,
 * the execute-only key, the process test_pkey_alloc_exhaust forked into) carries into the next. A
 * pkey_assert() ends the program: the failing case is FAIL and the cases it kept from running say so.
 */
function runProtectionKeysSuite(
  tests: readonly (typeof PKEYS_TESTS)[number][],
  options: Required<PkeysSelftestOptions>,
): PkeysTestResult[] {
  const env: CaseEnv = { options, prng: new Prng(options.seed) };
  const u = bootUser(env);
  if (!u.keys) return tests.map((t) => runPkeysTest(t.number, options));
  const { thread } = startProgram(u, 'protection_keys');
  const suite: SuiteProcess = {
    u,
    t: thread,
    rec: installFaultRecorder(thread, u.keys, u.policy.restoresRights),
    pkey: 0,
    ptr: 0,
  };
  const verdicts = new Map<number, PkeysTestResult>();
  let stopped: string | undefined;
  for (let round = 1; round <= options.iterations && stopped === undefined; round++) {
    for (const test of tests) {
      const suffix = ` (iteration ${round} of ${options.iterations}, one process)`;
      try {
        suite.pkey = allocRandomPkey(suite.t, env.prng);
        suite.ptr = mallocPkey(suite.t, suite.pkey);
        const detail = RUNNERS[test.number - 1]({ ...env, suite });
        // free_pkey_malloc(ptr); sys_pkey_free(pkey);
        check(suite.t.munmap(suite.ptr, USER_PAGE_SIZE) === 0, 'free_pkey_malloc: munmap failed');
        suite.t.pkey_free(suite.pkey);
        verdicts.set(test.number, { ...test, status: 'OK', detail: detail + suffix });
      } catch (error) {
        const { status, detail } = failureOf(error);
        verdicts.set(test.number, { ...test, status, detail: detail + suffix });
        if (status === 'SKIP') continue;
        stopped = `${test.name} failed in iteration ${round}`;
        break;
      }
    }
  }
  return tests.map(
    (t) =>
      verdicts.get(t.number) ?? { ...t, status: 'FAIL', detail: `not run: the program ended when ${String(stopped)}` },
  );
}

/**
 * The user-space pkeys selftest: protection_keys.c as Linux runs it ({@link PROTECTION_KEYS_ITERATIONS}
 * rounds in one process, state carried between cases), then the signal cases of
 * pkey_sighandler_tests.c and pkeysim's nesting and thread-from-handler cases, each in its own
 * process, leaving out the cases Linux compiles out on the architecture ({@link pkeysCompiledOut}).
 * {@link runPkeysTest} runs one case on its own.
 */
export function runPkeysSelftest(options: PkeysSelftestOptions = {}): PkeysTestResult[] {
  const resolved = resolveOptions(options);
  const out = new Set(pkeysCompiledOut(resolved).map((c) => c.number));
  const wanted = PKEYS_TESTS.filter((t) => !out.has(t.number));
  // main() runs test_mprotect_pkey_on_unsupported_cpu alone, and only without pkeys.
  const suiteCases = wanted.filter(
    (t) => t.source === 'protection_keys.c' && t.name !== 'test_mprotect_pkey_on_unsupported_cpu',
  );
  const suite = runProtectionKeysSuite(suiteCases, resolved);
  return wanted.map((t) => suite.find((r) => r.number === t.number) ?? runPkeysTest(t.number, resolved));
}
