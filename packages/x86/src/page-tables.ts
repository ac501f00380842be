/**
 * The machine's page tables under their x86 names: a thin view of the machine kit's radix engine
 * (which does every walk and edit, with the x86 codec). Levels are x86's: 1 = PT ... 5 = PML5.
 */
import type { RadixPageTable } from '@pkeysim/machine-kit';
import type { PagingLevel } from './entry';

/** A present leaf found by {@link X86PageTables.findLeaf}. */
export interface LeafLocation {
  /** Physical address of the entry. */
  readonly entryAt: number;
  readonly level: PagingLevel;
  readonly lo: number;
  readonly hi: number;
  /** The linear address where the leaf's page starts. */
  readonly start: number;
}

/** The machine's page tables under their x86 names: a thin view of the machine kit's radix engine. */
export class X86PageTables {
  constructor(private readonly engine: RadixPageTable) {}

  /** The present leaf that maps `address` from `root`, or undefined. Reads only. */
  findLeaf(root: number, address: number): LeafLocation | undefined {
    const leaf = this.engine.findLeaf(root, address);
    return leaf && { ...leaf, level: (leaf.level + 1) as PagingLevel };
  }

  /** Make `boundary` a leaf boundary, splitting the large leaf that straddles it (Linux split_large_page). */
  splitAt(root: number, boundary: number): void {
    this.engine.splitAt(root, boundary);
  }

  /** The first address of [start, end) some leaf maps, or undefined. */
  firstMapped(root: number, start: number, end: number): number | undefined {
    return this.engine.firstMapped(root, start, end);
  }

  /** The first address of [start, end) no leaf maps, or undefined. */
  firstUnmapped(root: number, start: number, end: number): number | undefined {
    return this.engine.firstUnmapped(root, start, end);
  }

  /** Write `pkey` into bits 62:59 of every leaf of the range, with no TLB invalidation (validated by the caller). */
  setKey(root: number, virtual: number, length: number, pkey: number): void {
    this.engine.setDomain(root, virtual, length, pkey);
  }
}
