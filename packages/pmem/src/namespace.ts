import {
  type AccessResult,
  type Cpu,
  formatAddress,
  type Kernel,
  KernelError,
  PAGE_SIZE,
  type ReadResult,
} from '@pkeysim/kernel';
import { type DevPagemap, PgmapProtection, type PgmapProtectionOptions } from './pgmap';

/** Options for a simulated pmem namespace: its size plus the pgmap protection options. */
export interface PmemNamespaceOptions extends PgmapProtectionOptions {
  /** Size in 4 KiB pages. */
  readonly pages: number;
}

/** What the next boot finds in the namespace, compared with what was meant to be written. */
export interface RebootCheck {
  /** Bytes that differ from the intended contents. */
  readonly bytesCorrupted: number;
  /** Namespace pages holding at least one corrupted byte. */
  readonly pagesCorrupted: number;
  /** Offset of the first corrupted byte, or undefined. */
  readonly firstCorruptOffset: number | undefined;
}

/** What dax_direct_access() hands back: a kernel address and the pfn of `pages` contiguous pages. */
export interface DaxMapping {
  readonly kaddr: number;
  readonly pfn: number;
  readonly pages: number;
}

/**
 * A persistent-memory namespace (an nvdimm "pmem" block device): persistent frames mapped through a
 * dev_pagemap, a driver read/write path and a DAX direct path that open the pgmap key only around
 * each access, and a shadow copy of everything meant to be written, checked after a reboot.
 */
export class PmemNamespace {
  /** Physical address of the first byte. */
  readonly physical: number;
  readonly size: number;
  /** virt_addr: the namespace's direct-map address. */
  readonly address: number;
  readonly pgmap: DevPagemap;
  /** The intended contents: every legitimate write, applied in order. */
  private readonly shadow: Uint8Array;
  /** dax_read_lock nesting per thread (tid -> depth). */
  private readonly daxDepth = new Map<number, number>();
  private rebooted = false;

  private constructor(
    readonly kernel: Kernel,
    readonly protection: PgmapProtection,
    readonly pages: number,
  ) {
    this.size = pages * PAGE_SIZE;
    this.physical = kernel.alloc_pages(pages, { persistent: true });
    this.address = kernel.page_address(this.physical);
    this.pgmap = protection.memremapPages(this.physical, this.size);
    this.shadow = new Uint8Array(this.size);
  }

  /** Allocate a namespace of `options.pages` persistent pages and map it through a (protected) pgmap. */
  static create(kernel: Kernel, options: PmemNamespaceOptions): PmemNamespace {
    if (!Number.isInteger(options.pages) || options.pages < 1 || options.pages > 65536)
      throw new KernelError(
        'EINVAL',
        `pmem namespace: pages must be a whole number from 1 to 65536, got ${String(options.pages)}`,
      );
    const protection = PgmapProtection.forKernel(kernel, options);
    return new PmemNamespace(kernel, protection, options.pages);
  }

  /** True when the pgmap has PGMAP_PROTECTION (a key was available and protection is on). */
  get protected(): boolean {
    return this.pgmap.protected;
  }

