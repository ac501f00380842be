import { Deny, type DomainSpace, type RightsState, type UserPkeyAbi } from '@pkeysim/core';
import { createKernel } from '@pkeysim/kernel';
import { type Prng } from '@pkeysim/kernel';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, SA_SIGINFO, SIGSEGV, userErrnoName } from './abi';
import { USER_PAGE_SIZE } from './layout';
import { allOpen } from './rights';
import type { SignalPolicyName } from './signal-policy';
import type { SigInfo } from './sigframe';
import { describe } from './signals';
import type { UserProcess } from './process';
import type { UserResult, UserThread } from './thread';
import type { PtracePkruMode } from './regset';
import { UserKernel } from './user-kernel';

/** A pkeys selftest case's outcome. */
export type PkeysTestStatus = 'OK' | 'FAIL' | 'SKIP';

/** One case's outcome, in the shape formatTestResult() prints ("[OK] 3 name: detail"). */
export interface PkeysTestResult {
  readonly number: number;
  readonly name: string;
  readonly source: 'protection_keys.c' | 'pkey_sighandler_tests.c';
  readonly status: PkeysTestStatus;
  readonly detail: string;
}

/** Options for the pkeys selftests: architecture, CPU count, PKU support, signal policy, seed. */
export interface PkeysSelftestOptions {
  /** The registered architecture plugin (the caller imports it); default 'x86'. */
  readonly arch?: string;
  /** Number of CPUs. */
  readonly cpus?: number;
  /** Whether the CPUs enumerate user keys (false: a CPU without PKU). */
  readonly pku?: boolean;
  /** How signal delivery treats PKRU. */
  readonly signalPolicy?: SignalPolicyName;
  /** Seeds the random key each protection_keys.c case runs with. */
  readonly seed?: number;
  /** How PTRACE_SETREGSET treats PKRU ('ignored-5.14': the regression 4a804c4f8356 fixed). */
  readonly ptracePkru?: PtracePkruMode;
  /** run_tests_once() rounds of protection_keys.c in its one process (main()'s nr_iterations, 22). */
  readonly iterations?: number;
}

export class TestFailure extends Error {}
export class TestSkip extends Error {}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new TestFailure(message);
}

/**
 * The one protection_keys process a whole suite run shares (main() and run_tests_once()): its user
 * layer, its current thread (the child after become_child()), its fault recorder, and the key and
 * page run_tests_once() handed the running case.
 */
export interface SuiteProcess {
  readonly u: UserKernel;
  t: UserThread;
  readonly rec: FaultRecorder;
  pkey: number;
  ptr: number;
}

/** What a case runs in: a fresh machine per case, or with `suite` the suite's one process. */
export interface CaseEnv {
  readonly options: Required<PkeysSelftestOptions>;
  readonly prng: Prng;
  readonly suite?: SuiteProcess;
}

/** The program a case runs in: the suite's process, or a fresh one on a fresh machine. */
export function programOf(env: CaseEnv): { u: UserKernel; t: UserThread } {
  if (env.suite) return { u: env.suite.u, t: env.suite.t };
  const u = bootUser(env);
  return { u, t: startProgram(u, 'protection_keys').thread };
}

export function bootUser(env: CaseEnv): UserKernel {
  const kernel = createKernel({
    arch: env.options.arch,
    cpus: env.options.cpus,
    features: { userDomains: env.options.pku },
    seed: env.options.seed,
  });
  return new UserKernel(kernel, { signalPolicy: env.options.signalPolicy, ptracePkru: env.options.ptracePkru });
}

/** The user key register's name in reports (PKRU, POR_EL0, AMR). */
export function registerOf(u: UserKernel): string {
  return u.abi?.register ?? 'PKRU';
}

export function requireKeys(u: UserKernel): DomainSpace {
  if (!u.keys) throw new TestSkip('the CPU has no protection keys (pkey_alloc fails with -ENOSPC)');
  return u.keys;
}

/** Start a program on CPU `cpu`: a process whose main thread is running. */
export function startProgram(u: UserKernel, name: string, cpu = 0): { process: UserProcess; thread: UserThread } {
  const process = u.spawn(name, cpu);
  u.switchTo(process.main);
  return { process, thread: process.main };
}

export function mapAnon(t: UserThread, length: number, prot = PROT_READ | PROT_WRITE): number {
  const address = t.mmap(0, length, prot, MAP_PRIVATE | MAP_ANONYMOUS);
  check(address > 0, `mmap failed: ${userErrnoName(address)}`);
  return address;
}

/** Records protection_keys.c's signal_handler: count faults, note si_pkey, open every key in the frame. */
export interface FaultRecorder {
  readonly faults: SigInfo[];
}

