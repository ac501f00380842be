import type { RightsState } from '@pkeysim/core';
import {
  PKEY_DISABLE_ACCESS,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  SA_ONSTACK,
  SA_SIGINFO,
  SEGV_MAPERR,
  SEGV_PKUERR,
  SIGSEGV,
  SIGUSR1,
  SIGUSR2,
  userErrnoName,
} from './abi';
import { USER_PAGE_SIZE } from './layout';
import {
  bootUser,
  type CaseEnv,
  check,
  mapAnon,
  openKeys,
  registerOf,
  requireKeys,
  restrictive,
  startProgram,
} from './selftest-support';
import type { SigInfo } from './sigframe';
import { describe } from './signals';
import type { UserResult, UserThread } from './thread';
import type { UserKernel } from './user-kernel';

/** PTHREAD_STACK_MIN-sized stacks, as the test maps them. */
const STACK_SIZE = 0x4000;

/** The CPU a new thread runs on: another one when there is one, as pthread_create would likely pick. */
function otherCpu(u: UserKernel, t: UserThread): number {
  return (t.cpu + 1) % u.kernel.cpuCount;
}

/** Why a thread's run did not reach the handler, for FAIL details. */
function failure(r: UserResult<unknown>, u: UserKernel): string {
  if (r.ok) return 'the access succeeded without a signal';
  const why = u.kernel.log.lines().find((l) => l.includes('could not be written') || l.includes('bad frame'));
  return `${r.fate}${r.fatal ? ` by ${describe(r.fatal)}` : ''}: ${why ?? r.detail}`;
}

/** sigsegv_handler(): record the siginfo, then exit the thread (syscall_raw(SYS_exit)). */
function recordAndExit(seen: SigInfo[]) {
  return (ctx: { info: SigInfo; thread: UserThread }) => {
    seen.push(ctx.info);
    ctx.thread.exit();
  };
}

/** Run a thread body that must end in the SIGSEGV handler; returns the siginfo it recorded. */
function expectHandled(u: UserKernel, seen: SigInfo[], r: UserResult<unknown>, what: string): SigInfo {
  check(seen.length === 1 && !r.ok && r.fate === 'exited', `${what}: ${failure(r, u)}`);
  return seen[0];
}

