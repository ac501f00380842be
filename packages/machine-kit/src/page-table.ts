/**
 * A radix page-table engine over simulated physical memory, driven by a {@link DescriptorCodec}:
 * the hardware walk (allocation-free, results left in fields) and software's edits (map, unmap,
 * re-tag, large-page splitting), each validated by the caller before anything is written. The
 * walk's own reads are physical: domains never apply to them.
 */
import { PAGE_SIZE } from './address';
import {
  composedPageFlags,
  type DescriptorCodec,
  type EntryWords,
  type LeafRequest,
  levelSpan,
} from './descriptor-codec';
import type { PhysicalMemory } from './physical-memory';
import { TF_ARCH_MASK, TF_DIRTY, TF_DOMAIN_SHIFT, TF_LEVEL_SHIFT, TF_PERMISSIONS, TF_USER } from './translation-flags';

/** Walk results. */
export const WALK_OK = 0;
/** An entry on the way was invalid (not present). */
export const WALK_INVALID = 1;
/** A valid entry had a reserved bit set (codec.reservedBits). */
export const WALK_RESERVED = 2;

/** The bits a table entry's permissions may clear; every other bit passes. */
const INV_PAGE = 1 / PAGE_SIZE;
const TF_PERMISSIONS_AND_USER = TF_PERMISSIONS | TF_USER | TF_ARCH_MASK;

/** A present leaf found by a software walk. */
export interface LeafLocation {
  /** Physical address of the descriptor. */
  readonly entryAt: number;
  readonly level: number;
  readonly lo: number;
  readonly hi: number;
  /** The virtual address where the leaf's page or block starts. */
  readonly start: number;
}

/** Callbacks a machine gives the page-table engine for its accounting and for shared upper halves. */
export interface PageTableHooks {
  /** Called once per descriptor written (MachineEvent.PteWrite). */
  readonly entryWritten: () => void;
  /**
   * Called when a new top-level entry of the upper half (index >= half the entries) is written, so a
   * machine whose address spaces share the upper half can copy it into every root (Linux keeps the
   * kernel half of every x86 PGD in sync: pgd_alloc copies it, sync_global_pgds updates it).
   */
  readonly upperTopEntry?: (root: number, index: number, entry: EntryWords) => void;
}

/** A radix page-table engine over simulated physical memory, driven by a {@link DescriptorCodec}. */
export class RadixPageTable {
  /** After a successful walk: the 4 KiB frame holding the address (inside a block if need be). */
  frame = 0;
  /** After a successful walk: the TF_* flags of the translation. */
  flags = 0;
  /** The level of the leaf found, or of the invalid entry that stopped the walk. */
  level = 0;
  /** Physical address of the leaf descriptor (after a successful walk). */
  leafEntry = 0;
  /** The leaf table (level 0) the last walk reached through a valid level-1 entry, or -1. */
  leafTable = -1;
  /** The permission limit of the entries above `leafTable`. */
  leafTableLimit = -1;

  /** The descriptor readWords read last. */
  private entryLo = 0;
  private entryHi = 0;
  /** Physical address of the leaf locateLeaf found. */
  private foundAt = 0;
  private readonly indexMask: number;
  /** 2^(pageShift + bitsPerLevel * level), per level. */
  private readonly spans: Float64Array;
  /** 1 / spans[level]: multiplying by a power of two is exact and cheaper than dividing. */
  private readonly inverseSpans: Float64Array;
  /** The leaf descriptor's words after a successful walk (markLeaf needs no re-read). */
  private leafLo = 0;
  private leafHi = 0;
  private readonly leafAllowed: Uint8Array;
  // Which optional parts the codec has. They are called as the codec's methods, never bound: V8
  // inlines a method call, while a bound function is a generic call that boxes its arguments.
  private readonly hasTablePermissions: boolean;
  private readonly hasReservedBits: boolean;
  private readonly hasMarkAccessed: boolean;
  /** The codec, or a wrapper composing its methods, whose pageFlags the leaf-table walk calls. */
  private readonly pages: Required<Pick<DescriptorCodec, 'pageFlags'>>;
  /** TF_DIRTY for a codec without accessed/dirty management (a write never re-walks), else 0. */
  private readonly implicitDirty: number;

