import { Deny } from '@pkeysim/core';
import type { KernelContext } from '../context';
import { KernelError } from '../errors';
import { formatAddress, isKernelAddress, pageStart, PAGE_SIZE } from '../layout';
import type { Protection } from '../rights/protection';
import { describeThread, type KmapEntry, type TaskStruct } from '../sched/thread';
import type { KernelMemory } from './memory';

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
export class AccessWindows {
  /** Global kmaps by page address: the series could not support them, since PKS rights are per thread. */
  private readonly globalKmaps = new Map<number, GlobalKmap[]>();

  constructor(
    private readonly k: KernelContext,
    private readonly protection: Protection,
    private readonly memory: KernelMemory,
  ) {}

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
    this.open(cpu, thread, keys);
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
    this.close(cpu, thread, entry.keys);
  }

  /** Threads other than `thread` that hold a global kmap of the page containing `address`. */
  otherGlobalHolders(address: number, thread: TaskStruct): TaskStruct[] {
    const holders = this.globalKmaps.get(pageStart(address)) ?? [];
    return holders.filter((h) => h.holder !== thread).map((h) => h.holder);
  }

  /** Forget a dead thread's global kmaps. */
  dropThread(thread: TaskStruct): void {
    for (const [address, holders] of this.globalKmaps) {
      const kept = holders.filter((h) => h.holder !== thread);
      if (kept.length === 0) this.globalKmaps.delete(address);
      else this.globalKmaps.set(address, kept);
    }
  }

  private push(cpu: number, kind: KmapEntry['kind'], address: number, length: number, op: string): number {
    const thread = this.current(cpu);
    const keys = this.keysOf(address, length, op);
    this.open(cpu, thread, keys);
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
    this.close(cpu, thread, top.keys);
  }

  private open(cpu: number, thread: TaskStruct, keys: readonly number[]): void {
    for (const key of keys) {
      if (thread.windowCounts[key]++ === 0) this.protection.apply(cpu, key, Deny.None);
    }
  }

  private close(cpu: number, thread: TaskStruct, keys: readonly number[]): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      if (--thread.windowCounts[key] === 0) this.protection.apply(cpu, key, this.k.keys.defaultOf(key));
    }
  }

  /** The distinct non-default keys of the pages in a range, found by walking the page tables. */
  private keysOf(address: number, length: number, op: string): number[] {
    if (!Number.isInteger(address) || !isKernelAddress(address))
      throw new KernelError('EINVAL', `${op}: ${String(address)} is not a kernel address`);
    const keys: number[] = [];
    for (let page = pageStart(address); page < address + length; page += PAGE_SIZE) {
      const translation = this.k.machine.translate(this.k.kernelSpace, page);
      if (!translation) throw new KernelError('EFAULT', `${op}: ${formatAddress(page)} is not mapped`);
      const key = translation.domain;
      if (this.k.supported && key !== this.k.keys.shape.defaultDomain && !keys.includes(key)) keys.push(key);
    }
    return keys;
  }

  private current(cpu: number): TaskStruct {
    if (this.k.panic) throw new KernelError('EINVAL', `the kernel has panicked: ${this.k.panic.reason}`);
    return this.k.cpus[cpu].current;
  }
}