/** The cases of tools/testing/selftests/mm/pkey_sighandler_tests.c, plus nesting and a thread started from a handler. */
export const SIGHANDLER_CASES: readonly { name: string; run: (env: CaseEnv) => string }[] = [
  {
    name: 'test_sigsegv_handler_with_pkey0_disabled',
    run: (env) => {
      const u = bootUser(env);
      const keys = requireKeys(u);
      const { thread: main } = startProgram(u, 'pkey_sighandler');
      const seen: SigInfo[] = [];
      main.sigaction(SIGSEGV, { flags: SA_SIGINFO, handler: recordAndExit(seen) });
      const stack = mapAnon(main, STACK_SIZE);
      const thread = main.clone('thread_segv_with_pkey0_disabled', {
        cpu: otherCpu(u, main),
        stack: stack + STACK_SIZE,
      });
      u.switchTo(thread); // with one CPU the creator waits, as in pthread_cond_wait
      thread.wrpkru(restrictive(keys, u.abi));
      const r = thread.store(1, new Uint8Array(4));
      const info = expectHandled(u, seen, r, 'a SEGV_MAPERR with key 0 disabled');
      check(info.code === SEGV_MAPERR && info.addr === 1, `got ${describe(info)}, expected SEGV_MAPERR at 1`);
      return 'SEGV_MAPERR at 0x1 reached the handler although the thread had disabled key 0 (its stack)';
    },
  },
  {
    name: 'test_sigsegv_handler_cannot_access_stack',
    run: (env) => {
      const u = bootUser(env);
      const keys = requireKeys(u);
      const { thread: main } = startProgram(u, 'pkey_sighandler');
      const seen: SigInfo[] = [];
      main.sigaction(SIGSEGV, { flags: SA_SIGINFO, handler: recordAndExit(seen) });
      const stack = mapAnon(main, STACK_SIZE);
      // pthread keeps its thread descriptor at the top of the stack: the function's frame is below it.
      const thread = main.clone('thread_segv_pkuerr_stack', { cpu: otherCpu(u, main), stack: stack + STACK_SIZE - 64 });
      u.switchTo(thread); // with one CPU the creator waits, as in pthread_cond_wait
      thread.wrpkru(restrictive(keys, u.abi));
      const r = thread.touchStack('pop'); // "return NULL": the return address is on the key-0 stack
      const info = expectHandled(u, seen, r, 'returning with key 0 disabled');
      check(info.code === SEGV_PKUERR && info.pkey === 0, `got ${describe(info)}, expected SEGV_PKUERR for key 0`);
      return 'the return faulted with SEGV_PKUERR (key 0) and the handler ran on that same stack';
    },
  },
  {
    name: 'test_sigsegv_handler_with_different_pkey_for_stack',
    run: (env) => {
      const u = bootUser(env);
      const keys = requireKeys(u);
      const { thread: main } = startProgram(u, 'pkey_sighandler');
      const seen: SigInfo[] = [];
      main.sigaction(SIGSEGV, { flags: SA_SIGINFO | SA_ONSTACK, handler: recordAndExit(seen) });
      const stack = mapAnon(main, STACK_SIZE);
      const pkey = main.pkey_alloc(0, 0);
      check(pkey > 0, `pkey_alloc failed: ${userErrnoName(pkey)}`);
      main.wrpkru(openKeys(keys, restrictive(keys, u.abi), 0, pkey));
      check(
        main.pkey_mprotect(stack, STACK_SIZE, PROT_READ | PROT_WRITE, pkey) === 0,
        'pkey_mprotect of the stack failed',
      );
      const sigstack = mapAnon(main, STACK_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
      const thread = main.clone('thread_segv_maperr_ptr', { cpu: otherCpu(u, main), stack: stack + STACK_SIZE });
      u.switchTo(thread); // with one CPU the creator waits, as in pthread_cond_wait
      check(thread.sigaltstack({ sp: sigstack, size: STACK_SIZE }) === 0, 'sigaltstack failed');
      // Key 0, which protects the sigaltstack, disabled: only the stack's key is enabled.
      thread.wrpkru(openKeys(keys, restrictive(keys, u.abi), pkey));
      const r = thread.store(1, new Uint8Array(4));
      const info = expectHandled(u, seen, r, `a fault with the sigaltstack's key 0 disabled`);
      check(info.code === SEGV_MAPERR && info.addr === 1, `got ${describe(info)}, expected SEGV_MAPERR at 1`);
      return `the handler ran on a sigaltstack (key 0) that the thread's ${registerOf(u)} denies (stack on key ${pkey})`;
    },
  },
  {
    name: 'test_pkru_preserved_after_sigusr1',
    run: (env) => {
      const u = bootUser(env);
      const keys = requireKeys(u);
      const { thread: main } = startProgram(u, 'pkey_sighandler');
      const wanted = openKeys(keys, restrictive(keys, u.abi), 0, 3, 7);
      const seen: SigInfo[] = [];
      main.sigaction(SIGUSR1, { flags: SA_SIGINFO, handler: (ctx) => void seen.push(ctx.info) });
      main.wrpkru(wanted);
      const r = main.raise(SIGUSR1);
      check(r.ok && seen.length === 1 && seen[0].signo === SIGUSR1, `SIGUSR1 was not handled: ${failure(r, u)}`);
      check(
        keys.format(main.rdpkru()) === keys.format(wanted),
        `PKRU ${keys.format(main.rdpkru())} after the handler, expected ${keys.format(wanted)}`,
      );
      return `${registerOf(u)} ${keys.format(wanted)} restored by sigreturn`;
    },
  },
  {
    name: 'test_pkru_sigreturn',
    run: (env) => {
      const u = bootUser(env);
      const keys = requireKeys(u);
      const { thread: main } = startProgram(u, 'pkey_sighandler');
      main.sigaction(SIGSEGV, { handler: 'default' });
      let handled = 0;
      main.sigaction(SIGUSR2, { flags: SA_SIGINFO | SA_ONSTACK, handler: () => void handled++ });
      const stack = mapAnon(main, STACK_SIZE);
      // The test enables "MPK 2", the key pkey_alloc returns after its earlier cases; here the
      // process is fresh, so the key is whatever pkey_alloc returns.
      const pkey = main.pkey_alloc(0, 0);
      check(pkey > 0, `pkey_alloc failed: ${userErrnoName(pkey)}`);
      main.wrpkru(openKeys(keys, restrictive(keys, u.abi), 0, pkey));
      check(main.pkey_mprotect(stack, STACK_SIZE, PROT_READ | PROT_WRITE, pkey) === 0, 'pkey_mprotect failed');
      const sigstack = mapAnon(main, STACK_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
      const thread = main.clone('thread_sigusr2_self', { cpu: otherCpu(u, main), stack: stack + STACK_SIZE });
      u.switchTo(thread); // with one CPU the creator waits, as in pthread_cond_wait
      check(thread.sigaltstack({ sp: sigstack, size: STACK_SIZE }) === 0, 'sigaltstack failed');
      const restricted = openKeys(keys, restrictive(keys, u.abi), pkey);
      thread.wrpkru(restricted);
      const r = thread.raise(SIGUSR2);
      check(r.ok && handled === 1, `SIGUSR2 on the sigaltstack: ${failure(r, u)}`);
      check(keys.format(thread.rdpkru()) === keys.format(restricted), 'sigreturn did not restore the thread PKRU');
      // "Resuming after SIGUSR2": the string lives on the thread's stack; write(1, str, n) reads it.
      const str = thread.sp - 64;
      check(
        thread.store(str, new TextEncoder().encode('Resuming after SIGUSR2...\n')).ok,
        'the thread could not use its stack',
      );
      const out = thread.write(str, 26);
      check(out instanceof Uint8Array, `write() from the stack failed: ${String(out)}`);
      thread.exit();
      return `SIGUSR2 handled on the key-0 sigaltstack with key 0 disabled; sigreturn restored ${registerOf(u)} and the thread resumed`;
    },
  },
  {
    name: 'pkeysim_nested_signals_on_pkey_protected_sigaltstack',
    run: (env) => {
      const u = bootUser(env);
      const keys = requireKeys(u);
      const { thread: t } = startProgram(u, 'pkey_sighandler');
      const key = t.pkey_alloc(0, PKEY_DISABLE_ACCESS);
      check(key > 0, `pkey_alloc failed: ${userErrnoName(key)}`);
      const sigstack = mapAnon(t, STACK_SIZE);
      check(
        t.pkey_mprotect(sigstack, STACK_SIZE, PROT_READ | PROT_WRITE, key) === 0,
        'pkey_mprotect of the sigaltstack failed',
      );
      check(t.sigaltstack({ sp: sigstack, size: STACK_SIZE }) === 0, 'sigaltstack failed');
      const interrupted = t.rdpkru();
      const init = u.initPkru!;
      const trace: string[] = [];
      let outerAfterInner: RightsState | undefined;
      // Each handler enables the sigaltstack's key first: the kernel resets PKRU to init_pkru,
      // "it is the application's responsibility to enable the appropriate pkey as the first step
      // in the signal handler" (70044df250d0).
      t.sigaction(SIGUSR2, {
        flags: SA_SIGINFO | SA_ONSTACK,
        handler: (ctx) => {
          trace.push(`inner starts with ${keys.format(ctx.thread.rdpkru())}`);
          check(
            keys.format(ctx.thread.rdpkru()) === keys.format(init),
            'the nested handler did not start with init_pkru',
          );
          ctx.thread.pkey_set(key, 0);
          check(ctx.thread.touchStack('push').ok, 'the nested handler could not use the sigaltstack');
          check(ctx.frame.onAltstack, 'the nested frame is not on the sigaltstack');
          ctx.thread.pkey_set(3, 0); // changes that sigreturn must undo
        },
      });
      t.sigaction(SIGUSR1, {
        flags: SA_SIGINFO | SA_ONSTACK,
        handler: (ctx) => {
          trace.push(`outer starts with ${keys.format(ctx.thread.rdpkru())}`);
          ctx.thread.pkey_set(key, 0);
          check(ctx.thread.touchStack('push').ok, 'the handler could not use the sigaltstack');
          const before = ctx.thread.rdpkru();
          const r = ctx.thread.raise(SIGUSR2);
          check(r.ok && r.signals.length === 1, `the nested SIGUSR2: ${failure(r, u)}`);
          outerAfterInner = ctx.thread.rdpkru();
          check(
            keys.format(outerAfterInner) === keys.format(before),
            'the inner sigreturn did not restore the outer handler PKRU',
          );
        },
      });
      const r = t.raise(SIGUSR1);
      check(
        r.ok && r.signals.length === 2,
        `SIGUSR1 with a nested SIGUSR2 on a key-${key} sigaltstack: ${failure(r, u)}`,
      );
      check(outerAfterInner !== undefined, 'the outer handler did not finish');
      check(
        keys.format(t.rdpkru()) === keys.format(interrupted),
        'the outer sigreturn did not restore the interrupted PKRU',
      );
      return `two nested frames on a sigaltstack tagged key ${key} (denied by the thread); each sigreturn restored its ${registerOf(u)}`;
    },
  },
  {
    name: 'pkeysim_thread_started_from_handler',
    run: (env) => {
      const u = bootUser(env);
      const keys = requireKeys(u);
      const { thread: main } = startProgram(u, 'pkey_sighandler');
      const key = main.pkey_alloc(0, 0);
      check(key > 0, `pkey_alloc failed: ${userErrnoName(key)}`);
      const data = mapAnon(main, USER_PAGE_SIZE);
      check(main.pkey_mprotect(data, USER_PAGE_SIZE, PROT_READ | PROT_WRITE, key) === 0, 'pkey_mprotect failed');
      const interrupted = main.rdpkru();
      const stack = mapAnon(main, STACK_SIZE);
      let child: UserThread | undefined;
      let handlerRights: RightsState | undefined;
      main.sigaction(SIGUSR1, {
        flags: SA_SIGINFO,
        handler: (ctx) => {
          handlerRights = ctx.thread.rdpkru();
          child = ctx.thread.clone('started_from_handler', { cpu: otherCpu(u, main), stack: stack + STACK_SIZE });
        },
      });
      const r = main.raise(SIGUSR1);
      check(r.ok && child !== undefined && handlerRights !== undefined, `SIGUSR1: ${failure(r, u)}`);
      check(keys.format(main.rdpkru()) === keys.format(interrupted), 'sigreturn did not restore the creator PKRU');
      u.switchTo(child);
      const got = child.rdpkru();
      check(
        keys.format(got) === keys.format(handlerRights),
        `the thread started with ${keys.format(got)}, not the handler's ${keys.format(handlerRights)} (fpu_clone)`,
      );
      check(child.touchStack('push').ok, 'the new thread could not use its stack');
      const seesData = (keys.denialsOf(got, key) & 1) === 0;
      return `the thread inherited the handler's ${registerOf(u)} ${keys.format(got)} (fpu_clone); key ${key} is ${seesData ? 'open' : 'access-disabled'} for it`;
    },
  },
];
