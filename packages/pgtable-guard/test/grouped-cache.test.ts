import { MachineEvent, PageSize } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { GroupedPageCache, PgtableGuard } from '../src';
import { boot } from './helpers';

describe('grouped page cache', () => {
  it('splits one 2 MiB block into 512 pages and takes a second block only for the 513th', () => {
    const kernel = boot();
    const cache = new GroupedPageCache(kernel, {});
    const pages = Array.from({ length: 512 }, () => cache.alloc());
    expect(new Set(pages).size).toBe(512);
    expect(cache.blockAddresses()).toHaveLength(1);
    const [block] = cache.blockAddresses();
    expect(block % PageSize.Size2M).toBe(0);
    expect(pages.every((p) => p >= block && p < block + PageSize.Size2M)).toBe(true);
    cache.alloc();
    expect(cache.stats()).toMatchObject({ blocks: 2, usedPages: 513, freePages: 511 });
  });

  it('pre-keys a whole block in one call, keeping its direct-map page 2 MiB', () => {
    const kernel = boot();
    const key = kernel.keyOf('PKS_KEY_PG_TABLES')!;
    const cache = new GroupedPageCache(kernel, { key });
    const before = kernel.machine.events.total(MachineEvent.Shootdown);
    const pages = [cache.alloc(), cache.alloc(), cache.alloc()];
    for (const page of pages) {
      const t = kernel.machine.translate(0, kernel.page_address(page))!;
      expect(t.domain).toBe(key);
      expect(t.pageSize).toBe(PageSize.Size2M);
    }
    expect(cache.stats().keyChanges).toBe(1);
    expect(kernel.machine.events.total(MachineEvent.Shootdown) - before).toBe(1); // one per other CPU, once
  });

  it('without grouping every table page shatters its direct-map page and costs a shootdown of its own', () => {
    const kernel = boot();
    const key = kernel.keyOf('PKS_KEY_PG_TABLES')!;
    const cache = new GroupedPageCache(kernel, { key, blockPages: 1 });
    const before = kernel.machine.events.total(MachineEvent.Shootdown);
    const pages = [cache.alloc(), cache.alloc(), cache.alloc()];
    for (const page of pages) {
      const t = kernel.machine.translate(0, kernel.page_address(page))!;
      expect(t.domain).toBe(key);
      expect(t.pageSize).toBe(PageSize.Size4K);
    }
    expect(cache.stats().keyChanges).toBe(3);
    expect(kernel.machine.events.total(MachineEvent.Shootdown) - before).toBe(3);
  });

  it('the shrinker gives back wholly free blocks, re-keyed to the default key, and keeps partly used ones', () => {
    const kernel = boot();
    const key = kernel.keyOf('PKS_KEY_PG_TABLES')!;
    const cache = new GroupedPageCache(kernel, { key, blockPages: 8 });
    const first = Array.from({ length: 8 }, () => cache.alloc());
    const second = [cache.alloc(), cache.alloc()];
    expect(cache.count_objects()).toBe(0);
    for (const p of first) cache.free(p);
    cache.free(second[0]);
    expect(cache.count_objects()).toBe(8);
    expect(cache.scan_objects(100)).toBe(8);
    expect(cache.stats()).toMatchObject({ blocks: 1, usedPages: 1, freePages: 7, blocksReleased: 1 });
    expect(kernel.machine.translate(0, kernel.page_address(first[0]))!.domain).toBe(0);
    expect(kernel.machine.translate(0, kernel.page_address(second[1]))!.domain).toBe(key);
    expect(cache.contains(first[0])).toBe(false);
    expect(cache.scan_objects(100)).toBe(0);
  });

  it('a released block is no longer in the cache, by physical or direct-map address, even right after a lookup found it', () => {
    const kernel = boot();
    const cache = new GroupedPageCache(kernel, { blockPages: 4 });
    const first = Array.from({ length: 4 }, () => cache.alloc());
    const kept = cache.alloc();
    for (const p of first) cache.free(p);
    expect(cache.contains(first[3])).toBe(true); // the last lookup found the block about to go
    expect(cache.containsAddress(kernel.page_address(first[3]))).toBe(true);
    expect(cache.scan_objects(4)).toBe(4);
    expect(cache.contains(first[3])).toBe(false);
    expect(cache.containsAddress(kernel.page_address(first[3]))).toBe(false);
    expect(cache.contains(kept)).toBe(true);
    expect(cache.containsAddress(kernel.page_address(kept) + 4095)).toBe(true);
    const reused = cache.alloc(); // from the kept block's free pages
    expect(cache.contains(reused)).toBe(true);
  });

  it('the shrinker stops once it freed nr_to_scan pages, and a released block is reused and re-keyed', () => {
    const kernel = boot();
    const key = kernel.keyOf('PKS_KEY_PG_TABLES')!;
    const cache = new GroupedPageCache(kernel, { key, blockPages: 4 });
    const pages = Array.from({ length: 12 }, () => cache.alloc());
    for (const p of pages) cache.free(p);
    expect(cache.scan_objects(5)).toBe(8);
    expect(cache.stats().blocks).toBe(1);
    expect(cache.scan_objects(0)).toBe(0);
    cache.scan_objects(4);
    const reused = cache.alloc();
    expect(cache.blockAddresses()).toHaveLength(1);
    expect(pages).toContain(reused);
    expect(kernel.machine.translate(0, kernel.page_address(reused))!.domain).toBe(key);
  });

  it('refuses bad arguments before changing anything', () => {
    const kernel = boot();
    expect(() => new GroupedPageCache(kernel, { blockPages: 3 })).toThrow(/power of two/);
    const cache = new GroupedPageCache(kernel);
    const page = cache.alloc();
    expect(() => cache.free(page + 8)).toThrow(/not an allocated cache page/);
    cache.free(page);
    expect(() => cache.free(page)).toThrow(/not an allocated cache page/);
    expect(() => cache.scan_objects(-1)).toThrow(/nr_to_scan/);
    expect(cache.stats()).toMatchObject({ usedPages: 0, freePages: 512 });
  });

  it('the guard takes its page-table pages from a pre-keyed grouped cache', () => {
    const kernel = boot();
    const guard = new PgtableGuard(kernel);
    const mm = guard.pgd_alloc(0);
    guard.map_page(0, mm, 0x400000, kernel.alloc_page(), { user: true, writable: true, executable: false });
    const tables = guard.tablePages(mm);
    expect(tables).toHaveLength(4); // PGD, PUD, PMD, PTE
    for (const t of tables) {
      expect(guard.cache.contains(t)).toBe(true);
      expect(kernel.keyAt(kernel.page_address(t))).toBe(guard.pgtableKey);
    }
    expect(kernel.machine.translate(0, kernel.page_address(tables[0]))!.pageSize).toBe(PageSize.Size2M);
  });
});
