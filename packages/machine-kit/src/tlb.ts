/**
 * A per-CPU, direct-mapped TLB in typed arrays (a power-of-two number of entries). The tag is the
 * signed 4 KiB virtual page number; large pages are cached as 4 KiB fragments, which architectures
 * permit (Intel SDM 4.10.2.3; Arm ARM D8.13 "TLB maintenance"). An empty slot holds NaN, which never
 * equals a page number. Entries cache the translation and the DOMAIN, never the rights.
 *
 * Beside it sits a small paging-structure cache (Intel SDM 4.10.3; Arm ARM "intermediate table walk
 * caches"): per region mapped by one leaf table, the physical address of that table and the
 * permissions the entries above it let through, so a miss reads one descriptor instead of walking
 * every level. Every invalidation of the TLB drops it whole (INVLPG and a CR3 load invalidate all
 * paging-structure-cache entries, SDM 4.10.4.1), so software that edits an upper-level entry and
 * invalidates sees its edit, as on hardware.
 */
import { TF_GLOBAL, TF_LEVEL_MASK, TF_LEVEL_SHIFT } from './translation-flags';

/** Entries of the paging-structure cache: 32 leaf tables (64 MiB of 4 KiB pages with 9-bit levels). */
export const WALK_CACHE_ENTRIES = 32;

/** A per-CPU, direct-mapped TLB in typed arrays; caches translations and domains, never rights. */
export class Tlb {
  /** Paging-structure cache: the region (page number >> bitsPerLevel) an entry covers, NaN when empty. */
  readonly walkTag = new Float64Array(WALK_CACHE_ENTRIES).fill(NaN);
  /** Physical address of the region's leaf table. */
  readonly walkTable = new Float64Array(WALK_CACHE_ENTRIES);
  /** The TF_* permission limit of the entries above the leaf table (RadixPageTable.walk `limit`). */
  readonly walkLimit = new Int32Array(WALK_CACHE_ENTRIES);
  /**
   * The leaf table's words (PhysicalMemory frames are created once and never replaced until a
   * reboot, which flushes every TLB), so a hit reads the descriptor without a frame lookup.
   */
  readonly walkWords: Uint32Array[] = new Array<Uint32Array>(WALK_CACHE_ENTRIES).fill(new Uint32Array(0));
  /** Whether some walk-cache entry may be valid (an invalidation of an empty cache costs nothing). */
  private walkCached = false;
  readonly mask: number;
  readonly tag: Float64Array;
  /** Physical address of the 4 KiB frame. */
  readonly frame: Float64Array;
  /** TF_* flags of the translation. */
  readonly flags: Int32Array;
  /**
   * Bumped by every change of the cached translations (fill, drop, invalidation, flush), so a reader
   * can tell that what it derived from them is still current. The arrays are written only here.
   */
  version = 0;
  /** 1 / 2^bitsPerLevel (exact): page number -> paging-structure-cache region. */
  private readonly regionScale: number;
  /** Whether a fragment of a large page may be cached (then a page invalidation scans every slot). */
  private largeCached = false;
  /** Pages spanned by a leaf at each level (1, 2^bitsPerLevel, ...), so a scan computes no power. */
  private readonly levelSpan: Float64Array;

  constructor(
    readonly entries: number,
    /** Address bits resolved per level, to find the span of a cached large-page fragment. */
    private readonly bitsPerLevel = 9,
    /**
     * Arrays of exactly `entries` elements to use (views of a machine's arrays for all its CPUs, so
     * its access path indexes one array by cpu and slot); fresh ones when absent.
     */
    storage?: { readonly tag: Float64Array; readonly frame: Float64Array; readonly flags: Int32Array },
  ) {
    if (!Number.isInteger(entries) || entries < 1 || (entries & (entries - 1)) !== 0 || entries > 1 << 20) {
      throw new RangeError(`TLB entries ${String(entries)} must be a power of two between 1 and 2^20`);
    }
    this.mask = entries - 1;
    this.regionScale = 1 / 2 ** bitsPerLevel;
    this.levelSpan = Float64Array.from(
      { length: (TF_LEVEL_MASK >>> TF_LEVEL_SHIFT) + 1 },
      (_, level) => 2 ** (bitsPerLevel * level),
    );
    this.tag = storage?.tag ?? new Float64Array(entries);
    this.frame = storage?.frame ?? new Float64Array(entries);
    this.flags = storage?.flags ?? new Int32Array(entries);
    if (this.tag.length !== entries || this.frame.length !== entries || this.flags.length !== entries)
      throw new RangeError(`TLB storage must hold exactly ${entries} entries`);
    this.tag.fill(NaN);
  }

