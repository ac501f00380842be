import { PageSize } from '@pkeysim/core';
import type { Kernel } from '../kernel';
import { formatAddress, PAGE_SIZE } from '../layout';

/** What protecting part of the identity mapping did. */
export interface IdentityMapProtection {
  /** 0 or -errno, as set_memory_pks returns. */
  readonly result: number;
  readonly address: number;
  readonly pages: number;
  readonly key: number;
  /** Large direct-map pages (2 MiB, 1 GiB) that had to be split to 4 KiB to carry the key. */
  readonly splits: number;
}

/**
 * Identity-map protection (Kees Cook, reply to the PKS RFC, Jul 2020: the "Identity mapping" is
 * among the areas in need of PKS markings). The direct map's entries for `pages` pages at
 * `physical` get `key`, so a stray write through the identity mapping faults while the owner's own
 * mapping (a vmap with the default key) keeps working. A key lives in a leaf entry, so every large
 * page the range touches is split first (arch/x86/mm/pat/set_memory.c split_large_page); the
 * splits are counted and logged, since they cost TLB reach for all of the 2 MiB page.
 */
export function protectIdentityMap(
  kernel: Kernel,
  physical: number,
  pages: number,
  key: number,
): IdentityMapProtection {
  const address = kernel.page_address(physical);
  const space = kernel.machine.activeSpace(0);
  const large = new Set<number>();
  for (let i = 0; i < pages; i++) {
    const t = kernel.machine.translate(space, address + i * PAGE_SIZE);
    if (t && t.pageSize !== PageSize.Size4K) large.add(Math.floor((address + i * PAGE_SIZE) / t.pageSize));
  }
  const result = kernel.set_memory_pks(address, pages, key);
  const splits = result === 0 ? large.size : 0;
  if (result === 0)
    kernel.log.info(
      `identity map: ${pages} page(s) at ${formatAddress(address)} keyed ${key}; ${splits} large page(s) split to 4 KiB`,
    );
  return { result, address, pages, key, splits };
}