  constructor(
    private readonly memory: PhysicalMemory,
    readonly codec: DescriptorCodec,
    private readonly hooks: PageTableHooks,
  ) {
    if (codec.pageShift !== 12) throw new RangeError(`codec ${codec.name}: base pages must be 4 KiB (pageShift 12)`);
    if (codec.bitsPerLevel < 1 || codec.bitsPerLevel > 9)
      throw new RangeError(`codec ${codec.name}: bitsPerLevel must be 1..9 (8-byte entries in 4 KiB tables)`);
    if (!codec.leafLevels.includes(0)) throw new RangeError(`codec ${codec.name}: level 0 must hold leaves`);
    if (codec.leafLevels.some((l) => l < 0 || l >= codec.levels || l > 3))
      throw new RangeError(`codec ${codec.name}: leaf levels must be 0..min(3, levels - 1)`);
    if (codec.domainCount < 1 || codec.domainCount > 256)
      throw new RangeError(`codec ${codec.name}: domainCount must be 1..256`);
    this.indexMask = 2 ** codec.bitsPerLevel - 1;
    this.spans = new Float64Array(codec.levels + 1);
    for (let level = 0; level <= codec.levels; level++) this.spans[level] = levelSpan(codec, level);
    this.inverseSpans = this.spans.map((span) => 1 / span);
    this.leafAllowed = new Uint8Array(codec.levels);
    for (const level of codec.leafLevels) this.leafAllowed[level] = 1;
    this.hasTablePermissions = codec.tablePermissions !== undefined;
    this.hasReservedBits = codec.reservedBits !== undefined;
    this.hasMarkAccessed = codec.markAccessed !== undefined;
    this.pages =
      codec.pageFlags !== undefined
        ? (codec as Required<Pick<DescriptorCodec, 'pageFlags'>>)
        : { pageFlags: (lo, hi, control) => composedPageFlags(codec, lo, hi, control) };
    this.implicitDirty = codec.markAccessed === undefined ? TF_DIRTY : 0;
  }

  /** Bytes covered by the whole tree of one root. */
  get coverage(): number {
    return this.spans[this.codec.levels];
  }

  /** Bytes mapped by a leaf at `level`. */
  span(level: number): number {
    return this.spans[level];
  }

  /** Whether a leaf may sit at `level`. */
  leafLevelAllowed(level: number): boolean {
    return this.leafAllowed[level] === 1;
  }

  /** The top-level entries of the upper half of `from`, copied into `to` (a new address space). */
  copyUpperHalf(from: number, to: number): void {
    // Word by word between the two root tables' frames (both 4 KiB-aligned): no object per entry.
    const source = this.memory.frameIfPresent(Math.floor(from * INV_PAGE));
    if (source === undefined) return;
    const codec = this.codec;
    const level = codec.levels - 1;
    const entries = this.indexMask + 1;
    let target: Uint32Array | undefined;
    for (let index = entries >>> 1; index < entries; index++) {
      const lo = source[index << 1] | 0;
      const hi = source[(index << 1) | 1] | 0;
      if (!codec.isValid(lo, hi, level)) continue;
      target ??= this.memory.frame(Math.floor(to * INV_PAGE));
      target[index << 1] = lo >>> 0;
      target[(index << 1) | 1] = hi >>> 0;
      this.hooks.entryWritten();
    }
  }

  /** A new, zeroed table page from RAM. */
  allocateTable(): number {
    return this.memory.allocate(PAGE_SIZE);
  }

  /** The table index `address` selects at `level`. */
  index(address: number, level: number): number {
    return Math.floor(address / this.spans[level]) & this.indexMask;
  }

  // ---- the hardware walk (TLB miss) ---------------------------------------------------------------

  /**
   * Walk `address` from `root`: WALK_OK with frame/flags/level/leafEntry set, else WALK_INVALID or
   * WALK_RESERVED with `level` set. Allocation-free: entries are read as words straight from the
   * frames. `control` is the CPU's walk-control word for the codec; with `setAccessed` (a real
   * access, not a software lookup) the codec's accessed flag is set in every table entry used.
   */
  walk(root: number, address: number, control = 0, setAccessed = false): number {
    return this.walkFrom(root, this.codec.levels - 1, -1, address, control, setAccessed);
  }