  /** The physical page of namespace page `index` (what kmap_local_page takes). */
  page(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.pages)
      throw new KernelError('EINVAL', `pmem: page ${String(index)} is outside the namespace (0..${this.pages - 1})`);
    return this.physical + index * PAGE_SIZE;
  }

  /** The direct-map address of byte `offset`. */
  addressOf(offset: number): number {
    this.checkRange(offset, 1, 'addressOf');
    return this.address + offset;
  }

  /** The namespace offset of a kernel address, or -1 when it is outside the namespace. */
  offsetOf(address: number): number {
    const offset = address - this.address;
    return offset >= 0 && offset < this.size ? offset : -1;
  }

  // --- the driver path (drivers/nvdimm/pmem.c) ------------------------------------------------------

  /**
   * pmem_do_write(): copy `bytes` to `offset`, one page at a time, each copy inside
   * pgmap_set_readwrite/noaccess (V10 "nvdimm/pmem: Enable stray access protection").
   */
  write(cpu: Cpu, offset: number, bytes: Uint8Array): AccessResult {
    this.checkRange(offset, bytes.length, 'pmem_do_write');
    let handledFaults = 0;
    for (let done = 0; done < bytes.length;) {
      const at = offset + done;
      const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), bytes.length - done);
      const page = this.physical + at - (at % PAGE_SIZE);
      this.protection.pgmap_set_readwrite(cpu, page);
      // Most writes stay inside one page: the bytes themselves, no view made.
      const chunk = n === bytes.length ? bytes : bytes.subarray(done, done + n);
      const result = cpu.write(this.address + at, chunk);
      handledFaults += result.handledFaults;
      // An oops killed the thread and dropped its windows: nothing left to close.
      if (!result.ok) return { ...result, handledFaults };
      this.protection.pgmap_set_noaccess(cpu, page);
      this.shadow.set(chunk, at);
      done += n;
    }
    return { ok: true, handledFaults };
  }

  /** pmem_do_read(): the read side of the driver path, also windowed per page. */
  read(cpu: Cpu, offset: number, length: number): ReadResult {
    this.checkRange(offset, length, 'pmem_do_read');
    const data = new Uint8Array(length);
    let handledFaults = 0;
    for (let done = 0; done < length;) {
      const at = offset + done;
      const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), length - done);
      const page = this.physical + at - (at % PAGE_SIZE);
      this.protection.pgmap_set_readwrite(cpu, page);
      const result = cpu.read(this.address + at, n);
      handledFaults += result.handledFaults;
      if (!result.ok) return { ...result, handledFaults };
      this.protection.pgmap_set_noaccess(cpu, page);
      data.set(result.data, done);
      done += n;
    }
    return { ok: true, handledFaults, data };
  }

  /** pmem_rw_page(): a whole page of I/O for the block layer. */
  pmem_rw_page(cpu: Cpu, index: number, op: 'read'): ReadResult;
  pmem_rw_page(cpu: Cpu, index: number, op: 'write', data: Uint8Array): AccessResult;
  pmem_rw_page(cpu: Cpu, index: number, op: 'read' | 'write', data?: Uint8Array): AccessResult | ReadResult {
    this.page(index);
    if (op === 'read') return this.read(cpu, index * PAGE_SIZE, PAGE_SIZE);
    if (op !== 'write' || !(data instanceof Uint8Array) || data.length !== PAGE_SIZE)
      throw new KernelError('EINVAL', `pmem_rw_page: op must be "read", or "write" with ${PAGE_SIZE} bytes`);
    return this.write(cpu, index * PAGE_SIZE, data);
  }

  // --- the DAX path (drivers/dax/super.c) -----------------------------------------------------------

  /**
   * dax_read_lock(): enter a DAX access section; it opens the pgmap key for this context (V7 "dax:
   * Stray access protection for dax_direct_access()"). Returns the lock id for dax_read_unlock.
   */
  dax_read_lock(cpu: Cpu): number {
    this.assertRunning();
    const tid = cpu.current.tid;
    const depth = (this.daxDepth.get(tid) ?? 0) + 1;
    this.protection.pgmap_set_readwrite(cpu, this.physical);
    this.daxDepth.set(tid, depth);
    return depth;
  }

  /** dax_read_unlock(id): leave the innermost DAX section; the key closes with the last one. */
  dax_read_unlock(cpu: Cpu, id: number): void {
    const tid = cpu.current.tid;
    const depth = this.daxDepth.get(tid) ?? 0;
    if (depth === 0 || id !== depth)
      throw new KernelError(
        'EINVAL',
        `unbalanced dax_read_unlock(${String(id)}): ${cpu.current.name} holds ${depth} DAX read lock(s)`,
      );
    this.protection.pgmap_set_noaccess(cpu, this.physical);
    if (depth === 1) this.daxDepth.delete(tid);
    else this.daxDepth.set(tid, depth - 1);
  }

  /** dax_direct_access(pgoff, nr_pages): the kernel address of namespace pages; needs dax_read_lock held. */
  dax_direct_access(cpu: Cpu, pgoff: number, nrPages: number): DaxMapping {
    if (!this.daxDepth.get(cpu.current.tid))
      throw new KernelError('EINVAL', `dax_direct_access: ${cpu.current.name} does not hold dax_read_lock`);
    if (!Number.isInteger(nrPages) || nrPages < 1)
      throw new KernelError('EINVAL', `dax_direct_access: nr_pages must be >= 1, got ${String(nrPages)}`);
    const physical = this.page(pgoff);
    const pages = Math.min(nrPages, this.pages - pgoff);
    return { kaddr: this.address + pgoff * PAGE_SIZE, pfn: physical / PAGE_SIZE, pages };
  }

  // --- stores through a window the caller holds ----------------------------------------------------

  /**
   * A legitimate store through a window the caller opened (kmap_local_page, kmap_atomic or a DAX
   * section): performed, and recorded in the shadow as intended when it lands.
   */
  store(cpu: Cpu, address: number, bytes: Uint8Array): AccessResult {
    const offset = this.offsetOf(address);
    if (offset < 0) throw new KernelError('EINVAL', `pmem store: ${formatAddress(address)} is outside the namespace`);
    this.checkRange(offset, bytes.length, 'pmem store');
    const result = cpu.write(address, bytes);
    if (result.ok) this.shadow.set(bytes, offset);
    return result;
  }

  /** A copy of the intended contents. */
  intended(): Uint8Array {
    return this.shadow.slice();
  }

  // --- reboot ------------------------------------------------------------------------------------------

  /**
   * Power-cycle the machine (RAM, page tables and CPU state are lost; persistent memory keeps its
   * contents) and compare what the next boot finds in the namespace with the intended contents.
   * The kernel must not be used afterwards.
   */
  rebootAndVerify(): RebootCheck {
    this.assertRunning();
    const machine = this.kernel.machine;
    machine.reboot();
    this.rebooted = true;
    // The comparison is its own function: its loop is compiled alone, not with the reboot inlined into it.
    return compareWithShadow(machine.readPhysical(this.physical, this.size), this.shadow, this.pages);
  }

  private checkRange(offset: number, length: number, op: string): void {
    this.assertRunning();
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 1 ||
      offset + length > this.size
    )
      throw new KernelError(
        'EINVAL',
        `${op}: [${String(offset)}, +${String(length)}) is outside the namespace (${this.size} bytes)`,
      );
  }

  private assertRunning(): void {
    if (this.rebooted) throw new KernelError('EINVAL', 'pmem: the machine has rebooted; this kernel is gone');
  }
}

