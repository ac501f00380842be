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

/**
 * The typed arrays of a {@link Tlb}: a machine carves them for all its CPUs from one buffer (its
 * access path indexes one array by cpu and slot, and building a machine allocates once). The
 * walk-cache ones hold {@link WALK_CACHE_ENTRIES} elements, the others `entries`.
 */
export interface TlbStorage {
  readonly tag: Float64Array;
  readonly frame: Float64Array;
  readonly flags: Int32Array;
  readonly walkTag?: Float64Array;
  readonly walkTable?: Float64Array;
  readonly walkLimit?: Int32Array;
  readonly largeSlots?: Int32Array;
  readonly largeListed?: Uint8Array;
}

/** An empty frame: what an unused paging-structure-cache slot points to (never read, never written). */
const NO_WORDS = new Uint32Array(0);

/** Pages spanned by a leaf at each level (1, 2^bitsPerLevel, ...), per bitsPerLevel: constant tables, built once. */
const LEVEL_SPANS: Float64Array[] = [];
function levelSpans(bitsPerLevel: number): Float64Array {
  let spans = LEVEL_SPANS[bitsPerLevel];
  if (spans === undefined) {
    spans = new Float64Array((TF_LEVEL_MASK >>> TF_LEVEL_SHIFT) + 1);
    for (let level = 0; level < spans.length; level++) spans[level] = 2 ** (bitsPerLevel * level);
    LEVEL_SPANS[bitsPerLevel] = spans;
  }
  return spans;
}

/** A per-CPU, direct-mapped TLB in typed arrays; caches translations and domains, never rights. */
export class Tlb {
  /** Paging-structure cache: the region (page number >> bitsPerLevel) an entry covers, NaN when empty. */
  readonly walkTag: Float64Array;
  /** Physical address of the region's leaf table. */
  readonly walkTable: Float64Array;
  /** The TF_* permission limit of the entries above the leaf table (RadixPageTable.walk `limit`). */
  readonly walkLimit: Int32Array;
  /**
   * The leaf table's words (PhysicalMemory frames are created once and never replaced until a
   * reboot, which flushes every TLB), so a hit reads the descriptor without a frame lookup.
   */
  readonly walkWords: Uint32Array[] = new Array<Uint32Array>(WALK_CACHE_ENTRIES).fill(NO_WORDS);
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
  /**
   * The slots that were filled with a fragment of a large page since they were last found not to hold
   * one (`largeCount` of them, each once: `largeListed`): a page invalidation looks at these, not at
   * every slot. A listed slot may since hold a 4 KiB entry or nothing; the scan drops it then.
   */
  private readonly largeSlots: Int32Array;
  private readonly largeListed: Uint8Array;
  private largeCount = 0;
  /** Whether a slot may be valid since the last flushAll (a flush of an empty TLB writes nothing). */
  private filled = false;
  /** Pages spanned by a leaf at each level (1, 2^bitsPerLevel, ...), so a scan computes no power. */
  private readonly levelSpan: Float64Array;

  constructor(
    readonly entries: number,
    /** Address bits resolved per level, to find the span of a cached large-page fragment. */
    private readonly bitsPerLevel = 9,
    /**
     * Arrays to use (views of a machine's buffer for all its CPUs, so its access path indexes one
     * array by cpu and slot); fresh ones for those absent.
     */
    storage?: TlbStorage,
  ) {
    if (!Number.isInteger(entries) || entries < 1 || (entries & (entries - 1)) !== 0 || entries > 1 << 20) {
      throw new RangeError(`TLB entries ${String(entries)} must be a power of two between 1 and 2^20`);
    }
    this.mask = entries - 1;
    this.regionScale = 1 / 2 ** bitsPerLevel;
    this.levelSpan = levelSpans(bitsPerLevel);
    this.tag = storage?.tag ?? new Float64Array(entries);
    this.frame = storage?.frame ?? new Float64Array(entries);
    this.flags = storage?.flags ?? new Int32Array(entries);
    this.walkTag = storage?.walkTag ?? new Float64Array(WALK_CACHE_ENTRIES);
    this.walkTable = storage?.walkTable ?? new Float64Array(WALK_CACHE_ENTRIES);
    this.walkLimit = storage?.walkLimit ?? new Int32Array(WALK_CACHE_ENTRIES);
    this.largeSlots = storage?.largeSlots ?? new Int32Array(entries);
    this.largeListed = storage?.largeListed ?? new Uint8Array(entries);
    if (
      this.tag.length !== entries ||
      this.frame.length !== entries ||
      this.flags.length !== entries ||
      this.largeSlots.length !== entries ||
      this.largeListed.length !== entries ||
      this.walkTag.length !== WALK_CACHE_ENTRIES ||
      this.walkTable.length !== WALK_CACHE_ENTRIES ||
      this.walkLimit.length !== WALK_CACHE_ENTRIES
    )
      throw new RangeError(`TLB storage must hold exactly ${entries} entries`);
    this.tag.fill(NaN);
    this.walkTag.fill(NaN);
  }

  /** Cache a translation for page number `vpn` (replacing the slot's entry) and return its slot. */
  fill(vpn: number, frame: number, flags: number): number {
    const slot = vpn & this.mask;
    this.version++;
    this.tag[slot] = vpn;
    this.frame[slot] = frame;
    this.flags[slot] = flags;
    this.filled = true;
    if ((flags & TF_LEVEL_MASK) !== 0 && this.largeListed[slot] === 0) {
      this.largeListed[slot] = 1;
      this.largeSlots[this.largeCount++] = slot;
    }
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
    this.dropSlot(vpn);
    if (this.largeCount === 0) return;
    // The listed slots only: a large page's fragment sits in no other slot. One that no longer holds
    // a fragment (refilled, dropped, flushed) leaves the list; so does one this invalidation drops.
    const tags = this.tag;
    const flags = this.flags;
    const slots = this.largeSlots;
    let count = this.largeCount;
    for (let i = 0; i < count;) {
      const slot = slots[i];
      const tag = tags[slot];
      const level = (flags[slot] & TF_LEVEL_MASK) >>> TF_LEVEL_SHIFT;
      if (tag === tag && level !== 0) {
        const span = this.levelSpan[level];
        if (Math.floor(tag / span) !== Math.floor(vpn / span)) {
          i++;
          continue;
        }
        tags[slot] = NaN;
      }
      this.largeListed[slot] = 0;
      slots[i] = slots[--count];
    }
    this.largeCount = count;
  }

  /** An address-space switch without tags: drop every non-global entry. */
  flushNonGlobal(): void {
    this.flushWalkCache();
    this.version++;
    if (!this.filled) return;
    for (let slot = 0; slot < this.entries; slot++) if ((this.flags[slot] & TF_GLOBAL) === 0) this.tag[slot] = NaN;
  }

  /** Drop every entry, global ones included. */
  flushAll(): void {
    this.flushWalkCache();
    this.version++;
    if (!this.filled) return;
    this.tag.fill(NaN);
    this.filled = false;
    for (let i = 0; i < this.largeCount; i++) this.largeListed[this.largeSlots[i]] = 0;
    this.largeCount = 0;
  }

  /** Number of valid entries (tests and reports). */
  get validEntries(): number {
    let n = 0;
    for (let slot = 0; slot < this.entries; slot++) if (this.tag[slot] === this.tag[slot]) n++;
    return n;
  }
}
