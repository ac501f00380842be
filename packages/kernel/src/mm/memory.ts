import { type AddressSpaceId, isDomainError, type Machine, PageSize } from '@pkeysim/core';
import { Errno, KernelError } from '../errors';
import type { KeyTable } from '../keys/key-table';
import {
  DIRECT_MAP_CHUNK,
  directMapAddress,
  formatAddress,
  isDirectMapAddress,
  PAGE_SIZE,
  VMAP_BASE,
  VMAP_SIZE,
} from '../layout';
import type { KernelLog } from '../log';

/** Options for alloc_pages(). */
export interface AllocPagesOptions {
  /** Take the pages from persistent memory (PMEM), whose contents survive a reboot. */
  readonly persistent?: boolean;
}

/** Options for vmap(): the mapping's key and writability. */
export interface VmapOptions {
  /** The key of the new mapping (PAGE_KERNEL_PKEY(key)); the default key when omitted. */
  readonly key?: number;
  /** Whether the mapping is writable (default true). */
  readonly writable?: boolean;
}

/**
 * Kernel memory: page allocation with the direct map built lazily from 2 MiB pages, vmap() into the
 * vmalloc area, and set_memory_pks() re-keying direct-map pages.
 */
export class KernelMemory {
  private readonly mappedChunks = new Set<number>();
  private nextVmap = VMAP_BASE;
  private readonly vmapAreas = new Map<number, { readonly length: number }>();

  constructor(
    private readonly machine: Machine,
    private readonly kernelSpace: AddressSpaceId,
    private readonly supported: boolean,
    private readonly keys: KeyTable,
    private readonly log: KernelLog,
  ) {}

  /** alloc_pages(): `count` contiguous zeroed pages; returns the physical address of the first. */
  allocPages(count = 1, options: AllocPagesOptions = {}): number {
    if (!Number.isInteger(count) || count < 1)
      throw new KernelError('EINVAL', `alloc_pages: count must be a whole number >= 1, got ${String(count)}`);
    const length = count * PAGE_SIZE;
    let physical: number;
    try {
      physical = this.machine.allocatePhysical(length, { persistent: options.persistent === true, align: PAGE_SIZE });
    } catch (error) {
      // The machine's RAM is full ('exhausted'): alloc_pages() returns NULL, which callers see as -ENOMEM.
      if (error instanceof RangeError || isDomainError(error, 'exhausted'))
        throw new KernelError('ENOMEM', `alloc_pages(${count}): ${(error as Error).message}`);
      throw error;
    }
    this.ensureDirectMap(physical, length);
    return physical;
  }

  /** page_address(): the direct-map address of a page (its chunk is mapped on first use). */
  pageAddress(physical: number): number {
    if (!Number.isInteger(physical) || physical < 0 || physical % PAGE_SIZE !== 0) {
      throw new KernelError('EINVAL', `page_address: ${String(physical)} is not a page-aligned physical address`);
    }
    this.ensureDirectMap(physical, PAGE_SIZE);
    return directMapAddress(physical);
  }

  /**
   * set_memory_pks(addr, numpages, key) (Edgecombe's PKS page tables RFC; V10 used the same idea for
   * the test key): tag direct-map pages with a key. The machine splits the 2 MiB pages that straddle
   * the range and flushes every CPU's TLB (counted as flushes and shootdowns). Returns 0 or -errno.
   */
  setMemoryPks(address: number, numpages: number, key: number): number {
    if (!this.supported) return -Errno.EOPNOTSUPP;
    if (!Number.isInteger(numpages) || numpages < 1) {
      this.log.warn(`set_memory_pks: numpages must be >= 1, got ${String(numpages)}`);
      return -Errno.EINVAL;
    }
    if (
      !Number.isInteger(address) ||
      address % PAGE_SIZE !== 0 ||
      !isDirectMapAddress(address) ||
      !isDirectMapAddress(address + numpages * PAGE_SIZE - 1)
    ) {
      this.log.warn(`set_memory_pks: ${formatAddress(address)} is not a page-aligned direct-map address`);
      return -Errno.EINVAL;
    }
    if (!this.keys.isInRange(key) || (key !== this.keys.shape.defaultDomain && !this.keys.isAllocated(key))) {
      this.log.warn(`set_memory_pks: key ${String(key)} is not allocated`);
      return -Errno.EINVAL;
    }
    for (let i = 0; i < numpages; i++) {
      if (!this.machine.translate(this.kernelSpace, address + i * PAGE_SIZE)) {
        this.log.warn(`set_memory_pks: ${formatAddress(address + i * PAGE_SIZE)} is not mapped`);
        return -Errno.EINVAL;
      }
    }
    this.machine.attach(this.kernelSpace, address, numpages * PAGE_SIZE, key);
    return 0;
  }

  /** vmap(): map `pages` (physical addresses) contiguously in the vmalloc area with a key. */
  vmap(pages: readonly number[], options: VmapOptions = {}): number {
    const key = options.key ?? this.keys.shape.defaultDomain;
    if (!Array.isArray(pages) || pages.length === 0) throw new KernelError('EINVAL', 'vmap: needs at least one page');
    for (const page of pages) {
      if (!Number.isInteger(page) || page < 0 || page % PAGE_SIZE !== 0) {
        throw new KernelError('EINVAL', `vmap: ${String(page)} is not a page-aligned physical address`);
      }
    }
    if (key !== this.keys.shape.defaultDomain) {
      if (!this.supported)
        throw new KernelError('EOPNOTSUPP', `vmap: key ${key} requested but supervisor keys are not supported`);
      if (!this.keys.isAllocated(key)) throw new KernelError('EINVAL', `vmap: key ${String(key)} is not allocated`);
    }
    const length = pages.length * PAGE_SIZE;
    // One unmapped guard page after each area, as vmalloc does.
    if (this.nextVmap + length + PAGE_SIZE > VMAP_BASE + VMAP_SIZE)
      throw new KernelError('ENOSPC', 'vmap: the vmalloc area is full');
    const address = this.nextVmap;
    pages.forEach((page, i) => {
      this.machine.map(this.kernelSpace, address + i * PAGE_SIZE, page, PAGE_SIZE, {
        user: false,
        writable: options.writable ?? true,
        executable: false,
        global: true,
        domain: key,
      });
    });
    this.nextVmap = address + length + PAGE_SIZE;
    this.vmapAreas.set(address, { length });
    return address;
  }

  vunmap(address: number): void {
    const area = this.vmapAreas.get(address);
    if (!area) throw new KernelError('EINVAL', `vunmap: ${formatAddress(address)} is not the start of a vmap area`);
    this.machine.unmap(this.kernelSpace, address, area.length);
    this.vmapAreas.delete(address);
  }

  private ensureDirectMap(physical: number, length: number): void {
    const first = Math.floor(physical / DIRECT_MAP_CHUNK) * DIRECT_MAP_CHUNK;
    for (let chunk = first; chunk < physical + length; chunk += DIRECT_MAP_CHUNK) {
      if (this.mappedChunks.has(chunk)) continue;
      this.machine.map(this.kernelSpace, directMapAddress(chunk), chunk, DIRECT_MAP_CHUNK, {
        user: false,
        writable: true,
        executable: false,
        global: true,
        pageSize: PageSize.Size2M,
      });
      this.mappedChunks.add(chunk);
    }
  }
}