/**
 * protection_keys.c signal_handler(): record the siginfo and let the faulting instruction continue.
 * Where sigreturn restores the register from the frame (x86 XSAVE PKRU, arm64 poe_context) it opens
 * every key in the frame ("set PKEY_REG=0", aarch64_write_signal_pkey(PKEY_REG_ALLOW_ALL)); on POWER,
 * where it does not, it opens the faulting key in the live AMR (pkey_access_allow(siginfo_pkey)).
 * `sigreturnRestores` is the signal policy's (the architecture's own under 'mainline').
 */
export function installFaultRecorder(t: UserThread, keys: DomainSpace, sigreturnRestores = true): FaultRecorder {
  const faults: SigInfo[] = [];
  t.sigaction(SIGSEGV, {
    flags: SA_SIGINFO,
    handler: (ctx) => {
      faults.push(ctx.info);
      if (!sigreturnRestores) {
        const r = ctx.info.pkey === undefined ? -1 : ctx.thread.pkey_set(ctx.info.pkey, 0);
        check(r === 0, `the handler could not open key ${String(ctx.info.pkey)}: ${userErrnoName(r)}`);
        return;
      }
      const w = ctx.setSavedPkru(allOpen(keys));
      check(w.ok, `the handler could not write the frame: ${w.ok ? '' : w.detail}`);
    },
  });
  return { faults };
}

/** alloc_random_pkey(): allocate every key, keep a random one, free the others. */
export function allocRandomPkey(t: UserThread, prng: Prng): number {
  const got: number[] = [];
  for (;;) {
    const k = t.pkey_alloc(0, 0);
    if (k < 0) break;
    got.push(k);
  }
  check(got.length > 0, 'pkey_alloc returned no key at all');
  const key = prng.pick(got);
  for (const k of got) if (k !== key) check(t.pkey_free(k) === 0, `pkey_free(${k}) failed`);
  return key;
}

/** malloc_pkey(): a fresh page, pkey_mprotect()ed RW with `pkey` (not touched, so not yet mapped). */
export function mallocPkey(t: UserThread, pkey: number): number {
  const ptr = mapAnon(t, USER_PAGE_SIZE);
  const r = t.pkey_mprotect(ptr, USER_PAGE_SIZE, PROT_READ | PROT_WRITE, pkey);
  check(r === 0, `pkey_mprotect(${pkey}) failed: ${userErrnoName(r)}`);
  return ptr;
}

/** expected_pkey_fault(): the access completed after exactly one SEGV_PKUERR for `pkey` (any key when undefined). */
export function expectPkeyFault<T>(
  rec: FaultRecorder,
  before: number,
  r: UserResult<T>,
  pkey: number | undefined,
  what: string,
): SigInfo {
  check(r.ok, `${what}: ${r.ok ? '' : r.detail}`);
  const got = rec.faults.slice(before);
  check(got.length === 1, `${what}: expected one pkey fault, got ${got.length}`);
  const info = got[0];
  check(info.code === 4, `${what}: si_code ${info.code}, expected SEGV_PKUERR (4)`);
  if (pkey !== undefined) check(info.pkey === pkey, `${what}: si_pkey ${String(info.pkey)}, expected ${pkey}`);
  return info;
}

/** do_not_expect_pkey_fault(). */
export function expectNoFault<T>(rec: FaultRecorder, before: number, r: UserResult<T>, what: string): void {
  check(r.ok, `${what}: ${r.ok ? '' : r.detail}`);
  check(rec.faults.length === before, `${what}: unexpected fault ${rec.faults.slice(before).map(describe).join(', ')}`);
}

/**
 * pkey_reg_restrictive_default(): set_pkey_bits(PKEY_REG_ALLOW_NONE, 0, PKEY_DISABLE_ACCESS). Every
 * key access-disabled, key 0 included; where keys also deny execution (arm64 PKEY_REG_ALLOW_NONE is
 * POE_NONE) every key but key 0, whose code must stay executable, has no rights at all.
 */
export function restrictive(keys: DomainSpace, abi?: UserPkeyAbi): RightsState {
  const none = Deny.Access | ((abi?.allocRights ?? 0) & Deny.Execute);
  let state = keys.initialState();
  for (let k = 0; k < keys.info.domains; k++) state = keys.withDenials(state, k, k === 0 ? Deny.Access : none);
  return state;
}

export function openKeys(keys: DomainSpace, state: RightsState, ...open: number[]): RightsState {
  return open.reduce((s, k) => keys.withDenials(s, k, Deny.None), state);
}