  /**
   * {@link walk} starting at `level` with `table` and the permission `limit` of the entries above it
   * (a paging-structure-cache hit: Tlb.walkTable/walkLimit). After a walk that used a valid table
   * entry at level 1, `leafTable` and `leafTableLimit` say what such a cache may keep; else
   * `leafTable` is -1.
   */
  walkFrom(
    table: number,
    level: number,
    limit: number,
    address: number,
    control: number,
    setAccessed: boolean,
  ): number {
    const codec = this.codec;
    const memory = this.memory;
    const inverseSpans = this.inverseSpans;
    const indexMask = this.indexMask;
    const tablePermissions = this.hasTablePermissions;
    const reservedBits = this.hasReservedBits;
    const markAccessed = setAccessed && this.hasMarkAccessed;
    this.leafTable = -1;
    for (; level >= 0; level--) {
      const entryAt = table + (Math.floor(address * inverseSpans[level]) & indexMask) * 8;
      const words = memory.frameIfPresent(Math.floor(entryAt * INV_PAGE));
      const index = (entryAt & 0xfff) >>> 2;
      const lo = words === undefined ? 0 : words[index] | 0;
      const hi = words === undefined ? 0 : words[index + 1] | 0;
      this.level = level;
      if (!codec.isValid(lo, hi, level)) return WALK_INVALID;
      if (reservedBits && codec.reservedBits!(lo, hi, level, control) !== 0) return WALK_RESERVED;
      if (codec.isLeaf(lo, hi, level)) return this.leaf(lo, hi, level, limit, entryAt, address, control);
      if (tablePermissions) limit &= codec.tablePermissions!(lo, hi, level) | ~TF_PERMISSIONS_AND_USER;
      if (markAccessed) {
        const marked = codec.markAccessed!(lo, hi, level, false, false) | 0;
        if (marked !== lo) memory.writeEntry(entryAt, marked >>> 0, hi >>> 0);
      }
      table = codec.outputAddress(lo, hi, level);
      if (level === 1) {
        this.leafTable = table;
        this.leafTableLimit = limit;
      }
    }
    this.level = 0;
    return WALK_INVALID;
  }

  /**
   * The last step of a walk alone, for a paging-structure-cache hit: what the walk learns from the
   * level-0 descriptor `lo`/`hi` (DescriptorCodec.pageFlags, with the engine's dirty state), before
   * the permission limit of the entries above it: TF_* flags, or PAGE_INVALID / PAGE_RESERVED.
   */
  pageFlags(lo: number, hi: number, control: number): number {
    const flags = this.pages.pageFlags(lo, hi, control);
    return flags < 0 ? flags : flags | this.implicitDirty;
  }

  /**
   * markLeaf for a descriptor read by {@link pageFlags}: the word pair at `index` of the leaf table
   * whose words are `words` (a frame's words: the write is the memory's).
   */
  markPage(words: Uint32Array, index: number, lo: number, hi: number, write: boolean): void {
    if (!this.hasMarkAccessed) return;
    const marked = this.codec.markAccessed!(lo, hi, 0, true, write) | 0;
    if (marked !== lo) words[index << 1] = marked >>> 0;
  }

  /** The index of `address` (an integer) in its leaf table: bits 12 up, modulo 2^32 (bitsPerLevel <= 9). */
  leafIndex(address: number): number {
    return (address >>> 12) & this.indexMask;
  }

  /** The words of the leaf table the last walk reached (leafTable >= 0), for a paging-structure cache. */
  leafTableWords(): Uint32Array | undefined {
    return this.leafTable < 0 ? undefined : this.memory.frameIfPresent(Math.floor(this.leafTable * INV_PAGE));
  }