  /** Cache a translation for page number `vpn` (replacing the slot's entry) and return its slot. */
  fill(vpn: number, frame: number, flags: number): number {
    const slot = vpn & this.mask;
    this.version++;
    this.tag[slot] = vpn;
    this.frame[slot] = frame;
    this.flags[slot] = flags;
    if ((flags & TF_LEVEL_MASK) !== 0) this.largeCached = true;
    return slot;
  }

  /**
   * Drop the entry for exactly this page number, if cached, and the paging-structure-cache entry of
   * its region (a #PF invalidates both for the faulting address, SDM 4.10.4.1).
   */
  dropSlot(vpn: number): void {
    const slot = vpn & this.mask;
    this.version++;
    if (this.tag[slot] === vpn) this.tag[slot] = NaN;
    const region = Math.floor(vpn * this.regionScale);
    const walkSlot = region & (WALK_CACHE_ENTRIES - 1);
    if (this.walkTag[walkSlot] === region) this.walkTag[walkSlot] = NaN;
  }

  /** The paging-structure-cache slot caching `region` (page number >> bitsPerLevel), or -1. */
  walkSlot(region: number): number {
    const slot = region & (WALK_CACHE_ENTRIES - 1);
    return this.walkTag[slot] === region ? slot : -1;
  }

  /** Cache the leaf table of `region` and the permission limit of the entries above it. */
  cacheWalk(region: number, table: number, limit: number, words: Uint32Array): void {
    const slot = region & (WALK_CACHE_ENTRIES - 1);
    this.walkTag[slot] = region;
    this.walkTable[slot] = table;
    this.walkLimit[slot] = limit;
    this.walkWords[slot] = words;
    this.walkCached = true;
  }

  /** Drop every paging-structure-cache entry (every invalidation does; so does loading a new root). */
  flushWalkCache(): void {
    if (!this.walkCached) return;
    this.walkTag.fill(NaN);
    this.walkCached = false;
  }

  /** Drop every entry, of any page size, that translates the page `vpn` (INVLPG, TLBI VAE1, tlbie). */
  invalidatePage(vpn: number): void {
    this.flushWalkCache();
    this.version++;
    if (!this.largeCached) {
      this.dropSlot(vpn);
      return;
    }
    const tags = this.tag;
    const flags = this.flags;
    for (let slot = 0; slot < this.entries; slot++) {
      const tag = tags[slot];
      if (tag !== tag) continue; // empty (NaN)
      const level = (flags[slot] & TF_LEVEL_MASK) >>> TF_LEVEL_SHIFT;
      if (level === 0) {
        if (tag === vpn) tags[slot] = NaN; // a 4 KiB entry translates exactly its own page
        continue;
      }
      const span = this.levelSpan[level];
      if (Math.floor(tag / span) === Math.floor(vpn / span)) tags[slot] = NaN;
    }
  }

  /** An address-space switch without tags: drop every non-global entry. */
  flushNonGlobal(): void {
    this.flushWalkCache();
    this.version++;
    for (let slot = 0; slot < this.entries; slot++) if ((this.flags[slot] & TF_GLOBAL) === 0) this.tag[slot] = NaN;
  }

  /** Drop every entry, global ones included. */
  flushAll(): void {
    this.flushWalkCache();
    this.version++;
    this.tag.fill(NaN);
    this.largeCached = false;
  }

  /** Number of valid entries (tests and reports). */
  get validEntries(): number {
    let n = 0;
    for (let slot = 0; slot < this.entries; slot++) if (this.tag[slot] === this.tag[slot]) n++;
    return n;
  }
}
