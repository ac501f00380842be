import { DIRECT_MAP_BASE, type Kernel, KernelError, PAGE_SIZE } from '@pkeysim/kernel';

/** One large allocation split into 4 KiB pages. */
interface Block {
  readonly physical: number;
  /** Pages of this block currently handed out. */
  used: number;
}

/** Options for the grouped page cache: the key and the block size. */
export interface GroupedPageCacheOptions {
  /** The key the pages are pre-keyed with in the direct map; undefined leaves them on the default key. */
  readonly key?: number;
  /** Pages per block: 512 (one 2 MiB direct-map page, the default) or 1 to show the ungrouped cost. */
  readonly blockPages?: number;
}

/** A snapshot of the grouped page cache's counters. */
export interface GroupedPageCacheStats {
  readonly blocks: number;
  readonly freePages: number;
  readonly usedPages: number;
  /** set_memory_pks calls made (each one a TLB flush on every CPU). */
  readonly keyChanges: number;
  /** Blocks the shrinker gave back to the page allocator. */
  readonly blocksReleased: number;
}

/**
 * The "grouped page cache" of Edgecombe's PKS page tables RFC: page-table pages come from large
 * allocations whose direct-map entries are keyed once, as a whole, so keying does not shatter the
 * direct map's 2 MiB pages one table at a time. A shrinker gives wholly free blocks back.
 *
 * Blocks are aligned to their size, so a 512-page block is exactly one 2 MiB direct-map leaf and
 * set_memory_pks re-keys it without a split.
 */
export class GroupedPageCache {
  readonly blockPages: number;
  private readonly blockBytes: number;
  private readonly blocks = new Map<number, Block>();
  private readonly freeList: number[] = [];
  /** Blocks released by the shrinker: the simulator cannot free physical memory, so they are reused first. */
  private readonly returned: number[] = [];
  /** Direct-map addresses of the blocks, in the blocks' order (what containsAddress scans). */
  private starts: number[] = [];
  private keyChanges = 0;
  /** The block the last lookup found (cleared when a block is given back). */
  private lastBlock: Block | undefined;
  private blocksReleased = 0;
  private key: number | undefined;

  constructor(
    private readonly kernel: Kernel,
    options: GroupedPageCacheOptions = {},
  ) {
    const blockPages = options.blockPages ?? 512;
    if (!Number.isInteger(blockPages) || blockPages < 1 || blockPages > 512 || (blockPages & (blockPages - 1)) !== 0) {
      throw new KernelError(
        'EINVAL',
        `grouped page cache: blockPages must be a power of two 1..512, got ${String(blockPages)}`,
      );
    }
    this.blockPages = blockPages;
    this.blockBytes = blockPages * PAGE_SIZE;
    this.key = options.key;
  }

  /** get_grouped_page(): a page from the cache (not zeroed: the caller clears a new table). */
  alloc(): number {
    if (this.freeList.length === 0) this.grow();
    const page = this.freeList.pop()!;
    this.blockOf(page)!.used++;
    return page;
  }

  /** free_grouped_page(): the page goes back to the cache, still keyed. */
  free(page: number): void {
    const block = this.blockOf(page);
    if (!block || page % PAGE_SIZE !== 0 || this.freeList.includes(page)) {
      throw new KernelError('EINVAL', `grouped page cache: 0x${page.toString(16)} is not an allocated cache page`);
    }
    block.used--;
    this.freeList.push(page);
  }

  /** Whether a physical page belongs to the cache (free or in use). */
  contains(physical: number): boolean {
    return this.blockOf(physical) !== undefined;
  }

  /** Whether a kernel virtual address is the direct-map alias of a cache page. */
  containsAddress(virtual: number): boolean {
    // Every block's direct-map start, kept as blocks come and go: no Map walk per setter check.
    const starts = this.starts;
    for (let i = 0; i < starts.length; i++)
      if (virtual >= starts[i] && virtual < starts[i] + this.blockBytes) return true;
    return false;
  }

  /** Re-key every block (soft mode abandons protection by giving the pages back the default key). */
  rekey(key: number | undefined): void {
    this.key = key;
    for (const block of this.blocks.values()) this.setKey(block.physical, key ?? 0);
  }

  /** The shrinker's count_objects(): pages it could give back (the free pages of wholly free blocks). */
  count_objects(): number {
    let n = 0;
    for (const block of this.blocks.values()) if (block.used === 0) n += this.blockPages;
    return n;
  }

  /**
   * The shrinker's scan_objects(): give wholly free blocks back until `nrToScan` pages are freed;
   * each is re-keyed to the default key in one call. Free pages of a partly used block stay: giving
   * one back alone would split its 2 MiB direct-map page, which is what grouping avoids (pkeysim's
   * reading of the RFC). Returns the pages freed.
   */
  scan_objects(nrToScan: number): number {
    if (!Number.isInteger(nrToScan) || nrToScan < 0) {
      throw new KernelError('EINVAL', `shrinker: nr_to_scan must be a whole number >= 0, got ${String(nrToScan)}`);
    }
    let freed = 0;
    for (const block of [...this.blocks.values()]) {
      if (freed >= nrToScan) break;
      if (block.used !== 0) continue;
      if (this.key !== undefined) this.setKey(block.physical, 0);
      for (let i = this.freeList.length - 1; i >= 0; i--) {
        if (this.blockOf(this.freeList[i]) === block) this.freeList.splice(i, 1);
      }
      this.blocks.delete(block.physical);
      this.starts = [...this.blocks.keys()].map((physical) => DIRECT_MAP_BASE + physical);
      this.lastBlock = undefined;
      this.returned.push(block.physical);
      this.blocksReleased++;
      freed += this.blockPages;
    }
    return freed;
  }

  /** The cache's current counters: blocks, free and used pages, key changes, released blocks. */
  stats(): GroupedPageCacheStats {
    let used = 0;
    for (const block of this.blocks.values()) used += block.used;
    return {
      blocks: this.blocks.size,
      freePages: this.freeList.length,
      usedPages: used,
      keyChanges: this.keyChanges,
      blocksReleased: this.blocksReleased,
    };
  }

  /** Physical addresses of the blocks (for reports and tests). */
  blockAddresses(): number[] {
    return [...this.blocks.keys()];
  }

  private grow(): void {
    const physical =
      this.returned.pop() ?? this.kernel.machine.allocatePhysical(this.blockBytes, { align: this.blockBytes });
    const start = this.kernel.page_address(physical); // maps the block's direct-map chunk
    if (this.key !== undefined) this.setKey(physical, this.key);
    this.blocks.set(physical, { physical, used: 0 });
    this.starts.push(start);
    // Hand pages out from the lowest address: push in reverse so pop() returns the first.
    for (let i = this.blockPages - 1; i >= 0; i--) this.freeList.push(physical + i * PAGE_SIZE);
  }

  private setKey(physical: number, key: number): void {
    const rc = this.kernel.set_memory_pks(this.kernel.page_address(physical), this.blockPages, key);
    if (rc !== 0) throw new KernelError('EINVAL', `grouped page cache: set_memory_pks failed (${rc})`);
    this.keyChanges++;
  }

  private blockOf(physical: number): Block | undefined {
    // The block of the last lookup first: the setters and walks stay inside one block for long runs.
    const last = this.lastBlock;
    if (last !== undefined && physical >= last.physical && physical < last.physical + this.blockBytes) return last;
    const block = this.blocks.get(Math.floor(physical / this.blockBytes) * this.blockBytes);
    if (block !== undefined) this.lastBlock = block;
    return block;
  }
}