  /** The walk found its leaf: frame, flags and the leaf's location for markLeaf. */
  private leaf(
    lo: number,
    hi: number,
    level: number,
    limit: number,
    entryAt: number,
    address: number,
    control: number,
  ): number {
    const codec = this.codec;
    if (level === 0) this.frame = codec.outputAddress(lo, hi, 0);
    else {
      const pages = this.spans[level] * INV_PAGE;
      const vpn = Math.floor(address * INV_PAGE);
      // The page's index inside the block (exact for negative addresses too).
      this.frame = codec.outputAddress(lo, hi, level) + (vpn - Math.floor(vpn / pages) * pages) * PAGE_SIZE;
    }
    this.flags =
      ((codec.leafFlags(lo, hi, level, control) | this.implicitDirty) & limit) |
      (level << TF_LEVEL_SHIFT) |
      (codec.domainOf(lo, hi, level) << TF_DOMAIN_SHIFT);
    this.leafEntry = entryAt;
    this.leafLo = lo;
    this.leafHi = hi;
    return WALK_OK;
  }

  /**
   * After an allowed access through the leaf of the last successful walk: set its accessed flag, and
   * dirty on a write (no-op for a codec without accessed/dirty management).
   */
  markLeaf(write: boolean): void {
    if (!this.hasMarkAccessed) return;
    const lo = this.leafLo;
    const marked = this.codec.markAccessed!(lo, this.leafHi, this.level, true, write) | 0;
    if (marked !== lo) {
      this.memory.writeEntry(this.leafEntry, marked >>> 0, this.leafHi >>> 0);
      this.leafLo = marked;
    }
  }

  // ---- software's view ----------------------------------------------------------------------------

  /** Read the descriptor at `entryAt` into entryLo/entryHi (unsigned words; software's walks allocate nothing per level). */
  private readWords(entryAt: number): void {
    const words = this.memory.frameIfPresent(Math.floor(entryAt * INV_PAGE));
    const index = (entryAt & 0xfff) >>> 2;
    this.entryLo = words === undefined ? 0 : words[index];
    this.entryHi = words === undefined ? 0 : words[index + 1];
  }

  private write(entryAt: number, entry: EntryWords): void {
    this.memory.writeEntry(entryAt, entry.lo >>> 0, entry.hi >>> 0);
    this.hooks.entryWritten();
  }

  /** The present leaf mapping `address`, or undefined. Reads only. */
  findLeaf(root: number, address: number): LeafLocation | undefined {
    const level = this.locateLeaf(root, address);
    if (level < 0) return undefined;
    const size = this.spans[level];
    return {
      entryAt: this.foundAt,
      level,
      lo: this.entryLo,
      hi: this.entryHi,
      start: Math.floor(address / size) * size,
    };
  }

  /**
   * findLeaf without the object: the level of the present leaf mapping `address`, its descriptor in
   * entryLo/entryHi and its physical address in foundAt; or -1.
   */
  private locateLeaf(root: number, address: number): number {
    let table = root;
    for (let level = this.codec.levels - 1; level >= 0; level--) {
      const entryAt = table + this.index(address, level) * 8;
      this.readWords(entryAt);
      const lo = this.entryLo;
      const hi = this.entryHi;
      if (!this.codec.isValid(lo, hi, level)) return -1;
      if (this.codec.isLeaf(lo, hi, level)) {
        this.foundAt = entryAt;
        return level;
      }
      table = this.codec.outputAddress(lo, hi, level);
    }
    return -1;
  }

  /**
   * Visit [start, end) as segments, each inside one present leaf or a hole, skipping absent subtrees
   * whole. `visit` returns true to stop.
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
      for (let level = this.codec.levels - 1; level >= 0; level--) {
        const entryAt = table + this.index(at, level) * 8;
        this.readWords(entryAt);
        const lo = this.entryLo;
        const hi = this.entryHi;
        const size = this.spans[level];
        const boundary = (Math.floor(at / size) + 1) * size;
        if (!this.codec.isValid(lo, hi, level)) {
          next = Math.min(end, boundary);
          break;
        }
        if (this.codec.isLeaf(lo, hi, level)) {
          leaf = { entryAt, level, lo, hi, start: boundary - size };
          next = Math.min(end, boundary);
          break;
        }
        table = this.codec.outputAddress(lo, hi, level);
      }
      if (visit(at, next, leaf)) return;
      at = next;
    }
  }

  /** The first address of [start, end) some leaf maps, or undefined. */
  firstMapped(root: number, start: number, end: number): number | undefined {
    let found: number | undefined;
    this.segments(root, start, end, (from, _to, leaf) => {
      if (leaf) found = from;
      return leaf !== undefined;
    });
    return found;
  }

