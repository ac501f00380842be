import { AccessKind, Deny, type Denials, formatRightsState, rightsStateEqual } from '@pkeysim/core';
import type { Cpu } from '../cpu';
import type { ExceptionFrame } from '../entry/frame';
import { Errno, errnoName } from '../errors';
import type { Kernel } from '../kernel';
import type { KeyFaultCallback } from '../keys/key-table';
import { type PksVersion, pksVersionTraits } from '../keys/pks-version';
import type { Thread } from '../sched/thread';
import { type PksTestCase, pksTestModuleOf } from './pks-modules';

/**
 * pkeysim's union of the series' tests: V10's numbers (lib/pks/pks_test.c) plus 7, ours, for the
 * earlier versions' key exhaustion. `runPksSeriesSelftest` runs one version's own module instead.
 */
export const PKS_TESTS: readonly PksTestCase[] = [
  { number: 0, name: 'CHECK_DEFAULTS', kind: 'check-defaults', source: 'V10 lib/pks/pks_test.c' },
  { number: 1, name: 'RUN_SINGLE', kind: 'allocate', source: 'V10 lib/pks/pks_test.c, with the V6 WD rows' },
  { number: 2, name: 'ARM_CTX_SWITCH', kind: 'arm', source: 'V10 lib/pks/pks_test.c' },
  { number: 3, name: 'CHECK_CTX_SWITCH', kind: 'check', source: 'V10 lib/pks/pks_test.c' },
  { number: 4, name: 'RUN_EXCEPTION', kind: 'exception', source: 'V10 lib/pks/pks_test.c' },
  { number: 5, name: 'RUN_EXCEPTION_UPDATE', kind: 'exception-update', source: 'V10 lib/pks/pks_test.c' },
  { number: 6, name: 'RUN_ALL_KEYS', kind: 'all-keys', source: 'V10 lib/pks/pks_test.c' },
  { number: 7, name: 'KEY_EXHAUSTION', kind: 'key-exhaustion', source: 'pkeysim, after V6 RUN_ALLOCATE_ALL' },
  { number: 9, name: 'RUN_CRASH_TEST', kind: 'crash', source: 'V10 lib/pks/pks_test.c' },
];

/** A PKS selftest case's outcome. */
export type PksTestStatus = 'OK' | 'FAIL' | 'SKIP';

/** One PKS selftest case's outcome: its number, name, status and detail. */
export interface PksTestResult {
  readonly number: number;
  readonly name: string;
  readonly status: PksTestStatus;
  readonly detail: string;
}

/** "[OK] 1 RUN_SINGLE: ..." as the series' user-space tool (tools/testing/selftests/x86/test_pks.c) reports. */
export function formatTestResult(result: PksTestResult): string {
  return `[${result.status}] ${result.number} ${result.name}: ${result.detail}`;
}

class TestFailure extends Error {}
class TestSkip extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new TestFailure(message);
}

/** One row of an access table: rights, access, whether it must fault. */
interface AccessRow {
  readonly prot: Denials;
  readonly label: string;
  readonly kind: AccessKind;
  readonly faults: boolean;
}

/** V10 RUN_SINGLE: no-access write and read fault, read/write neither. */
const SINGLE_TABLE_V10: readonly AccessRow[] = [
  { prot: Deny.Access, label: 'AD', kind: AccessKind.Write, faults: true },
  { prot: Deny.Access, label: 'AD', kind: AccessKind.Read, faults: true },
  { prot: Deny.None, label: 'RW', kind: AccessKind.Write, faults: false },
  { prot: Deny.None, label: 'RW', kind: AccessKind.Read, faults: false },
];

/** RFC..V7 pkey_test_ary[]: V10's rows plus read-only (a WD write faults with CR0.WP=1, a WD read does not). */
const SINGLE_TABLE: readonly AccessRow[] = [
  ...SINGLE_TABLE_V10,
  { prot: Deny.Write, label: 'WD', kind: AccessKind.Write, faults: true },
  { prot: Deny.Write, label: 'WD', kind: AccessKind.Read, faults: false },
];

