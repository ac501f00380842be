import { type AddressSpaceId, Deny, type Machine } from '@pkeysim/core';
import { KernelError } from '../errors';
import type { KeyTable } from '../keys/key-table';
import { formatAddress, isKernelAddress, pageStart, PAGE_SIZE } from '../layout';
import type { PanicStatus } from '../panic';
import type { Protection } from '../rights/protection';
import type { Sched } from '../sched/sched';
import { describeThread, type KmapEntry, type TaskStruct } from '../sched/thread';
import type { KernelMemory } from './memory';

/** Which primitive opened a window: kmap_local_page/kmap_local_range ('local'), kmap_atomic, or global kmap(). */
export type KmapKind = KmapEntry['kind'] | 'global';

/**
 * A consumer's hook on the access windows of its key. V10 hooked PMEM into kmap
 * (include/linux/highmem-internal.h: kmap_local_page()/kmap_atomic() call pgmap_set_readwrite(page),
 * kunmap_local()/kunmap_atomic() call pgmap_set_noaccess(page)). A window over pages of `key` calls
 * the hook instead of opening the key itself; every other key keeps the generic behaviour.
 */
export interface KmapHook {
  readonly key: number;
  /** A window over `[address, address + length)` opened on `cpu` (once per window, before it is recorded). */
  map(cpu: number, address: number, length: number, kind: KmapKind): void;
  /** The window is closing (once per window, after it was removed). */
  unmap(cpu: number, address: number, length: number, kind: KmapKind): void;
}

/** What a consumer gets from {@link kmapHooks}: hook registration and the nesting count windows use. */
export interface KmapHookPoints {
  /** Let `hook` handle windows over its key; returns a function that removes it. One hook per key. */
  add(hook: KmapHook): () => void;
  /** Open `key` for the current context of `cpu`: the per-context nesting count; rights change on 0->1. */
  openKey(cpu: number, key: number): void;
  /** Close `key` again: the key's default rights return on 1->0. Unbalanced: EINVAL, nothing changes. */
  closeKey(cpu: number, key: number): void;
  /** The current context's nesting count for `key` on `cpu`. */
  openCount(cpu: number, key: number): number;
}

/** Each kernel's windows, found by its machine (the Kernel keeps AccessWindows private). */
const windowsByMachine = new WeakMap<Machine, AccessWindows>();

/**
 * How many kmap_local/kmap_atomic mappings one task may hold at once: a BUG in Linux past it
 * (include/asm-generic/kmap_size.h: KM_MAX_IDX 16 without CONFIG_DEBUG_KMAP_LOCAL; mm/highmem.c
 * kmap_local_idx_push() BUG_ON(idx >= KM_MAX_IDX)). Interrupt handlers share the task's stack.
 */
export const KM_MAX_IDX = 16;

/** The kmap hook points of `kernel` (anything with the kernel's `machine`). */
export function kmapHooks(kernel: { readonly machine: Machine }): KmapHookPoints {
  const windows = windowsByMachine.get(kernel.machine);
  if (!windows) throw new KernelError('EINVAL', 'kmapHooks: no kernel is booted on this machine');
  return windows;
}

/** The key lists of windows, shared (never written): none, and each single key. */
const NO_KEYS: readonly number[] = Object.freeze([]);
const ONE_KEY: readonly (readonly number[])[] = Array.from({ length: 64 }, (_, key) => Object.freeze([key]));
const NO_THREADS: readonly TaskStruct[] = Object.freeze([]);

/** One thread's global kmap() of a page. */
interface GlobalKmap {
  readonly holder: TaskStruct;
  readonly keys: readonly number[];
}

/**
 * Access windows: mapping a page opens its key for the current context, unmapping closes it.
 * The series hooked PKS into kmap_local_page()/kmap_atomic() and their unmaps (V10 "mm/pkeys:
 * Add PKS support to kmap"): pgmap_set_readwrite()/pgmap_set_noaccess() keep a per-thread nesting
 * count per key and change the rights only on 0<->1 transitions.
 */
export class AccessWindows implements KmapHookPoints {
  /** Global kmaps by page address: the series could not support them, since PKS rights are per thread. */
  private readonly globalKmaps = new Map<number, GlobalKmap[]>();
  /** Hooks indexed by key (a plain array: looked up on every window). */
  private readonly hooks: (KmapHook | undefined)[];

  constructor(
    private readonly machine: Machine,
    private readonly kernelSpace: AddressSpaceId,
    private readonly supported: boolean,
    private readonly keys: KeyTable,
    private readonly sched: Sched,
    private readonly panic: PanicStatus,
    private readonly protection: Protection,
    private readonly memory: KernelMemory,
  ) {
    this.hooks = new Array<KmapHook | undefined>(keys.domains).fill(undefined);
    windowsByMachine.set(machine, this);
  }

