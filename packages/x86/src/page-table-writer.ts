/**
 * Software's side of paging: builds and edits 4-/5-level page tables in simulated physical memory,
 * the way a kernel does (Linux arch/x86/mm). Non-leaf entries are written present, R/W=1, U/S=1,
 * XD=0, so the leaf alone decides the rights (Linux _PAGE_TABLE). Every operation validates the
 * whole range before writing anything. Large leaves that a range covers only in part are split
 * (Linux split_large_page in arch/x86/mm/pat/set_memory.c).
 */
import { PageSize } from '@pkeysim/core';
import { formatAddress, PAGE_SIZE, tableIndex, TWO_32 } from './address';
import {
  E_A,
  E_ADDR_HI,
  E_ADDR_LO,
  E_D,
  E_G,
  E_P,
  E_PAT_LARGE,
  E_PCD,
  E_PKEY_HI,
  E_PKEY_SHIFT,
  E_PS,
  E_PWT,
  E_RW,
  E_US,
  E_XD_HI,
  entryAddress,
  isLeaf,
  leafShift,
  type PagingLevel,
} from './entry';
import type { PhysicalMemory } from './physical-memory';

/** The leaf bits a mapping asks for. */
export interface LeafAttributes {
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly pkey: number;
  readonly global: boolean;
  readonly pageSize: PageSize;
}

/** A leaf found by {@link PageTableWriter.findLeaf}. */
export interface LeafLocation {
  /** Physical address of the entry. */
  readonly entryAt: number;
  readonly level: PagingLevel;
  readonly lo: number;
  readonly hi: number;
  /** The linear address where the leaf's page starts. */
  readonly start: number;
}

/** Non-leaf entries: present, writable, user (Linux _PAGE_TABLE without A/D: the walk sets A). */
const TABLE_FLAGS = E_P | E_RW | E_US;

function levelOfSize(pageSize: PageSize): PagingLevel {
  return pageSize === PageSize.Size1G ? 3 : pageSize === PageSize.Size2M ? 2 : 1;
}

function span(level: number): number {
  return 2 ** leafShift(level as PagingLevel);
}

export interface PageTableWriterHooks {
  /** Called once per entry written (for PteWrite events). */
  readonly entryWritten: () => void;
  /**
   * Called when a new top-level entry for the upper (kernel) half is created, so the machine can
   * share it with every address space (Linux shares the kernel half of every PGD).
   */
  readonly kernelTopEntry?: (root: number, index: number, lo: number, hi: number) => void;
}

export class PageTableWriter {
  private readonly words = new Int32Array(2);

  constructor(
    private readonly memory: PhysicalMemory,
    readonly levels: 4 | 5,
    private readonly hooks: PageTableWriterHooks,
  ) {}

  /** A new, zeroed table page from RAM. */
  allocateTable(): number {
    return this.memory.allocate(PAGE_SIZE);
  }

  private read(entryAt: number): [number, number] {
    this.memory.readEntry(entryAt, this.words);
    return [this.words[0] >>> 0, this.words[1] >>> 0];
  }

  private write(entryAt: number, lo: number, hi: number): void {
    this.memory.writeEntry(entryAt, lo, hi);
    this.hooks.entryWritten();
  }

  /** The present leaf that maps `address`, or undefined. Reads only. */
  findLeaf(root: number, address: number): LeafLocation | undefined {
    let table = root;
    for (let level = this.levels as PagingLevel; level >= 1; level = (level - 1) as PagingLevel) {
      const entryAt = table + tableIndex(address, level) * 8;
      const [lo, hi] = this.read(entryAt);
      if ((lo & E_P) === 0) return undefined;
      if (isLeaf(lo, level)) {
        const size = span(level);
        return { entryAt, level, lo, hi, start: Math.floor(address / size) * size };
      }
      table = entryAddress(lo, hi);
    }
    return undefined;
  }

  /**
   * Visit [start, end) as segments: each either inside one present leaf, or a hole (no leaf), skipping
   * absent subtrees whole. `visit` returns true to stop.
   */
  private segments(
    root: number,
    start: number,
    end: number,
    visit: (from: number, to: number, leaf: LeafLocation | undefined) => boolean,
  ): void {
    let at = start;
    while (at < end) {
      let table = root;
      let next = end;
      let leaf: LeafLocation | undefined;
      for (let level = this.levels as PagingLevel; level >= 1; level = (level - 1) as PagingLevel) {
        const entryAt = table + tableIndex(at, level) * 8;
        const [lo, hi] = this.read(entryAt);
        const size = span(level);
        const boundary = (Math.floor(at / size) + 1) * size;
        if ((lo & E_P) === 0) {
          next = Math.min(end, boundary);
          break;
        }
        if (isLeaf(lo, level)) {
          leaf = { entryAt, level, lo, hi, start: boundary - size };
          next = Math.min(end, boundary);
          break;
        }
        table = entryAddress(lo, hi);
      }
      if (visit(at, next, leaf)) return;
      at = next;
    }
  }

  /** The first address of [start, end) that some leaf maps, or undefined. */
  firstMapped(root: number, start: number, end: number): number | undefined {
    let found: number | undefined;
    this.segments(root, start, end, (from, _to, leaf) => {
      if (leaf) found = from;
      return leaf !== undefined;
    });
    return found;
  }

  /** The first address of [start, end) that no leaf maps, or undefined. */
  firstUnmapped(root: number, start: number, end: number): number | undefined {
    let found: number | undefined;
    this.segments(root, start, end, (from, _to, leaf) => {
      if (!leaf) found = from;
      return leaf === undefined;
    });
    return found;
  }

