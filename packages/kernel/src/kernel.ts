import {
  type DomainSpace,
  echoValue,
  type Machine,
  Privilege,
  type RightsState,
  rightsState,
  TOKENS,
  type AddressSpaceId,
} from '@pkeysim/core';
import { inject, injectable } from 'tsyringe';
import type { KernelConfig } from './config';
import { Cpu } from './cpu';
import { EntryCode } from './entry/entry-code';
import type { ExceptionFrame } from './entry/frame';
import { Errno, errnoOf, KernelError } from './errors';
import { FaultHandler } from './fault';
import { assignStaticKeys, type KeyFaultCallback, KeyTable, type KeySpaceShape } from './keys/key-table';
import { keyTableSize } from './keys/key-limit';
import { type KeyListing, PksKeys } from './keys/pks-keys';
import { pksVersionTraits } from './keys/pks-version';
import { KernelLog } from './log';
import { AccessWindows } from './mm/kmap';
import { type AllocPagesOptions, KernelMemory, type VmapOptions } from './mm/memory';
import type { OopsReport } from './oops';
import { PanicState } from './panic';
import { LiveRights } from './rights/live';
import { PkrsWriter } from './rights/pkrs-writer';
import { Protection } from './rights/protection';
import { type ContextSwitchHook, Sched } from './sched/sched';
import type { Thread } from './sched/thread';
import { KERNEL_CONFIG } from './tokens';
import { UserTasks } from './user-tasks';
import { requireInteger } from './validate';

/** The most pages one alloc_pages() call takes here: 2^20 (4 GiB), beyond any modelled RAM. */
const MAX_ALLOC_PAGES = 2 ** 20;

/** Every CPU enumerates the space's feature (CPUID.(EAX=7,ECX=0):ECX[31] PKS, ECX[3] PKU). */
function availableEverywhere(space: DomainSpace | undefined, cpus: number): space is DomainSpace {
  if (!space) return false;
  for (let cpu = 0; cpu < cpus; cpu++) if (!space.available(cpu)) return false;
  return true;
}

function keyShape(space: DomainSpace | undefined): KeySpaceShape {
  if (!space) return { domains: 1, defaultDomain: 0, reserved: [] };
  return {
    domains: keyTableSize(space.info.domains),
    defaultDomain: space.info.defaultDomain,
    reserved: space.info.reserved.map((r) => r.domain),
  };
}

/**
 * The pkeysim kernel: supervisor keys after the Linux PKS series, on any architecture that provides
 * a supervisor DomainSpace. It boots in the constructor; everything else is its API.
 */
@injectable()
export class Kernel {
  readonly config: KernelConfig;
  /** PKS_INIT_VALUE: the rights every CPU boots with and every handler starts with. */
  readonly initValue: RightsState;
  /** True when supervisor keys work; otherwise every key API returns -EOPNOTSUPP. */
  readonly supported: boolean;
  /** The supervisor key space (for formatting and denialsOf), when there is one. */
  readonly space: DomainSpace | undefined;
  /** The kernel log (dmesg). */
  readonly log: KernelLog;
  private readonly userSpace: DomainSpace | undefined;
  private readonly kernelSpace: AddressSpaceId;
  private readonly keys: KeyTable;
  private readonly writer: PkrsWriter;
  private readonly panicState: PanicState;
  private readonly cpuViews: readonly Cpu[];
  private readonly sched: Sched;
  private readonly keyApi: PksKeys;
  private readonly memory: KernelMemory;
  private readonly protection: Protection;
  /** The narrow door for user-space layers (@pkeysim/pkeys-user): saved user rights, ending tasks. */
  readonly userTasks: UserTasks;