  add(hook: KmapHook): () => void {
    this.checkKeyWindow(hook.key, 'kmap hook');
    if (this.hooks[hook.key]) throw new KernelError('EBUSY', `kmap hook: key ${hook.key} already has a hook`);
    this.hooks[hook.key] = hook;
    return () => {
      if (this.hooks[hook.key] === hook) this.hooks[hook.key] = undefined;
    };
  }

  openKey(cpu: number, key: number): void {
    const thread = this.current(cpu);
    this.checkKeyWindow(key, 'openKey');
    this.openGeneric(cpu, thread, key);
  }

  closeKey(cpu: number, key: number): void {
    const thread = this.current(cpu);
    this.checkKeyWindow(key, 'closeKey');
    if (thread.windowCounts[key] === 0)
      throw new KernelError('EINVAL', `unbalanced close of key ${key}: ${describeThread(thread)} has it open 0 times`);
    this.closeGeneric(cpu, thread, key);
  }

  openCount(cpu: number, key: number): number {
    this.checkKeyWindow(key, 'openCount');
    return this.current(cpu).windowCounts[key];
  }

  kmapLocalPage(cpu: number, physical: number): number {
    return this.push(cpu, 'local', this.memory.pageAddress(physical), PAGE_SIZE, 'kmap_local_page');
  }

  /** kmap_atomic(): kmap_local_page that also disables preemption and page faults. */
  kmapAtomic(cpu: number, physical: number): number {
    return this.push(cpu, 'atomic', this.memory.pageAddress(physical), PAGE_SIZE, 'kmap_atomic');
  }

  /** kmap_local_range(addr, len) (proposed at LSFMM 2022 for multi-page objects such as Btrfs' 16 KiB blocks). */
  kmapLocalRange(cpu: number, address: number, length: number): number {
    if (!Number.isInteger(length) || length < 1)
      throw new KernelError('EINVAL', `kmap_local_range: length must be >= 1, got ${String(length)}`);
    return this.push(cpu, 'local', address, length, 'kmap_local_range');
  }

  /** kunmap_local(addr): must unmap the most recent kmap_local mapping (mappings are a stack). */
  kunmapLocal(cpu: number, address: number): void {
    this.pop(cpu, 'local', address, 'kunmap_local');
  }

  kunmapAtomic(cpu: number, address: number): void {
    this.pop(cpu, 'atomic', address, 'kunmap_atomic');
  }

  /** kmap(): a global mapping. It opens the key for the calling thread only. */
  kmap(cpu: number, physical: number): number {
    const thread = this.current(cpu);
    const address = this.memory.pageAddress(physical);
    const keys = this.keysOf(address, PAGE_SIZE, 'kmap');
    this.open(cpu, thread, keys, address, PAGE_SIZE, 'global');
    const holders = this.globalKmaps.get(address) ?? [];
    holders.push({ holder: thread, keys });
    this.globalKmaps.set(address, holders);
    return address;
  }

  kunmap(cpu: number, physical: number): void {
    const thread = this.current(cpu);
    const address = this.memory.pageAddress(physical);
    const holders = this.globalKmaps.get(address) ?? [];
    const index = holders.findIndex((h) => h.holder === thread);
    if (index < 0) {
      const others = holders.map((h) => describeThread(h.holder)).join(', ');
      throw new KernelError(
        'EINVAL',
        others
          ? `kunmap: ${describeThread(thread)} holds no kmap of ${formatAddress(address)} (held by ${others}): global kmap used across threads, and PKS rights are per thread`
          : `unbalanced kunmap: ${formatAddress(address)} is not kmapped`,
      );
    }
    const [entry] = holders.splice(index, 1);
    if (holders.length === 0) this.globalKmaps.delete(address);
    this.close(cpu, thread, entry.keys, address, PAGE_SIZE, 'global');
  }

  /** Threads other than `thread` that hold a global kmap of the page containing `address`. */
  otherGlobalHolders(address: number, thread: TaskStruct): readonly TaskStruct[] {
    // Checked on every kernel fault: no global kmap (the usual case) costs no lookup and no array.
    if (this.globalKmaps.size === 0) return NO_THREADS;
    const holders = this.globalKmaps.get(pageStart(address));
    if (holders === undefined) return NO_THREADS;
    return holders.filter((h) => h.holder !== thread).map((h) => h.holder);
  }