  /** Map [virtual, virtual+length) to [physical, ...) with leaves of `attrs.pageSize`. The caller validated it. */
  map(root: number, virtual: number, physical: number, length: number, attrs: LeafAttributes): void {
    const leafLevel = levelOfSize(attrs.pageSize);
    const size = attrs.pageSize;
    for (let offset = 0; offset < length; offset += size) {
      const entryAt = this.ensureTables(root, virtual + offset, leafLevel);
      const address = physical + offset;
      const lo =
        E_P |
        (attrs.writable ? E_RW : 0) |
        (attrs.user ? E_US : 0) |
        (attrs.global ? E_G : 0) |
        (leafLevel > 1 ? E_PS : 0) |
        (address % TWO_32);
      const hi = Math.floor(address / TWO_32) | (attrs.pkey << E_PKEY_SHIFT) | (attrs.executable ? 0 : E_XD_HI);
      this.write(entryAt, lo >>> 0, hi >>> 0);
    }
  }

  /** Walk down to `leafLevel`, creating missing tables; returns the leaf entry's physical address. */
  private ensureTables(root: number, address: number, leafLevel: PagingLevel): number {
    let table = root;
    for (let level = this.levels as PagingLevel; level > leafLevel; level = (level - 1) as PagingLevel) {
      const index = tableIndex(address, level);
      const entryAt = table + index * 8;
      const [lo, hi] = this.read(entryAt);
      if ((lo & E_P) !== 0 && !isLeaf(lo, level)) {
        table = entryAddress(lo, hi);
        continue;
      }
      // Absent (or an empty table replaced below it): a new table.
      const next = this.allocateTable();
      const newLo = (TABLE_FLAGS | (next % TWO_32)) >>> 0;
      const newHi = Math.floor(next / TWO_32);
      this.write(entryAt, newLo, newHi);
      if (level === this.levels && index >= 256) this.hooks.kernelTopEntry?.(root, index, newLo, newHi);
      table = next;
    }
    return table + tableIndex(address, leafLevel) * 8;
  }

  /**
   * Make `boundary` a leaf boundary: split the large leaf that straddles it, down to 4 KiB if need be
   * (Linux split_large_page). The new leaves keep every bit of the old one, so cached translations
   * of untouched pages stay correct.
   */
  splitAt(root: number, boundary: number): void {
    for (;;) {
      const leaf = this.findLeaf(root, boundary);
      if (!leaf || leaf.level === 1 || leaf.start === boundary) return;
      this.splitLeaf(leaf);
    }
  }

  private splitLeaf(leaf: LeafLocation): void {
    const childLevel = (leaf.level - 1) as PagingLevel;
    const childSize = span(childLevel);
    const table = this.allocateTable();
    const base = entryAddress(leaf.lo & ~((span(leaf.level) - 1) | 0), leaf.hi);
    const pat = (leaf.lo & E_PAT_LARGE) !== 0;
    // Keep P, R/W, U/S, PWT, PCD, A, D, G and the ignored bits; PAT moves to bit 7 in a PTE.
    const keepLo = (E_P | E_RW | E_US | E_PWT | E_PCD | E_A | E_D | E_G | 0xe00) & leaf.lo;
    const formatLo = childLevel === 1 ? (pat ? E_PS : 0) : E_PS | (pat ? E_PAT_LARGE : 0);
    const keepHi = leaf.hi & ~E_ADDR_HI;
    for (let i = 0; i < 512; i++) {
      const address = base + i * childSize;
      const lo = keepLo | formatLo | ((address % TWO_32) & E_ADDR_LO);
      const hi = keepHi | Math.floor(address / TWO_32);
      this.write(table + i * 8, lo >>> 0, hi >>> 0);
    }
    this.write(leaf.entryAt, (TABLE_FLAGS | (table % TWO_32)) >>> 0, Math.floor(table / TWO_32));
  }

  /** Apply `change` to every leaf of [start, end), after splitting leaves that straddle the ends. */
  private editLeaves(
    root: number,
    start: number,
    end: number,
    change: (lo: number, hi: number) => [number, number],
  ): void {
    this.splitAt(root, start);
    this.splitAt(root, end);
    this.segments(root, start, end, (_from, _to, leaf) => {
      if (leaf) {
        const [lo, hi] = change(leaf.lo, leaf.hi);
        this.write(leaf.entryAt, lo >>> 0, hi >>> 0);
      }
      return false;
    });
  }

  /** Clear every leaf of [virtual, virtual+length) (validated as fully mapped by the caller). */
  unmap(root: number, virtual: number, length: number): void {
    this.editLeaves(root, virtual, virtual + length, () => [0, 0]);
  }

  /** Write `pkey` into bits 62:59 of every leaf of the range (validated by the caller). */
  setKey(root: number, virtual: number, length: number, pkey: number): void {
    this.editLeaves(root, virtual, virtual + length, (lo, hi) => [lo, (hi & ~E_PKEY_HI) | (pkey << E_PKEY_SHIFT)]);
  }

  /** A copy of the upper-half top-level entries of `from` into `to` (a new address space). */
  copyKernelHalf(from: number, to: number): void {
    for (let index = 256; index < 512; index++) {
      const [lo, hi] = this.read(from + index * 8);
      if ((lo & E_P) !== 0) this.write(to + index * 8, lo, hi);
    }
  }

  /** Describe an address for error messages. */
  static describe(address: number): string {
    return formatAddress(address);
  }
}