  /**
   * Boots the kernel. This is the one place the services are wired: each gets the few collaborators
   * it uses as constructor arguments, and the state it owns is read by the others through it.
   */
  constructor(
    @inject(TOKENS.Machine) readonly machine: Machine,
    @inject(KERNEL_CONFIG) config: KernelConfig,
  ) {
    this.config = config;
    const cpuCount = machine.cpuCount;
    const candidate = machine.domainSpace(Privilege.Supervisor);
    const space = candidate && candidate.info.governs !== Privilege.User ? candidate : undefined;
    const supported = availableEverywhere(space, cpuCount);
    const userCandidate = machine.domainSpace(Privilege.User);
    const userSpace =
      availableEverywhere(userCandidate, cpuCount) && userCandidate !== space ? userCandidate : undefined;
    this.space = space;
    this.supported = supported;
    this.userSpace = userSpace;

    const keys = new KeyTable(config.keyDesign, keyShape(space));
    if (config.keyDesign === 'static' && space) assignStaticKeys(keys, config.consumers);
    this.keys = keys;
    const initValue = supported ? keys.initialState(space) : rightsState();
    this.initValue = initValue;
    const log = new KernelLog();
    this.log = log;
    const kernelSpace = machine.createAddressSpace();
    this.kernelSpace = kernelSpace;
    const keySpace = supported ? space : undefined;
    const events = machine.events;

    const panic = new PanicState();
    this.panicState = panic;
    const writer = new PkrsWriter(keySpace, events, cpuCount);
    this.writer = writer;
    const sched = new Sched(cpuCount, events, writer, space, userSpace, initValue, keys.domains, panic);
    this.sched = sched;
    this.userTasks = new UserTasks(sched, (cpu) => this.exitCurrent(cpu));
    const live = new LiveRights(space, keys, sched);
    const protection = new Protection(space, supported, keys, log, sched, writer, live);
    this.protection = protection;
    const savesRights = config.entryMode === 'aux-pt-regs' && supported;
    const entry = new EntryCode(savesRights, initValue, sched, writer, live, events, panic);
    const memory = new KernelMemory(machine, kernelSpace, supported, keys, log);
    this.memory = memory;
    const windows = new AccessWindows(machine, kernelSpace, supported, keys, sched, panic, protection, memory);
    const faults = new FaultHandler(machine, space, supported, keys, log, entry, sched, windows, panic);
    this.keyApi = new PksKeys(space, supported, keys, initValue, log, protection, pksVersionTraits(config.pksVersion), {
      sched,
      writer,
      live,
    });
    const cpus: Cpu[] = [];
    for (let cpu = 0; cpu < cpuCount; cpu++)
      cpus.push(new Cpu(cpu, machine, keySpace, sched, entry, faults, protection, windows, panic));
    this.cpuViews = cpus;
    this.boot();
  }

