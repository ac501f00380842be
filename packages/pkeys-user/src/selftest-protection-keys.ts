import { Deny } from '@pkeysim/core';
import {
  FUTEX_WAIT,
  PKEY_DISABLE_ACCESS,
  PKEY_DISABLE_WRITE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  UserErrno,
  userErrnoName,
} from './abi';
import { getFutexKey } from './futex';
import { USER_PAGE_SIZE } from './layout';
import { Ptrace } from './ptrace';
import { allOpen } from './rights';
import {
  allocRandomPkey,
  bootUser,
  type CaseEnv,
  check,
  expectNoFault,
  expectPkeyFault,
  installFaultRecorder,
  mallocPkey,
  mapAnon,
  programOf,
  registerOf,
  requireKeys,
  startProgram,
  TestSkip,
} from './selftest-support';
import type { UserResult, UserThread } from './thread';
import type { UserKernel } from './user-kernel';

/** What run_tests_once() hands every case: a thread, a random key and a page tagged with it. */
interface KeyCase {
  readonly u: UserKernel;
  readonly t: UserThread;
  readonly pkey: number;
  readonly ptr: number;
  readonly rec: ReturnType<typeof installFaultRecorder>;
}

function keyCase(env: CaseEnv): KeyCase {
  const suite = env.suite;
  if (suite) return { u: suite.u, t: suite.t, pkey: suite.pkey, ptr: suite.ptr, rec: suite.rec };
  const u = bootUser(env);
  const keys = requireKeys(u);
  const { thread: t } = startProgram(u, 'protection_keys');
  const rec = installFaultRecorder(t, keys, u.policy.restoresRights);
  const pkey = allocRandomPkey(t, env.prng);
  return { u, t, pkey, ptr: mallocPkey(t, pkey), rec };
}

const WORD = new Uint8Array([0x2a, 0, 0, 0]);

function faultCase(access: 'read' | 'write', rights: number, prefault: boolean) {
  return (env: CaseEnv): string => {
    const { t, pkey, ptr, rec } = keyCase(env);
    if (prefault) check(t.store(ptr, WORD).ok, 'prefault store failed');
    t.pkey_set(pkey, rights);
    const before = rec.faults.length;
    const r: UserResult<unknown> = access === 'read' ? t.load(ptr, 4) : t.store(ptr, WORD);
    const label = `${access} of ${rights === PKEY_DISABLE_WRITE ? 'write' : 'access'}-disabled key ${pkey}`;
    if (access === 'read' && rights === PKEY_DISABLE_WRITE) {
      expectNoFault(rec, before, r, label);
      return `${label} succeeded`;
    }
    const info = expectPkeyFault(rec, before, r, pkey, label);
    return `${label}: SEGV_PKUERR si_pkey ${info.pkey}${prefault ? ' (page already mapped: hardware PK fault)' : ' (page not present: VMA key check)'}`;
  };
}

/**
 * test_ptrace_modifies_pkru() where the register has no XSTATE init state (the aarch64 version,
 * NT_ARM_POE): GETREGSET matches the tracee's register; SETREGSET of "a random pkey value" (key 0
 * RWX, key 1 none, key 2 execute-only) is visible before and after the tracee runs, and it runs with it.
 */
function ptraceSetsRegister(u: UserKernel, t: UserThread): string {
  const keys = requireKeys(u);
  const abi = u.abi!;
  const none = Deny.Access | (abi.allocRights & Deny.Execute);
  let wanted = keys.withDenials(keys.initialState(), 0, Deny.None);
  for (let k = 1; k < keys.info.domains; k++) wanted = keys.withDenials(wanted, k, k === 2 ? Deny.Access : none);
  const child = u.fork(t, 'tracee', (t.cpu + 1) % u.kernel.cpuCount).main;
  const tracer = u.ptraceAttach(t, child);
  check(tracer instanceof Ptrace, 'PTRACE_ATTACH failed');
  const before = tracer.getPkru();
  check(
    typeof before !== 'number' && keys.format(before) === keys.format(t.rdpkru()),
    `PTRACE_GETREGSET ${abi.ptraceRegset ?? ''} did not return the tracee's register`,
  );
  check(tracer.setPkru(wanted) === 0, `PTRACE_SETREGSET ${abi.ptraceRegset ?? ''} failed`);
  const set = tracer.getPkru();
  check(
    typeof set !== 'number' && keys.format(set) === keys.format(wanted),
    'the new value is not visible before execution',
  );
  u.switchTo(child);
  check(
    keys.format(child.rdpkru()) === keys.format(wanted),
    `the tracee runs with ${keys.format(child.rdpkru())}, not ${keys.format(wanted)}`,
  );
  u.kernel.cpu(child.cpu).switchTo(u.kernel.idle(child.cpu));
  const after = tracer.getPkru();
  check(typeof after !== 'number' && keys.format(after) === keys.format(wanted), 'the value changed after execution');
  if (!t.running) u.switchTo(t); // one CPU: the tracee ran in the tracer's place
  return `the tracer set the tracee's ${abi.register} to ${keys.format(wanted)} through ${abi.ptraceRegset ?? 'ptrace'}; the tracee ran with it`;
}