/** A key the test uses, and how to give it back. */
interface TestKey {
  readonly key: number;
  release(): void;
}

/**
 * The series' test module (lib/pks/pks_test.c, driven by writing a number to debugfs run_pks),
 * runnable against any kernel: `run(n)` runs one test in a "pks_test" kernel thread on CPU 0.
 */
export class PksTestModule {
  private thread: Thread | undefined;
  private armed: { key: TestKey; address: number } | undefined;
  private faults = 0;

  /**
   * @param cases the module's tests: pkeysim's union (default) or one version's (pksTestModuleOf).
   * @param fixLive whether the fault callback opens the key in the live register (the RFC's 2020
   *   module, whose entry code kept no saved state) instead of the interrupted context.
   */
  constructor(
    private readonly kernel: Kernel,
    readonly cases: readonly PksTestCase[] = PKS_TESTS,
    private readonly fixLive = false,
  ) {}

  /** Every test, in order (ARM before CHECK), as the tool runs them. */
  runAll(): PksTestResult[] {
    return this.cases.map((t) => this.run(t.number));
  }

  /** Run test case `number` (SKIP for an unknown number). */
  run(number: number): PksTestResult {
    const test = this.cases.find((t) => t.number === number);
    if (!test) return { number, name: 'UNKNOWN', status: 'SKIP', detail: `no test number ${number}` };
    const result = (status: PksTestStatus, detail: string): PksTestResult => ({
      number,
      name: test.name,
      status,
      detail,
    });
    try {
      const unsupported = this.unsupported();
      if (unsupported) return result('SKIP', unsupported);
      return result('OK', this.dispatch(test));
    } catch (error) {
      if (error instanceof TestSkip) return result('SKIP', error.message);
      if (error instanceof TestFailure) return result('FAIL', error.message);
      return result('FAIL', `error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private dispatch(test: PksTestCase): string {
    switch (test.kind) {
      case 'check-defaults':
        return this.checkDefaults();
      case 'single':
        return this.runSingle(SINGLE_TABLE_V10);
      case 'allocate':
        return this.runSingle(SINGLE_TABLE);
      case 'arm':
        return this.armContextSwitch();
      case 'check':
        return this.checkContextSwitch();
      case 'exception':
        return this.runException();
      case 'exception-update':
        return this.runExceptionUpdate();
      case 'all-keys':
        return this.runAllKeys();
      case 'key-exhaustion':
        return this.keyExhaustion();
      case 'disable':
        return this.runDisableTest();
      case 'crash':
        return this.crashTest();
    }
  }

  /** Without supervisor keys every test is SKIP, provided the API says so as the version did. */
  private unsupported(): string | undefined {
    if (this.kernel.supported) return undefined;
    const version = pksVersionTraits(this.kernel.config.pksVersion);
    // RFC: pks_key_alloc -EINVAL without PKS; V1 on: -EOPNOTSUPP. The static design has no allocator.
    const expected = this.kernel.config.keyDesign === 'dynamic' ? version.unsupportedErrno : 'EOPNOTSUPP';
    const alloc = this.kernel.pks_key_alloc('pks_test');
    const update = this.kernel.cpu(0).pks_set_readwrite(1);
    if (alloc !== -Errno[expected] || update !== -Errno.EOPNOTSUPP) {
      throw new TestFailure(
        `supervisor keys unsupported, but pks_key_alloc returned ${errnoName(alloc)} and pks_set_readwrite ${errnoName(update)} (expected -${expected} and -EOPNOTSUPP)`,
      );
    }
    return `supervisor keys not supported: pks_key_alloc returns -${expected}, pks_set_readwrite -EOPNOTSUPP`;
  }

  // --- 0 CHECK_DEFAULTS ------------------------------------------------------------------------------

  private checkDefaults(): string {
    const init = this.kernel.initValue;
    // pks_test.c check_defaults reads the MSR on every CPU from an IPI (smp_call_function_single),
    // i.e. inside an interrupt handler, which starts at PKS_INIT_VALUE whatever the CPU was running.
    for (const cpu of this.kernel.cpus) {
      const live = cpu.interrupt(() => cpu.rights(), 'IPI');
      check(
        rightsStateEqual(live, init),
        `CPU ${cpu.id} reads ${formatRightsState(live)}, expected PKS_INIT_VALUE ${formatRightsState(init)}`,
      );
    }
    return `every CPU (${this.kernel.cpuCount}) reads PKS_INIT_VALUE ${this.kernel.space!.format(init)}`;
  }

  // --- 1 RUN_SINGLE --------------------------------------------------------------------------------

  private runSingle(table: readonly AccessRow[]): string {
    const cpu = this.enterTestThread();
    const key = this.testKey('pks_test_single');
    const page = this.kernel.vmap([this.kernel.alloc_page()], { key: key.key });
    try {
      this.installCounter(key.key, page);
      for (const row of table) this.expectAccess(cpu, key.key, page, row.prot, row.kind, row.faults, row.label);
      cpu.pks_set_noaccess(key.key);
      const wd = table.length > SINGLE_TABLE_V10.length ? ', WD write faults and read does not' : '';
      const how = this.fixLive ? ' (the callback opened the live register)' : '';
      return `${table.length} accesses on a page with key ${key.key}: AD read+write fault, RW neither${wd}${how}`;
    } finally {
      this.kernel.vunmap(page);
      key.release();
    }
  }

  // --- 2 ARM_CTX_SWITCH / 3 CHECK_CTX_SWITCH ---------------------------------------------------------

  private armContextSwitch(): string {
    if (this.armed) this.disarm();
    const cpu = this.enterTestThread();
    const key = this.testKey('pks_test_ctx');
    const address = this.kernel.vmap([this.kernel.alloc_page()], { key: key.key });
    check(cpu.pks_set_readwrite(key.key) === 0, 'pks_set_readwrite failed');
    check(
      this.kernel.space!.denialsOf(cpu.rights(), key.key) === Deny.None,
      'the register does not show the key read/write after arming',
    );
    this.armed = { key, address };
    // Get switched out: another thread runs on this CPU with the key closed; then migrate.
    const other = this.kernel.kthread_create('pks_test_other', cpu.id);
    cpu.switchTo(other);
    cpu.pks_set_noaccess(key.key);
    const target = this.kernel.cpuCount - 1;
    if (target !== cpu.id) this.kernel.migrate(this.thread!, target);
    return `key ${key.key} set read/write, then switched out for ${other.name}${target !== cpu.id ? ` and migrated to CPU ${target}` : ''}`;
  }

  private checkContextSwitch(): string {
    const armed = this.armed;
    if (!armed) throw new TestFailure('no context armed (run test 2 first)');
    const thread = this.thread!;
    const cpu = this.kernel.cpu(thread.cpu);
    try {
      cpu.switchTo(thread);
      const space = this.kernel.space!;
      check(
        space.denialsOf(cpu.rights(), armed.key.key) === Deny.None,
        `after the switch back the register gives key ${armed.key.key} ${space.denialsOf(cpu.rights(), armed.key.key)} instead of read/write`,
      );
      check(rightsStateEqual(cpu.rights(), thread.pkrs), "the register differs from the thread's saved PKRS");
      const write = cpu.write(armed.address, new Uint8Array([0x5a]));
      check(write.ok && write.handledFaults === 0, 'a write through the armed key faulted after the context switch');
      return `key ${armed.key.key} still read/write on CPU ${cpu.id} after the switch`;
    } finally {
      this.disarm();
    }
  }

  private disarm(): void {
    if (!this.armed) return;
    const thread = this.thread!;
    const cpu = this.kernel.cpu(thread.cpu);
    if (cpu.current === thread) cpu.pks_set_noaccess(this.armed.key.key);
    this.kernel.vunmap(this.armed.address);
    this.armed.key.release();
    this.armed = undefined;
  }

  // --- 4 RUN_EXCEPTION -----------------------------------------------------------------------------

  private runException(): string {
    const cpu = this.enterTestThread();
    const key = this.testKey('pks_test_exception');
    const space = this.kernel.space!;
    const page = this.kernel.vmap([this.kernel.alloc_page()], { key: key.key });
    const findings: string[] = [];
    try {
      check(cpu.pks_set_readonly(key.key) === 0, 'pks_set_readonly failed');
      const before = cpu.current.pkrs;
      this.kernel.pks_set_fault_callback(key.key, (frame) => {
        const saved = frame.savedRights;
        if (!saved || space.denialsOf(saved, key.key) !== Deny.Write)
          findings.push('the saved context does not hold WD for the key');
        if (!rightsStateEqual(cpu.rights(), this.kernel.initValue))
          findings.push(`the handler runs with ${formatRightsState(cpu.rights())}, not PKS_INIT_VALUE`);
        // Changing rights inside the handler affects the handler only.
        cpu.pks_set_readwrite(key.key);
        if (space.denialsOf(cpu.rights(), key.key) !== Deny.None)
          findings.push('pks_set_readwrite in the handler did not reach the register');
        if (frame.savedRights && space.denialsOf(frame.savedRights, key.key) !== Deny.Write)
          findings.push('a change in the handler leaked into the saved context');
        this.kernel.pks_update_exception(frame, key.key, Deny.None);
        return true;
      });
      const write = cpu.write(page, new Uint8Array([1]));
      check(
        write.ok && write.handledFaults === 1,
        `the WD write ${write.ok ? `faulted ${write.handledFaults} times` : 'oopsed'} (expected one handled fault)`,
      );
      check(findings.length === 0, findings.join('; '));
      const expected = space.withDenials(before, key.key, Deny.None);
      check(
        rightsStateEqual(cpu.current.pkrs, expected),
        `after the handler the thread has ${formatRightsState(cpu.current.pkrs)}, expected ${formatRightsState(expected)} (the key as the callback left it)`,
      );
      check(rightsStateEqual(cpu.rights(), expected), 'the register does not match the thread after the handler');
      cpu.pks_set_noaccess(key.key);
      return 'handler saw WD saved and PKS_INIT_VALUE live; its own change stayed in the handler; the key resumed as the callback left it';
    } finally {
      this.kernel.pks_set_fault_callback(key.key, undefined);
      this.kernel.vunmap(page);
      key.release();
    }
  }

  // --- 5 RUN_EXCEPTION_UPDATE ---------------------------------------------------------------------

  private runExceptionUpdate(): string {
    const cpu = this.enterTestThread();
    const key = this.testKey('pks_test_exc_update');
    const page = this.kernel.vmap([this.kernel.alloc_page()], { key: key.key });
    try {
      check(cpu.pks_set_noaccess(key.key) === 0, 'pks_set_noaccess failed');
      let calls = 0;
      this.kernel.pks_set_fault_callback(key.key, (frame) => {
        calls++;
        return this.kernel.pks_update_exception(frame, key.key, Deny.None) === 0;
      });
      const first = cpu.write(page, new Uint8Array([1]));
      check(
        first.ok && first.handledFaults === 1 && calls === 1,
        'the first write to the no-access key did not fault exactly once',
      );
      const second = cpu.write(page, new Uint8Array([2]));
      check(
        second.ok && second.handledFaults === 0,
        'the second write faulted although pks_update_exception opened the key',
      );
      cpu.pks_set_noaccess(key.key);
      return 'the first write faulted, pks_update_exception(regs, key, 0) opened the key, the second write did not fault';
    } finally {
      this.kernel.pks_set_fault_callback(key.key, undefined);
      this.kernel.vunmap(page);
      key.release();
    }
  }

  // --- 6 RUN_ALL_KEYS ------------------------------------------------------------------------------

  private runAllKeys(): string {
    const cpu = this.enterTestThread();
    const keys: TestKey[] = [];
    if (this.kernel.config.keyDesign === 'dynamic') {
      for (;;) {
        const key = this.kernel.pks_key_alloc('pks_test_all');
        if (key < 0) {
          check(key === -Errno.ENOSPC, `pks_key_alloc returned ${errnoName(key)} before running out`);
          break;
        }
        keys.push({ key, release: () => this.kernel.pks_key_free(key, this.thread!.cpu) });
      }
    } else {
      for (const row of this.kernel.pks_keys_allocated().rows) {
        if (row.key === 0) continue;
        const key = row.key;
        const restore = this.kernel.keyDefault(key)!;
        keys.push({ key, release: () => void this.kernel.cpu(this.thread!.cpu).pks_update_protection(key, restore) });
      }
    }
    check(keys.length > 0, 'no key available to test');
    try {
      for (const { key } of keys) {
        const page = this.kernel.vmap([this.kernel.alloc_page()], { key });
        try {
          this.installCounter(key, page);
          this.expectAccess(cpu, key, page, Deny.Access, AccessKind.Read, true, 'AD');
          this.expectAccess(cpu, key, page, Deny.None, AccessKind.Write, false, 'RW');
        } finally {
          this.kernel.pks_set_fault_callback(key, undefined);
          this.kernel.vunmap(page);
        }
      }
    } finally {
      for (const k of keys) k.release();
    }
    return `${keys.length} keys (${keys.map((k) => k.key).join(',')}): AD read faults, RW write does not`;
  }

  // --- 7 KEY_EXHAUSTION (RFC..V6) ------------------------------------------------------------------

  private keyExhaustion(): string {
    if (this.kernel.config.keyDesign !== 'dynamic') throw new TestSkip('static key design: no allocator to exhaust');
    const cpu = this.enterTestThread();
    const keys: number[] = [];
    let last = 0;
    for (let i = 0; i < 64; i++) {
      last = this.kernel.pks_key_alloc(`pks_test_exhaust_${i}`);
      if (last < 0) break;
      keys.push(last);
    }
    try {
      check(last === -Errno.ENOSPC, `allocation ended with ${errnoName(last)}, expected -ENOSPC`);
      check(!keys.includes(0), 'key 0 was handed out');
      check(new Set(keys).size === keys.length, `a key was handed out twice: ${keys.join(',')}`);
      check(
        keys.every((k) => k >= 1 && k < this.kernel.space!.info.domains),
        'a key out of range was handed out',
      );
    } finally {
      for (const key of keys) this.kernel.pks_key_free(key, cpu.id);
    }
    const space = this.kernel.space!;
    check(
      keys.every((k) => space.denialsOf(cpu.rights(), k) === Deny.Access),
      'a freed key is not access-disabled',
    );
    // pks_key_free returns nothing in every version (RFC..V6 void): a double free changes nothing.
    const first = keys[0] ?? 1;
    this.kernel.pks_key_free(first, cpu.id);
    const again = this.kernel.pks_key_alloc('pks_test_exhaust_again');
    check(again === first, `after a double free of key ${first} the allocator handed out ${errnoName(again)}`);
    this.kernel.pks_key_free(again, cpu.id);
    return `${keys.length} keys allocated (${keys.join(',')}), the next got -ENOSPC; all freed to AD; a double free changed nothing`;
  }

  // --- 9 RUN_CRASH_TEST -----------------------------------------------------------------------------

  private crashTest(): string {
    const cpu = this.enterTestThread();
    const victim = this.kernel.kthread_create('pks_crash_test', cpu.id);
    const key = this.testKey('pks_test_crash');
    // Static design: the test key's callback declines; dynamic: the key has no callback at all.
    if (this.kernel.config.keyDesign === 'static') this.kernel.pks_set_fault_callback(key.key, () => false);
    const page = this.kernel.vmap([this.kernel.alloc_page()], { key: key.key });
    try {
      cpu.switchTo(victim);
      const result = cpu.write(page, new Uint8Array([0xde]));
      check(!result.ok, 'the write to an access-disabled page with no handler did not oops');
      const oops = result.oops;
      check(
        oops.severity === 'oops' && oops.key === key.key && oops.access === 'write' && oops.address === page,
        `unexpected oops report: ${oops.reason}`,
      );
      check(oops.thread.tid === victim.tid && victim.state === 'dead', 'the faulting thread was not killed');
      check(
        cpu.current.idle && rightsStateEqual(cpu.rights(), cpu.current.pkrs),
        'the CPU did not go back to its idle thread with its rights',
      );
      return `write to key ${key.key} oopsed: ${oops.headline}, ${oops.register ?? 'PKRS'} ${oops.pkrs}, ${victim.name} killed`;
    } finally {
      this.kernel.pks_set_fault_callback(key.key, undefined);
      this.kernel.vunmap(page);
      key.release();
    }
  }

  // --- 6 RUN_DISABLE_TEST (V7) ----------------------------------------------------------------------

  /**
   * V7 run_abandoned_test: another thread holds the test key closed in each mode of the access
   * table; the test thread calls pks_abandon_protections(key); the other thread's access must then
   * complete, at once and again after it is scheduled out and back in (V7 checks "sched TRUE" too).
   * V7 applied the abandoned mask lazily (on sched_in, or by fixing one fault); pkeysim applies it
   * to every thread at once, so the access never faults. The test resets the mask after each row
   * as V7's did (it reached pkrs_pkey_allowed_mask directly).
   */
  private runDisableTest(): string {
    const cpu = this.enterTestThread();
    const key = this.testKey('pks_test_abandon');
    const page = this.kernel.vmap([this.kernel.alloc_page()], { key: key.key });
    const space = this.kernel.space!;
    let rows = 0;
    try {
      this.installCounter(key.key, page);
      for (const row of SINGLE_TABLE) {
        for (const sched of [false, true]) {
          const other = this.kernel.kthread_create('PKRS abandoned test', cpu.id);
          cpu.switchTo(other);
          check(cpu.pks_update_protection(key.key, row.prot) === 0, `pks_update_protection(${row.label}) failed`);
          cpu.switchTo(this.thread!);
          const result = this.kernel.pks_abandon_protections(key.key);
          check(result === 0, `pks_abandon_protections returned ${errnoName(result)}`);
          cpu.switchTo(other);
          if (sched) {
            cpu.switchTo(this.thread!);
            cpu.switchTo(other);
          }
          const before = this.faults;
          const access = cpu.access(page, row.kind);
          const what = `${row.label} ${row.kind === AccessKind.Write ? 'write' : 'read'}${sched ? ' after a reschedule' : ''}`;
          check(access.ok, `${what} oopsed after pks_abandon_protections`);
          check(this.faults === before, `${what} faulted after pks_abandon_protections`);
          check(space.denialsOf(cpu.rights(), key.key) === Deny.None, `${what}: the key is not read/write`);
          // Closing an abandoned key has no effect: protections are gone for good.
          cpu.pks_set_noaccess(key.key);
          check(space.denialsOf(cpu.rights(), key.key) === Deny.None, 'pks_set_noaccess closed an abandoned key');
          this.kernel.pks_test_restore_protections(key.key);
          cpu.pks_set_noaccess(key.key);
          this.kernel.exitCurrent(cpu.id);
          cpu.switchTo(this.thread!);
          rows++;
        }
      }
      cpu.pks_set_noaccess(key.key);
      return `${rows} accesses (${SINGLE_TABLE.length} modes, with and without a reschedule) by another thread completed after pks_abandon_protections(${key.key}); closing the key had no effect`;
    } finally {
      this.kernel.pks_test_restore_protections(key.key);
      this.kernel.pks_set_fault_callback(key.key, undefined);
      this.kernel.vunmap(page);
      key.release();
    }
  }

  // --- helpers -------------------------------------------------------------------------------------

  /** Run the test thread on its CPU (a new one on CPU 0 the first time, or after an oops killed it). */
  private enterTestThread(): Cpu {
    if (!this.thread || this.thread.state === 'dead') this.thread = this.kernel.kthread_create('pks_test', 0);
    const cpu = this.kernel.cpu(this.thread.cpu);
    cpu.switchTo(this.thread);
    return cpu;
  }

  /** The test key: allocated (dynamic) or PKS_KEY_TEST (static). */
  private testKey(owner: string): TestKey {
    if (this.kernel.config.keyDesign === 'dynamic') {
      const key = this.kernel.pks_key_alloc(owner);
      check(key > 0, `pks_key_alloc(${owner}) returned ${errnoName(key)}`);
      return { key, release: () => this.kernel.pks_key_free(key, this.thread!.cpu) };
    }
    const key = this.kernel.keyOf('PKS_KEY_TEST');
    if (key === undefined) throw new TestSkip('no PKS_KEY_TEST consumer configured');
    const restore = this.kernel.keyDefault(key)!;
    return { key, release: () => void this.kernel.cpu(this.thread!.cpu).pks_update_protection(key, restore) };
  }

  /**
   * The test callback: count the fault and open the key in the saved context (V7..V10 pks_test.c),
   * or, for the RFC's 2020 module, in the live register: RFC V1 entry code kept no saved state, so
   * the handler's own change is what the retried access sees.
   */
  private installCounter(key: number, page: number): void {
    const callback: KeyFaultCallback = (frame: ExceptionFrame, address: number) => {
      if (address !== page) return false;
      this.faults++;
      if (this.fixLive) return this.kernel.cpu(this.thread!.cpu).pks_set_readwrite(key) === 0;
      return this.kernel.pks_update_exception(frame, key, Deny.None) === 0;
    };
    check(this.kernel.pks_set_fault_callback(key, callback) === 0, 'could not install the fault callback');
  }

  private expectAccess(
    cpu: Cpu,
    key: number,
    page: number,
    prot: Denials,
    kind: AccessKind,
    faults: boolean,
    label: string,
  ): void {
    check(cpu.pks_update_protection(key, prot) === 0, `pks_update_protection(${key}, ${label}) failed`);
    const before = this.faults;
    const result = cpu.access(page, kind);
    const what = `${label} ${kind === AccessKind.Write ? 'write' : 'read'}`;
    check(result.ok, `${what} oopsed: ${result.ok ? '' : result.oops.reason}`);
    const faulted = this.faults > before;
    check(
      faulted === faults,
      `${what} ${faulted ? 'faulted' : 'did not fault'} (expected ${faults ? 'a fault' : 'none'})`,
    );
  }
}

/** Run pkeysim's union module on a kernel (every test of PKS_TESTS). */
export function runPksSelftest(kernel: Kernel): PksTestResult[] {
  return new PksTestModule(kernel).runAll();
}

/**
 * Run the test module of one version of the series (default: the kernel's `pksVersion`), what
 * `pkeysim selftest pks --pks-version` prints: V8..V10 run V10's module, V7 its own (with
 * RUN_DISABLE_TEST), V2..V6 V6's, and the RFC its 2020 module, whose callback fixes the live register.
 */
export function runPksSeriesSelftest(kernel: Kernel, version: PksVersion = kernel.config.pksVersion): PksTestResult[] {
  const module = pksVersionTraits(version).testModule;
  return new PksTestModule(kernel, pksTestModuleOf(module), module === 'rfc-2020').runAll();
}
