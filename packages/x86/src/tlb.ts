/**
 * A per-CPU, direct-mapped TLB in typed arrays (power-of-two entries). The tag is the signed
 * 4 KiB virtual page number (large pages are cached as 4 KiB fragments, as processors may do:
 * SDM 4.10.2.3); an empty slot holds NaN, which never equals a page number. Entries cache the
 * translation and the key, never the rights (SDM 4.10.2.2), so PKRU/PKRS writes flush nothing.
 */
import { T_GLOBAL, T_SIZE_MASK, T_SIZE_SHIFT } from './translation-flags';

export class Tlb {
  readonly mask: number;
  readonly tag: Float64Array;
  /** Physical address of the 4 KiB frame. */
  readonly frame: Float64Array;
  readonly flags: Int32Array;
  /** The frame's memory, when it existed at refill (filled lazily by byte accesses otherwise). */
  readonly buffers: (Uint32Array | undefined)[];
  /** Whether a fragment of a large page may be cached (then INVLPG scans every slot). */
  private largeCached = false;

  constructor(readonly entries: number) {
    if (!Number.isInteger(entries) || entries < 1 || (entries & (entries - 1)) !== 0 || entries > 1 << 20) {
      throw new RangeError(`TLB entries ${String(entries)} must be a power of two between 1 and 2^20`);
    }
    this.mask = entries - 1;
    this.tag = new Float64Array(entries).fill(NaN);
    this.frame = new Float64Array(entries);
    this.flags = new Int32Array(entries);
    this.buffers = new Array<Uint32Array | undefined>(entries).fill(undefined);
  }

  fill(vpn: number, frame: number, flags: number, buffer: Uint32Array | undefined): number {
    const slot = vpn & this.mask;
    this.tag[slot] = vpn;
    this.frame[slot] = frame;
    this.flags[slot] = flags;
    this.buffers[slot] = buffer;
    if ((flags & T_SIZE_MASK) !== 0) this.largeCached = true;
    return slot;
  }

  /** Drop the entry for exactly this page number, if cached (a fault on it: SDM 4.10.4.1). */
  dropSlot(vpn: number): void {
    const slot = vpn & this.mask;
    if (this.tag[slot] === vpn) this.tag[slot] = NaN;
  }

  /** INVLPG: drop every entry, of any page size, that translates the page of `vpn` (SDM 4.10.4.1). */
  invalidatePage(vpn: number): void {
    if (!this.largeCached) {
      this.dropSlot(vpn);
      return;
    }
    for (let slot = 0; slot < this.entries; slot++) {
      const tag = this.tag[slot];
      if (tag !== tag) continue; // empty (NaN)
      const span = 2 ** (9 * ((this.flags[slot] & T_SIZE_MASK) >>> T_SIZE_SHIFT));
      if (Math.floor(tag / span) === Math.floor(vpn / span)) this.tag[slot] = NaN;
    }
  }

  /** CR3 write: drop non-global entries (SDM 4.10.4.1). */
  flushNonGlobal(): void {
    for (let slot = 0; slot < this.entries; slot++) if ((this.flags[slot] & T_GLOBAL) === 0) this.tag[slot] = NaN;
  }

  /** CR4.PGE/PCIDE toggle: drop everything, global entries too (SDM 4.10.4.1). */
  flushAll(): void {
    this.tag.fill(NaN);
    this.largeCached = false;
  }

  /** Number of valid entries (for tests and reports). */
  get validEntries(): number {
    let n = 0;
    for (let slot = 0; slot < this.entries; slot++) if (this.tag[slot] === this.tag[slot]) n++;
    return n;
  }
}