/** The cases of tools/testing/selftests/mm/protection_keys.c that apply to the model, in its order. */
export const PROTECTION_KEYS_CASES: readonly { name: string; run: (env: CaseEnv) => string }[] = [
  { name: 'test_read_of_write_disabled_region', run: faultCase('read', PKEY_DISABLE_WRITE, false) },
  { name: 'test_read_of_access_disabled_region', run: faultCase('read', PKEY_DISABLE_ACCESS, false) },
  {
    name: 'test_read_of_access_disabled_region_with_page_already_mapped',
    run: faultCase('read', PKEY_DISABLE_ACCESS, true),
  },
  { name: 'test_write_of_write_disabled_region', run: faultCase('write', PKEY_DISABLE_WRITE, false) },
  {
    name: 'test_write_of_write_disabled_region_with_page_already_mapped',
    run: faultCase('write', PKEY_DISABLE_WRITE, true),
  },
  { name: 'test_write_of_access_disabled_region', run: faultCase('write', PKEY_DISABLE_ACCESS, false) },
  {
    name: 'test_write_of_access_disabled_region_with_page_already_mapped',
    run: faultCase('write', PKEY_DISABLE_ACCESS, true),
  },
  {
    name: 'test_kernel_write_of_access_disabled_region',
    run: (env) => {
      const { u, t, pkey, ptr, rec } = keyCase(env);
      t.pkey_set(pkey, PKEY_DISABLE_ACCESS);
      const before = rec.faults.length;
      const ret = t.read(ptr, new Uint8Array([7]));
      check(ret === -UserErrno.EFAULT, `read() into the buffer returned ${userErrnoName(ret)}, expected -EFAULT`);
      check(rec.faults.length === before, 'a kernel access must not signal');
      return `read() into access-disabled key ${pkey}: -EFAULT (copy_to_user honours ${registerOf(u)})`;
    },
  },
  {
    name: 'test_kernel_write_of_write_disabled_region',
    run: (env) => {
      const { t, pkey, ptr } = keyCase(env);
      t.pkey_set(pkey, PKEY_DISABLE_WRITE);
      const ret = t.read(ptr, new Uint8Array([7]));
      check(ret === -UserErrno.EFAULT, `read() into the buffer returned ${userErrnoName(ret)}, expected -EFAULT`);
      return `read() into write-disabled key ${pkey}: -EFAULT`;
    },
  },
  {
    name: 'test_kernel_gup_of_access_disabled_region',
    run: (env) => {
      const { t, pkey, ptr } = keyCase(env);
      t.pkey_set(pkey, PKEY_DISABLE_ACCESS);
      const ret = t.get_user_pages(ptr, 1, false);
      check(ret === -UserErrno.EFAULT, `get_user_pages returned ${userErrnoName(ret)}, expected -EFAULT`);
      return `get_user_pages (vmsplice) of access-disabled key ${pkey}: -EFAULT`;
    },
  },
  {
    name: 'test_kernel_gup_write_to_write_disabled_region',
    run: (env) => {
      const { t, pkey, ptr } = keyCase(env);
      // "*ptr = some_int; pkey_write_deny(pkey); futex(ptr, FUTEX_WAIT, some_int-1, NULL, ...)"
      const someInt = 0x4ab;
      const word = new Uint8Array(4);
      new DataView(word.buffer).setUint32(0, someInt, true);
      check(t.store(ptr, word).ok, 'the store before pkey_write_deny failed');
      t.pkey_set(pkey, PKEY_DISABLE_WRITE);
      // The real case asserts nothing; what Linux does: get_futex_key()'s gup-fast FOLL_WRITE is
      // refused by the pkey (pte_access_permitted checks PKRU.WD), the read-only retry pins the page,
      // and futex_wait_setup() reads a different value: -EWOULDBLOCK (EAGAIN).
      const key = getFutexKey(t, ptr, true);
      check(
        key.ok && key.readOnly,
        `get_futex_key: ${key.ok ? 'the gup write to write-disabled memory succeeded' : userErrnoName(key.errno)}`,
      );
      const ret = t.futex(ptr, FUTEX_WAIT, someInt - 1);
      check(ret === -UserErrno.EAGAIN, `futex(FUTEX_WAIT) returned ${userErrnoName(ret)}, expected -EAGAIN`);
      return `futex(FUTEX_WAIT) on write-disabled key ${pkey}: the gup write was refused, the read-only retry pinned the page, -EAGAIN`;
    },
  },
  {
    name: 'test_executing_on_unreadable_memory',
    run: (env) => {
      const { u, t, pkey, rec } = keyCase(env);
      const p1 = mapAnon(t, USER_PAGE_SIZE);
      check(t.store(p1, new Uint8Array([0x90, 0x90, 0xc3])).ok, 'could not write the instructions');
      check(t.pkey_mprotect(p1, USER_PAGE_SIZE, PROT_EXEC, pkey) === 0, 'pkey_mprotect(PROT_EXEC) failed');
      t.pkey_set(pkey, PKEY_DISABLE_ACCESS);
      const before = rec.faults.length;
      expectNoFault(rec, before, t.execute(p1), 'executing PROT_EXEC memory with an access-disabled key');
      if (!u.abi?.selftest.readsExecuteOnly) {
        // pkey-arm64.h / pkey-powerpc.h: expect_fault_on_read_execonly_key() is empty.
        check(t.mprotect(p1, USER_PAGE_SIZE, PROT_EXEC | PROT_READ) === 0, 'mprotect(PROT_EXEC|PROT_READ) failed');
        return `execute succeeded with key ${pkey} access-disabled (PKEY_DISABLE_ACCESS leaves execute); the read check is empty here`;
      }
      expectPkeyFault(rec, before, t.load(p1, 4), pkey, 'reading it');
      return `execute succeeded, read faulted with si_pkey ${pkey} (keys never check fetches)`;
    },
  },
  {
    name: 'test_implicit_mprotect_exec_only_memory',
    run: (env) => {
      const { u, t, rec } = keyCase(env);
      const p1 = mapAnon(t, USER_PAGE_SIZE);
      check(t.store(p1, new Uint8Array([0xc3])).ok, 'could not write the instructions');
      check(t.mprotect(p1, USER_PAGE_SIZE, PROT_EXEC) === 0, 'mprotect(PROT_EXEC) failed');
      const before = rec.faults.length;
      expectNoFault(rec, before, t.execute(p1), 'executing execute-only memory');
      const tagged = t.process.mm.vmas.find(p1)?.pkey;
      const exec = u.abi?.executeOnly;
      if (!u.abi?.selftest.readsExecuteOnly) {
        // expect_fault_on_read_execonly_key() is empty here; the key mprotect chose is the ABI's.
        const wanted = exec?.kind === 'fixed' ? exec.key : 0;
        check(tagged === wanted, `mprotect(PROT_EXEC) tagged key ${String(tagged)}, expected ${wanted}`);
        check(t.mprotect(p1, USER_PAGE_SIZE, PROT_NONE) === 0, 'mprotect(PROT_NONE) failed');
        check(t.mprotect(p1, USER_PAGE_SIZE, PROT_EXEC | PROT_READ) === 0, 'mprotect(PROT_EXEC|PROT_READ) failed');
        check(t.process.mm.vmas.find(p1)?.pkey === 0, 'leaving PROT_EXEC did not move the mapping back to key 0');
        expectNoFault(rec, rec.faults.length, t.load(p1, 4), 'plain read on recently PROT_EXEC area');
        return exec?.kind === 'fixed'
          ? `mprotect(PROT_EXEC) used the boot-time execute-only key ${exec.key}; PROT_NONE then PROT_EXEC|PROT_READ moved it back to key 0`
          : 'no execute-only key: mprotect(PROT_EXEC) kept key 0 (execute-only comes from the page tables); read after PROT_EXEC|PROT_READ OK';
      }
      const info = expectPkeyFault(rec, before, t.load(p1, 4), undefined, 'reading execute-only memory');
      check(info.pkey !== undefined && info.pkey !== 0, 'the execute-only key must not be key 0');
      check(t.mprotect(p1, USER_PAGE_SIZE, PROT_NONE) === 0, 'mprotect(PROT_NONE) failed');
      check(t.mprotect(p1, USER_PAGE_SIZE, PROT_EXEC | PROT_READ) === 0, 'mprotect(PROT_EXEC|PROT_READ) failed');
      const after = rec.faults.length;
      expectNoFault(rec, after, t.load(p1, 4), 'plain read on recently PROT_EXEC area');
      return `mprotect(PROT_EXEC) used execute-only key ${info.pkey}; PROT_EXEC|PROT_READ moved it back to key 0`;
    },
  },
  {
    name: 'test_mprotect_with_pkey_0',
    run: (env) => {
      const { u, t, pkey, ptr } = keyCase(env);
      check(t.store(ptr, new Uint8Array([1])).ok, 'could not touch the page');
      check(t.pkey_mprotect(ptr, USER_PAGE_SIZE, PROT_READ, 0) === 0, 'pkey_mprotect(key 0) failed');
      const space = t.process.mm.space;
      check(u.kernel.machine.translate(space, ptr)?.domain === 0, 'the PTE does not carry key 0');
      check(t.pkey_mprotect(ptr, USER_PAGE_SIZE, PROT_READ | PROT_WRITE, pkey) === 0, 'pkey_mprotect back failed');
      check(u.kernel.machine.translate(space, ptr)?.domain === pkey, `the PTE does not carry key ${pkey}`);
      return `key 0 attached, then key ${pkey} again (PTE re-tagged both times)`;
    },
  },
  {
    name: 'test_ptrace_of_child',
    run: (env) => {
      const { u, t, pkey, ptr, rec } = keyCase(env);
      check(t.store(ptr, new Uint8Array([0x5a, 0, 0, 0, 0, 0, 0, 0])).ok, 'could not fill the page');
      const plain = mapAnon(t, USER_PAGE_SIZE);
      check(t.store(plain, new Uint8Array([0x33, 0, 0, 0, 0, 0, 0, 0])).ok, 'could not fill the plain page');
      t.pkey_set(pkey, PKEY_DISABLE_ACCESS);
      const child = u.fork(t, 'protection_keys-child', (t.cpu + 1) % u.kernel.cpuCount).main;
      const tracer = u.ptraceAttach(t, child);
      check(tracer instanceof Ptrace, `PTRACE_ATTACH failed: ${String(tracer)}`);
      const peek = tracer.peekData(ptr);
      check(peek instanceof Uint8Array && peek[0] === 0x5a, `PTRACE_PEEKDATA of the pkey page failed: ${String(peek)}`);
      const before = rec.faults.length;
      expectPkeyFault(rec, before, t.load(ptr, 4), pkey, 'the tracer reading the page itself');
      t.pkey_set(pkey, PKEY_DISABLE_ACCESS);
      const plainPeek = tracer.peekData(plain);
      check(plainPeek instanceof Uint8Array && plainPeek[0] === 0x33, 'PTRACE_PEEKDATA of the plain page failed');
      expectNoFault(rec, rec.faults.length, t.load(plain, 4), 'read plain pointer after ptrace');
      return `PEEKDATA read key ${pkey} memory of a child whose ${registerOf(u)} denies it; the tracer's own read faulted`;
    },
  },
  {
    name: 'test_pkey_init_state',
    run: (env) => {
      const { u, t } = programOf(env);
      const keys = requireKeys(u);
      const got: number[] = [];
      for (let k = t.pkey_alloc(0, 0); k > 0; k = t.pkey_alloc(0, 0)) got.push(k);
      // arch_force_pkey_reg_init(): XRSTOR with PKRU's XSTATE_BV bit clear puts PKRU in its
      // hardware init state, 0, which differs from init_pkru_value; context switches must keep it.
      // Elsewhere arch_force_pkey_reg_init() does nothing: the register keeps what the allocations set.
      const zero = u.abi?.selftest.forcesInitState === false ? t.rdpkru() : allOpen(keys);
      t.wrpkru(zero);
      const other = u.spawn('other', t.cpu).main;
      for (let round = 0; round < 4; round++) {
        u.switchTo(other);
        check(keys.format(other.rdpkru()) === keys.format(u.initPkru!), 'another process did not start with init_pkru');
        u.switchTo(t);
        check(
          keys.format(t.rdpkru()) === keys.format(zero),
          `round ${round}: PKRU ${keys.format(t.rdpkru())} after a context switch`,
        );
      }
      if (u.kernel.cpuCount > 1) {
        u.switchTo(other);
        u.kernel.migrate(t.task, 1);
        u.switchTo(t);
        check(keys.format(t.rdpkru()) === keys.format(zero), 'PKRU changed across a migration');
      }
      for (const k of got) check(t.pkey_free(k) === 0, `pkey_free(${k}) failed`);
      return `${registerOf(u)} ${keys.format(zero)} survived 8 context switches${u.kernel.cpuCount > 1 ? ' and a migration' : ''}; ${got.length} keys freed`;
    },
  },
  {
    name: 'test_pkey_syscalls_on_non_allocated_pkey',
    run: (env) => {
      const { t, pkey, ptr } = keyCase(env);
      const n = t.process.mm.pkeys.keys;
      for (let i = 1; i < n; i++) {
        if (i === pkey) continue;
        check(t.pkey_free(i) === -UserErrno.EINVAL, `pkey_free(${i}) of an unallocated key did not fail`);
        check(t.pkey_free(i) === -UserErrno.EINVAL, `second pkey_free(${i}) did not fail`);
        check(
          t.pkey_mprotect(ptr, USER_PAGE_SIZE, PROT_READ, i) === -UserErrno.EINVAL,
          `pkey_mprotect(key ${i}) did not fail`,
        );
      }
      return `pkey_free and pkey_mprotect on ${n - 2} unallocated keys: -EINVAL`;
    },
  },
  {
    name: 'test_pkey_syscalls_bad_args',
    run: (env) => {
      const { t, ptr } = keyCase(env);
      const bad = t.process.mm.pkeys.keys + 99;
      check(
        t.pkey_mprotect(ptr, USER_PAGE_SIZE, PROT_READ, bad) === -UserErrno.EINVAL,
        `pkey_mprotect(${bad}) did not fail`,
      );
      check(t.pkey_free(bad) === -UserErrno.EINVAL, `pkey_free(${bad}) did not fail`);
      return `key ${bad} (NR_PKEYS+99): -EINVAL`;
    },
  },
  {
    name: 'test_pkey_alloc_exhaust',
    run: (env) => {
      const { u, pkey } = keyCase(env);
      let t = keyCase(env).t;
      const n = t.process.mm.pkeys.keys;
      // The default key, reserved keys, the execute-only key if any and the test's key are taken.
      let free = 0;
      for (let k = 0; k < n; k++) if (!t.process.mm.pkeys.isTaken(k)) free++;
      const got: number[] = [];
      let failures = 0;
      let forked = '';
      for (let i = 0; i < n * 3; i++) {
        const k = t.pkey_alloc(0, 0);
        if (k < 0) {
          check(k === -UserErrno.ENOSPC, `a failed pkey_alloc returned ${userErrnoName(k)}, expected -ENOSPC`);
          failures++;
        } else {
          check(k !== 0 && k !== pkey && !got.includes(k), `pkey_alloc returned key ${k} twice (or key 0)`);
          got.push(k);
        }
        // "Make sure that allocation state is properly preserved across fork()": become_child()
        // forks, the parent exits and the child carries on with the rest of the suite.
        if (i === n * 2 && env.suite) {
          const child = u.fork(t, 'protection_keys', t.cpu).main;
          t.exit();
          u.switchTo(child);
          t = env.suite.t = child;
          forked = `; forked at allocation ${i} (become_child), the child carried on`;
        }
      }
      check(got.length === free, `allocated ${got.length} keys, expected ${free}`);
      for (const k of got) check(t.pkey_free(k) === 0, `pkey_free(${k}) failed`);
      return `${got.length} more keys allocated, then ${failures} × -ENOSPC; none twice, never key 0${forked}`;
    },
  },
  {
    name: 'test_pkey_alloc_free_attach_pkey0',
    run: (env) => {
      const { t, ptr } = keyCase(env);
      const got: number[] = [];
      for (let k = t.pkey_alloc(0, 0); k >= 0; k = t.pkey_alloc(0, 0)) {
        check(k !== 0, 'pkey_alloc returned key 0');
        got.push(k);
      }
      for (const k of got) check(t.pkey_free(k) === 0, `pkey_free(${k}) failed`);
      const prots = [PROT_READ, PROT_WRITE, PROT_EXEC, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE | PROT_EXEC];
      for (const prot of prots) {
        const r = t.pkey_mprotect(ptr, USER_PAGE_SIZE, prot, 0);
        check(r === 0, `pkey_mprotect(prot ${prot}, key 0) returned ${userErrnoName(r)}`);
      }
      return 'key 0 never allocated; attached with R, W, X, RW and RWX';
    },
  },
  {
    name: 'test_ptrace_modifies_pkru',
    run: (env) => {
      const { u, t } = programOf(env);
      const keys = requireKeys(u);
      if (u.abi && !u.abi.selftest.forcesInitState) return ptraceSetsRegister(u, t);
      // new_pkru = ~read_pkey_reg() with key 0's bits cleared ("don't make PROT_EXEC mappings inaccessible").
      const now = t.rdpkru();
      let wanted = now;
      for (let k = 0; k < keys.info.domains; k++) {
        const flipped = k === 0 ? Deny.None : ~keys.denialsOf(now, k) & (Deny.Access | Deny.Write);
        wanted = keys.withDenials(wanted, k, flipped);
      }
      const child = u.fork(t, 'tracee', (t.cpu + 1) % u.kernel.cpuCount).main;
      const tracer = u.ptraceAttach(t, child);
      check(tracer instanceof Ptrace, 'PTRACE_ATTACH failed');
      const before = tracer.getRegset();
      check(
        typeof before !== 'number' && keys.format(before.rights) === keys.format(now),
        'PTRACE_GETREGSET NT_X86_XSTATE did not return the PKRU the child inherited',
      );
      check(tracer.setRegset(wanted, true) === 0, 'PTRACE_SETREGSET NT_X86_XSTATE failed');
      u.switchTo(child);
      check(
        keys.format(child.rdpkru()) === keys.format(wanted),
        `the tracee runs with ${keys.format(child.rdpkru())}, not ${keys.format(wanted)} (PTRACE_SETREGSET's PKRU was ignored, as from 5.14 until 4a804c4f8356)`,
      );
      u.kernel.cpu(child.cpu).switchTo(u.kernel.idle(child.cpu));
      // "Clear the PKRU bit from XSTATE_BV": XRSTOR semantics give PKRU its init value 0 (d7e5aceace51).
      const zero = allOpen(keys);
      check(tracer.setRegset(wanted, false) === 0, 'PTRACE_SETREGSET with XSTATE_BV[PKRU] clear failed');
      const cleared = tracer.getRegset();
      check(
        typeof cleared !== 'number' && keys.format(cleared.rights) === keys.format(zero),
        'PTRACE_GETREGSET did not return PKRU 0 before the tracee ran',
      );
      u.switchTo(child);
      check(
        keys.format(child.rdpkru()) === keys.format(zero),
        `the tracee saw ${keys.format(child.rdpkru())}, not PKRU 0`,
      );
      u.kernel.cpu(child.cpu).switchTo(u.kernel.idle(child.cpu));
      const seen = tracer.getRegset();
      check(
        typeof seen !== 'number' && keys.format(seen.rights) === keys.format(zero),
        'PTRACE_GETREGSET did not return PKRU 0',
      );
      if (!t.running) u.switchTo(t); // one CPU: the tracee ran in the tracer's place
      return `the tracer set the tracee's PKRU to ${keys.format(wanted)}, then cleared XSTATE_BV[PKRU] (PKRU 0); the tracee ran with each`;
    },
  },
  {
    name: 'test_mprotect_pkey_on_unsupported_cpu',
    run: (env) => {
      const u = bootUser(env);
      if (u.supported) throw new TestSkip('the CPU has protection keys (this case runs only without them)');
      const { thread: t } = startProgram(u, 'protection_keys');
      const ptr = mapAnon(t, USER_PAGE_SIZE, PROT_NONE);
      const alloc = t.pkey_alloc(0, 0);
      check(alloc === -UserErrno.ENOSPC, `pkey_alloc returned ${userErrnoName(alloc)}, expected -ENOSPC`);
      const r = t.pkey_mprotect(ptr, USER_PAGE_SIZE, PROT_READ, 1);
      check(r < 0, 'pkey_mprotect(key 1) succeeded without pkeys');
      return `pkey_alloc: -ENOSPC, pkey_mprotect(key 1): ${userErrnoName(r)}`;
    },
  },
];