  /**
   * setup_pks() (V10 arch/x86/mm/pkeys.c): write PKS_INIT_VALUE to the MSR on every CPU, then set
   * CR4.PKS. Without the feature boot goes on and the key API reports -EOPNOTSUPP.
   */
  private boot(): void {
    const { machine, space, userSpace, supported, log } = this;
    for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
      machine.activate(cpu, this.kernelSpace);
      machine.setMode(cpu, Privilege.Supervisor);
      if (supported && space) {
        this.writer.write(cpu, this.initValue);
        space.enable(cpu);
      }
      if (userSpace) {
        // CR4.PKE first: WRPKRU is #UD until it is set (SDM WRPKRU); then init_pkru_value.
        userSpace.enable(cpu);
        userSpace.load(cpu, userSpace.initialState());
      }
    }
    if (supported && space)
      log.info(
        `${space.info.id}: ${space.info.register} enabled on ${machine.cpuCount} CPU(s), PKS_INIT_VALUE ${space.format(this.initValue)}`,
      );
    else
      log.info(
        space
          ? `${space.info.register}: not enumerated by every CPU; supervisor keys disabled`
          : `${machine.arch}: no supervisor key space; supervisor keys disabled`,
      );
  }

  /** The oops that panicked the kernel, if one did. */
  get panic(): OopsReport | undefined {
    return this.panicState.report;
  }
  get cpuCount(): number {
    return this.cpuViews.length;
  }

  /** The CPU with id `id`. */
  cpu(id: number): Cpu {
    this.sched.checkCpu(id);
    return this.cpuViews[id];
  }
  get cpus(): readonly Cpu[] {
    return this.cpuViews;
  }

  /**
   * @internal Changes whenever a thread is created, switched, migrated or dies: what a scheduler
   * compares to know that runnable counts it derived are still current.
   */
  get runqueueVersion(): number {
    return this.sched.runqueueVersion;
  }

  /**
   * @internal Call `watcher` with each thread whose state or runqueue changed (created, switched in
   * or out, migrated, dead), after the change: what lets a scheduler keep runnable counts current.
   */
  watchRunqueue(watcher: (thread: Thread) => void): void {
    this.sched.watchRunqueue(watcher);
  }

  /** The per-CPU cache of the last PKRS value written (pkrs_cache). */
  cachedRights(cpu: number): RightsState | undefined {
    this.sched.checkCpu(cpu);
    return this.writer.cached(cpu);
  }

  // --- threads --------------------------------------------------------------------------------------

  /** Every thread created so far. */
  threads(): readonly Thread[] {
    return this.sched.threads;
  }
  /** kthread_create(): a kernel thread on `cpu`, starting at PKS_INIT_VALUE. */
  kthread_create(name: string, cpu = 0): Thread {
    return this.sched.kthreadCreate(name, cpu);
  }
  /** A user task (with an XSAVE PKRU slot when the machine has user keys). */
  task_create(name: string, cpu = 0): Thread {
    return this.sched.taskCreate(name, cpu);
  }
  /** fork(): a copy of `parent` on `cpu` (default the parent's), inheriting its saved PKRU. */
  fork(parent: Thread, name: string, cpu?: number): Thread {
    return this.sched.fork(parent, name, cpu);
  }
  /** Move a thread that is not running to another CPU's runqueue. */
  migrate(thread: Thread, cpu: number): void {
    this.sched.migrate(thread, cpu);
  }
  /**
   * Run `hook(cpu, prev, next)` after every context switch, once `next` is current: the place for
   * work context_switch() does beside the register switch (switch_mm for user processes).
   */
  onContextSwitch(hook: ContextSwitchHook): void {
    if (typeof hook !== 'function') throw new KernelError('EINVAL', 'onContextSwitch needs a function');
    this.sched.switchHooks.push(hook);
  }
  /** The CPU's idle thread (swapper/N). */
  idle(cpu: number): Thread {
    this.sched.checkCpu(cpu);
    return this.sched.idleOf(cpu);
  }
  /** do_exit() of the thread running on `cpu`: it dies and the CPU runs its idle thread. */
  exitCurrent(cpu: number): void {
    this.sched.checkCpu(cpu);
    const t = this.sched.current(cpu);
    if (t.idle) throw new KernelError('EINVAL', `${t.name}: the idle thread cannot exit`);
    if (t.frames.length > 0 || t.kmaps.length > 0) {
      throw new KernelError(
        'EINVAL',
        `${t.name} (tid ${t.tid}) cannot exit with ${t.frames.length} open frame(s) and ${t.kmaps.length} kmap(s)`,
      );
    }
    this.sched.bury(t);
    this.sched.forceSwitch(cpu, this.sched.idleOf(cpu));
  }

  // --- keys -----------------------------------------------------------------------------------------

  /** pks_key_alloc(owner, flags): 1..15, -ENOSPC, -EOPNOTSUPP (dynamic design). */
  pks_key_alloc(owner: string, flags = 0): number {
    return this.keyApi.alloc(owner, flags);
  }
  /** pks_key_free(key): resets the key to AD in the current context of `cpu`, then frees it; returns nothing (void in every version). */
  pks_key_free(key: number, cpu = 0): void {
    this.sched.checkCpu(cpu);
    this.keyApi.free(cpu, key);
  }
  /** pks_abandon_protections(key) (V7): the key becomes read/write in every thread, for good; 0 or -errno. */
  pks_abandon_protections(key: number): number {
    return this.keyApi.abandon(key);
  }
  /** Undo pks_abandon_protections for the V7 test module, which reset pkrs_pkey_allowed_mask directly; tests only. */
  pks_test_restore_protections(key: number): void {
    this.keys.restore(key);
  }
  /** Register (or, with undefined, clear) the fault callback of an allocated key; returns 0 or -errno. */
  pks_set_fault_callback(key: number, callback: KeyFaultCallback | undefined): number {
    return this.keyApi.setFaultCallback(key, callback);
  }
  /** The key a static consumer was assigned ("PKS_KEY_TEST"), or an owner's dynamic key. */
  keyOf(owner: string): number | undefined {
    return this.keys.keyNamed(owner);
  }
  /** The debugfs listing pks_keys_allocated. */
  pks_keys_allocated(): KeyListing {
    return this.keyApi.listing();
  }
  /** The key's default rights (what closing a window restores). */
  keyDefault(key: number): number | undefined {
    return this.keys.isInRange(key) ? this.keys.defaultOf(key) : undefined;
  }

  /**
   * pks_update_exception(regs, key, prot) (V10): change what the interrupted context resumes with.
   * 0 or -errno; -EOPNOTSUPP in legacy RFC V1 mode, whose frames have no auxiliary area.
   */
  pks_update_exception(frame: ExceptionFrame, key: number, prot: number): number {
    if (!this.supported) return -Errno.EOPNOTSUPP;
    const bad = this.protection.checkKey(key) || this.protection.checkProt(prot);
    if (bad !== 0) return bad;
    if (!frame.live) {
      this.log.warn(`pks_update_exception: frame ${frame.vector} has already returned`);
      return -Errno.EINVAL;
    }
    if (!frame.aux) {
      this.log.warn('pks_update_exception: no pt_regs auxiliary area (legacy RFC V1 entry)');
      return -Errno.EOPNOTSUPP;
    }
    try {
      frame.aux.pkrs = this.space!.withDenials(frame.aux.pkrs, key, prot);
    } catch (error) {
      return errnoOf(error);
    }
    return 0;
  }

  // --- memory ---------------------------------------------------------------------------------------

  /** alloc_pages(): `count` contiguous zeroed pages; returns the physical address of the first. */
  alloc_pages(count = 1, options: AllocPagesOptions = {}): number {
    requireInteger(count, 'alloc_pages: count', 1, MAX_ALLOC_PAGES);
    return this.memory.allocPages(count, options);
  }
  /** alloc_page(): one zeroed page; returns its physical address. */
  alloc_page(options: AllocPagesOptions = {}): number {
    return this.memory.allocPages(1, options);
  }
  /** page_address(): the direct-map address of a page. */
  page_address(page: number): number {
    return this.memory.pageAddress(page);
  }
  /** set_memory_pks(): tag `numpages` direct-map pages at `address` with `key`; returns 0 or -errno. */
  set_memory_pks(address: number, numpages: number, key: number): number {
    // Types first: a NaN or a string must get -EINVAL, not a JavaScript error from formatting it.
    if (
      typeof address !== 'number' ||
      !Number.isInteger(address) ||
      typeof numpages !== 'number' ||
      typeof key !== 'number'
    ) {
      this.log.warn(`set_memory_pks: bad arguments (${echoValue(address)}, ${echoValue(numpages)}, ${echoValue(key)})`);
      return -Errno.EINVAL;
    }
    return this.memory.setMemoryPks(address, numpages, key);
  }
  /** vmap(): map `pages` (physical addresses) contiguously in the vmalloc area; returns the address. */
  vmap(pages: readonly number[], options?: VmapOptions): number {
    return this.memory.vmap(pages, options);
  }
  /** vunmap(): remove a vmap() mapping. */
  vunmap(address: number): void {
    this.memory.vunmap(address);
  }
  /** The key of the page mapping `address` in the kernel page tables (a walk), or undefined. */
  keyAt(address: number): number | undefined {
    return this.machine.translate(this.kernelSpace, address)?.domain;
  }

  /** Event counts summed over CPUs ({ rights_write, rights_write_skipped, context_switch, ... }). */
  stats(): Record<string, number> {
    return this.machine.events.summary();
  }
}