const WORDS_PER_PAGE = PAGE_SIZE / 4;

/** What memory holds after the reboot against what the namespace's writers meant it to hold, page by page. */
function compareWithShadow(found: Uint8Array, shadow: Uint8Array, pages: number): RebootCheck {
  // Most pages match: compare them as 4-byte words (views made once), bytes only inside a word that differs.
  const words = wordsOf(found);
  const intended = wordsOf(shadow);
  let bytesCorrupted = 0;
  let pagesCorrupted = 0;
  let firstCorruptOffset: number | undefined;
  // One call per page: the byte loop is compiled as a function of its own, never entered mid-loop
  // (on-stack replacement) with this function's rarely reached lines still unseen.
  for (let page = 0; page < pages; page++) {
    const bad = corruptBytesIn(found, shadow, words, intended, page);
    if (bad === 0) continue;
    bytesCorrupted += bad;
    pagesCorrupted++;
    firstCorruptOffset ??= firstDifferenceIn(found, shadow, page);
  }
  return { bytesCorrupted, pagesCorrupted, firstCorruptOffset };
}

/** How many bytes of page `page` differ (`words`/`intended`: the same bytes as words, when aligned). */
function corruptBytesIn(
  found: Uint8Array,
  shadow: Uint8Array,
  words: Int32Array | undefined,
  intended: Int32Array | undefined,
  page: number,
): number {
  let bad = 0;
  if (words !== undefined && intended !== undefined) {
    for (let w = page * WORDS_PER_PAGE, end = w + WORDS_PER_PAGE; w < end; w++) {
      if (words[w] === intended[w]) continue;
      for (let i = w * 4; i < w * 4 + 4; i++) if (found[i] !== shadow[i]) bad++;
    }
  } else {
    for (let i = page * PAGE_SIZE; i < (page + 1) * PAGE_SIZE; i++) if (found[i] !== shadow[i]) bad++;
  }
  return bad;
}

/** The offset of the first differing byte of a page that has one. */
function firstDifferenceIn(found: Uint8Array, shadow: Uint8Array, page: number): number | undefined {
  for (let i = page * PAGE_SIZE; i < (page + 1) * PAGE_SIZE; i++) if (found[i] !== shadow[i]) return i;
  return undefined;
}

/** `bytes` as 32-bit words, when it starts on a word boundary and holds whole words (else undefined). */
function wordsOf(bytes: Uint8Array): Int32Array | undefined {
  if (bytes.byteOffset % 4 !== 0 || bytes.length % 4 !== 0) return undefined;
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}