  /** Forget a dead thread's global kmaps. */
  dropThread(thread: TaskStruct): void {
    // Every oops kills a thread: without global kmaps (the usual case) there is nothing to iterate.
    if (this.globalKmaps.size === 0) return;
    for (const [address, holders] of this.globalKmaps) {
      const kept = holders.filter((h) => h.holder !== thread);
      if (kept.length === 0) this.globalKmaps.delete(address);
      else this.globalKmaps.set(address, kept);
    }
  }

  private push(cpu: number, kind: KmapEntry['kind'], address: number, length: number, op: string): number {
    const thread = this.current(cpu);
    if (thread.kmaps.length >= KM_MAX_IDX) {
      throw new KernelError(
        'EINVAL',
        `${op}: ${describeThread(thread)} already holds ${thread.kmaps.length} kmap_local/kmap_atomic mappings (KM_MAX_IDX is ${KM_MAX_IDX})`,
      );
    }
    const keys = this.keysOf(address, length, op);
    this.open(cpu, thread, keys, address, length, kind);
    thread.kmaps.push({ kind, address, length, keys });
    if (kind === 'atomic') thread.atomicDepth++;
    return address;
  }

  private pop(cpu: number, kind: KmapEntry['kind'], address: number, op: string): void {
    const thread = this.current(cpu);
    const top = thread.kmaps[thread.kmaps.length - 1];
    const floor = thread.frames.length > 0 ? thread.frames[thread.frames.length - 1].kmapDepth : 0;
    if (!top || thread.kmaps.length <= floor) {
      throw new KernelError(
        'EINVAL',
        `unbalanced ${op}(${formatAddress(address)}): ${describeThread(thread)} has no open kmap in this context`,
      );
    }
    if (address < top.address || address >= top.address + top.length || top.kind !== kind) {
      throw new KernelError(
        'EINVAL',
        `unbalanced ${op}(${formatAddress(address)}): the most recent mapping is ${top.kind === 'atomic' ? 'kmap_atomic' : 'kmap_local'} ${formatAddress(top.address)} (mappings must be released in reverse order)`,
      );
    }
    thread.kmaps.pop();
    if (kind === 'atomic') thread.atomicDepth--;
    this.close(cpu, thread, top.keys, top.address, top.length, kind);
  }

  private open(
    cpu: number,
    thread: TaskStruct,
    keys: readonly number[],
    address: number,
    length: number,
    kind: KmapKind,
  ): void {
    for (const key of keys) {
      const hook = this.hooks[key];
      if (hook) hook.map(cpu, address, length, kind);
      else this.openGeneric(cpu, thread, key);
    }
  }

  private close(
    cpu: number,
    thread: TaskStruct,
    keys: readonly number[],
    address: number,
    length: number,
    kind: KmapKind,
  ): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      const hook = this.hooks[key];
      if (hook) hook.unmap(cpu, address, length, kind);
      else this.closeGeneric(cpu, thread, key);
    }
  }

  private openGeneric(cpu: number, thread: TaskStruct, key: number): void {
    if (thread.windowCounts[key]++ === 0) this.protection.apply(cpu, key, Deny.None);
  }

  private closeGeneric(cpu: number, thread: TaskStruct, key: number): void {
    if (--thread.windowCounts[key] === 0) this.protection.apply(cpu, key, this.keys.defaultOf(key));
  }

  private checkKeyWindow(key: number, op: string): void {
    if (!this.supported) throw new KernelError('EOPNOTSUPP', `${op}: supervisor keys are not supported`);
    if (!this.keys.isAllocated(key)) throw new KernelError('EINVAL', `${op}: key ${String(key)} is not allocated`);
  }

  /** The distinct non-default keys of the pages in a range, found by walking the page tables. */
  private keysOf(address: number, length: number, op: string): readonly number[] {
    if (!Number.isInteger(address) || !isKernelAddress(address))
      throw new KernelError('EINVAL', `${op}: ${String(address)} is not a kernel address`);
    let keys: readonly number[] = NO_KEYS;
    for (let page = pageStart(address); page < address + length; page += PAGE_SIZE) {
      const translation = this.machine.translate(this.kernelSpace, page);
      if (!translation) throw new KernelError('EFAULT', `${op}: ${formatAddress(page)} is not mapped`);
      const key = translation.domain;
      if (!this.supported || key === this.keys.shape.defaultDomain || keys.includes(key)) continue;
      // One key (a window over one page, the usual case) is a shared array: a window allocates none.
      keys = keys.length === 0 ? (ONE_KEY[key] ?? [...keys, key]) : [...keys, key];
    }
    return keys;
  }

  private current(cpu: number): TaskStruct {
    this.panic.assertRunning();
    return this.sched.current(cpu);
  }
}
