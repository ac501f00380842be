/**
 * The page walk of 4-level and 5-level paging (SDM vol. 3, 4.5). It reads entries from simulated
 * physical memory as (lo, hi) word pairs and leaves its result in fields of a reusable walker, so a
 * TLB miss allocates nothing. The walk's own reads are physical: keys never apply to them (SDM 4.6.2).
 */
import { PAGE_SIZE, tableIndex } from './address';
import * as entry from './entry';
import type { PagingLevel } from './entry';
import type { PhysicalMemory } from './physical-memory';
import * as tf from './translation-flags';

// Module-local copies (test runners turn imported bindings into property reads on every use).
const indexAt = tableIndex;
const reserved = entry.reservedBits;
const leaf = entry.isLeaf;
const addressOf = entry.entryAddress;
const PAGE = PAGE_SIZE;
const { E_A, E_D, E_G, E_P, E_PKEY_HI, E_PKEY_SHIFT, E_RW, E_US, E_XD_HI } = entry;
const { T_DIRTY, T_GLOBAL, T_PKEY_SHIFT, T_SIZE_SHIFT, T_USER, T_WRITE, T_XD } = tf;

export const WALK_OK = 0;
/** An entry on the way had P=0. */
export const WALK_NOT_PRESENT = 1;
/** A present entry had a reserved bit set. */
export const WALK_RESERVED = 2;

/** Physical address of the root table in CR3 (bits 51:12; the low 12 bits are PCID or PWT/PCD). */
export function cr3Root(cr3: number): number {
  return cr3 - (cr3 % PAGE_SIZE);
}

export class PageWalker {
  /** Physical address of the 4 KiB frame holding the address (inside a large page if need be). */
  frame = 0;
  /** Translation flags for the TLB (translation-flags.ts), valid after WALK_OK. */
  flags = 0;
  /** Physical address of the leaf entry (to set A and D) and its level. */
  leafEntry = 0;
  leafLevel: PagingLevel = 1;
  private readonly words = new Int32Array(2);

  constructor(private readonly memory: PhysicalMemory) {}

  /**
   * Walk `address` from the root table. With `setAccessed`, A is set in each non-leaf entry used, as
   * the walk goes (SDM 4.8; QEMU mmu_translate does the same before the permission checks); the
   * leaf's A and D are set by {@link markLeaf} only once the access is allowed (QEMU).
   * `reservedHi` is reservedHighMask() of the CPU; `pge` whether CR4.PGE=1.
   */
  walk(root: number, levels: 4 | 5, address: number, reservedHi: number, pge: boolean, setAccessed: boolean): number {
    const memory = this.memory;
    const words = this.words;
    let table = root;
    let user = 1;
    let writable = 1;
    let xd = 0;
    for (let level = levels as PagingLevel; level >= 1; level = (level - 1) as PagingLevel) {
      const entryAt = table + indexAt(address, level) * 8;
      memory.readEntry(entryAt, words);
      const lo = words[0];
      const hi = words[1];
      if ((lo & E_P) === 0) return WALK_NOT_PRESENT;
      if (reserved(lo, hi, level, reservedHi) !== 0) return WALK_RESERVED;
      // U/S and R/W are ANDed over the levels, XD ORed (SDM 4.6; table 4-20 notes).
      user &= (lo & E_US) >>> 2;
      writable &= (lo & E_RW) >>> 1;
      xd |= (hi & E_XD_HI) >>> 31;
      if (leaf(lo, level)) {
        const pagesInLeaf = 1 << (9 * (level - 1));
        const leafBase = level === 1 ? addressOf(lo, hi) : addressOf(lo & ~((pagesInLeaf * PAGE - 1) | 0), hi);
        this.frame = leafBase + (Math.floor(address / PAGE) & (pagesInLeaf - 1)) * PAGE;
        this.flags =
          (user !== 0 ? T_USER : 0) |
          (writable !== 0 ? T_WRITE : 0) |
          (xd !== 0 ? T_XD : 0) |
          ((lo & E_D) !== 0 ? T_DIRTY : 0) |
          (pge && (lo & E_G) !== 0 ? T_GLOBAL : 0) | // G counts only with CR4.PGE=1 (SDM 4.10.2.4)
          ((level - 1) << T_SIZE_SHIFT) |
          (((hi & E_PKEY_HI) >>> E_PKEY_SHIFT) << T_PKEY_SHIFT); // the key comes from the leaf (SDM 4.6.2)
        this.leafEntry = entryAt;
        this.leafLevel = level;
        return WALK_OK;
      }
      if (setAccessed && (lo & E_A) === 0) memory.writeEntry(entryAt, lo | E_A, hi);
      table = addressOf(lo, hi);
    }
    return WALK_NOT_PRESENT; // unreachable: level 1 is always a leaf
  }

  /** Set the leaf's A, and D on a write, as the processor does for an allowed access (SDM 4.8). */
  markLeaf(write: boolean): void {
    const words = this.words;
    this.memory.readEntry(this.leafEntry, words);
    const lo = words[0];
    const wanted = lo | E_A | (write ? E_D : 0);
    if (wanted !== lo) this.memory.writeEntry(this.leafEntry, wanted, words[1]);
  }
}