  /** The first address of [start, end) no leaf maps, or undefined. */
  firstUnmapped(root: number, start: number, end: number): number | undefined {
    let found: number | undefined;
    this.segments(root, start, end, (from, _to, leaf) => {
      if (!leaf) found = from;
      return leaf === undefined;
    });
    return found;
  }

  /** Map [virtual, virtual+length) to [physical, ...) with leaves at `level`. Validated by the caller. */
  map(root: number, virtual: number, physical: number, length: number, level: number, request: LeafRequest): void {
    const size = this.spans[level];
    for (let offset = 0; offset < length; offset += size) {
      const entryAt = this.ensureTables(root, virtual + offset, level);
      this.write(entryAt, this.codec.encodeLeaf(physical + offset, level, request));
    }
  }

  /** Walk down to `leafLevel`, creating missing tables; the leaf descriptor's physical address. */
  private ensureTables(root: number, address: number, leafLevel: number): number {
    let table = root;
    for (let level = this.codec.levels - 1; level > leafLevel; level--) {
      const entryAt = table + this.index(address, level) * 8;
      this.readWords(entryAt);
      const lo = this.entryLo;
      const hi = this.entryHi;
      if (this.codec.isValid(lo, hi, level) && !this.codec.isLeaf(lo, hi, level)) {
        table = this.codec.outputAddress(lo, hi, level);
        continue;
      }
      const next = this.allocateTable();
      const entry = this.codec.encodeTable(next);
      this.write(entryAt, entry);
      const index = this.index(address, level);
      if (level === this.codec.levels - 1 && index > this.indexMask >>> 1)
        this.hooks.upperTopEntry?.(root, index, entry);
      table = next;
    }
    return table + this.index(address, leafLevel) * 8;
  }

  /**
   * Make `boundary` a leaf boundary: split the large leaf straddling it, down to base pages if need
   * be (Linux split_large_page, arch/x86/mm/pat/set_memory.c; arm64 split_pmd/split_pud in
   * arch/arm64/mm/mmu.c). Children keep every attribute of the parent.
   */
  splitAt(root: number, boundary: number): void {
    for (;;) {
      const level = this.locateLeaf(root, boundary);
      if (level <= 0) return;
      const size = this.spans[level];
      if (Math.floor(boundary / size) * size === boundary) return;
      this.splitLeaf(this.foundAt, level, this.entryLo, this.entryHi);
    }
  }

  /** Replace the large leaf `lo`/`hi` at `entryAt` (at `level`) by a table of leaves one level down. */
  private splitLeaf(entryAt: number, level: number, lo: number, hi: number): void {
    const childSize = this.spans[level - 1];
    const table = this.allocateTable();
    const base = this.codec.outputAddress(lo, hi, level);
    const children = 2 ** this.codec.bitsPerLevel;
    for (let i = 0; i < children; i++) {
      this.write(table + i * 8, this.codec.splitLeaf(lo, hi, level, base + i * childSize));
    }
    this.write(entryAt, this.codec.encodeTable(table));
  }

  /** Apply `change` to every leaf of [start, end) after splitting the leaves straddling the ends. */
  private editLeaves(root: number, start: number, end: number, change: (leaf: LeafLocation) => EntryWords): void {
    this.splitAt(root, start);
    this.splitAt(root, end);
    this.segments(root, start, end, (_from, _to, leaf) => {
      if (leaf) this.write(leaf.entryAt, change(leaf));
      return false;
    });
  }

  /** Clear every leaf of [virtual, virtual+length) (validated as mapped by the caller). */
  unmap(root: number, virtual: number, length: number): void {
    this.editLeaves(root, virtual, virtual + length, () => ({ lo: 0, hi: 0 }));
  }

  /** Write `domain` into the tag field of every leaf of the range (validated by the caller). */
  setDomain(root: number, virtual: number, length: number, domain: number): void {
    this.editLeaves(root, virtual, virtual + length, (leaf) =>
      this.codec.withDomain(leaf.lo, leaf.hi, leaf.level, domain),
    );
  }
}
