/**
 * A per-CPU, direct-mapped TLB in typed arrays (a power-of-two number of entries). The tag is the
 * signed 4 KiB virtual page number; large pages are cached as 4 KiB fragments, which architectures
 * permit (Intel SDM 4.10.2.3; Arm ARM D8.13 "TLB maintenance"). An empty slot holds NaN, which never
 * equals a page number. Entries cache the translation and the DOMAIN, never the rights.
 */
import { TF_GLOBAL, TF_LEVEL_MASK, TF_LEVEL_SHIFT } from './translation-flags';

/** A per-CPU, direct-mapped TLB in typed arrays; caches translations and domains, never rights. */
export class Tlb {
  readonly mask: number;
  readonly tag: Float64Array;
  /** Physical address of the 4 KiB frame. */
  readonly frame: Float64Array;
  /** TF_* flags of the translation. */
  readonly flags: Int32Array;
  /** Whether a fragment of a large page may be cached (then a page invalidation scans every slot). */
  private largeCached = false;

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
    this.tag[slot] = vpn;
    this.frame[slot] = frame;
    this.flags[slot] = flags;
    if ((flags & TF_LEVEL_MASK) !== 0) this.largeCached = true;
    return slot;
  }

  /** Drop the entry for exactly this page number, if cached. */
  dropSlot(vpn: number): void {
    const slot = vpn & this.mask;
    if (this.tag[slot] === vpn) this.tag[slot] = NaN;
  }

  /** Drop every entry, of any page size, that translates the page `vpn` (INVLPG, TLBI VAE1, tlbie). */
  invalidatePage(vpn: number): void {
    if (!this.largeCached) {
      this.dropSlot(vpn);
      return;
    }
    for (let slot = 0; slot < this.entries; slot++) {
      const tag = this.tag[slot];
      if (tag !== tag) continue; // empty (NaN)
      const span = 2 ** (this.bitsPerLevel * ((this.flags[slot] & TF_LEVEL_MASK) >>> TF_LEVEL_SHIFT));
      if (Math.floor(tag / span) === Math.floor(vpn / span)) this.tag[slot] = NaN;
    }
  }

  /** An address-space switch without tags: drop every non-global entry. */
  flushNonGlobal(): void {
    for (let slot = 0; slot < this.entries; slot++) if ((this.flags[slot] & TF_GLOBAL) === 0) this.tag[slot] = NaN;
  }

  /** Drop every entry, global ones included. */
  flushAll(): void {
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
