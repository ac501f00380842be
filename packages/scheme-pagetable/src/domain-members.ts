import type { Denials } from '@pkeysim/core';
import type { PageList } from './page-list';
import { domainPteHi, domainPteLo } from './pte-bits';

export { BASE_EXECUTABLE, BASE_WRITABLE } from './pte-bits';

/** What a vacated slot holds (no page, no frame), so a removed page and its frame are not kept alive. */
const NO_PAGE: MemberSlot = Object.freeze({ slot: -1 });
const NO_FRAME = new Uint32Array(0);

/** What a member page needs to be found again for removal: its slot in its domain's columns. */
export interface MemberSlot {
  slot: number;
}

/**
 * The pages of one domain as columns (the words of the page-table frame holding the PTE and its
 * word index there, virtual address, base permissions), so a rights change rewrites the domain's
 * PTEs in one loop over numbers: no Set, no iterator, no per-page object and no frame lookup per
 * switch. A frame's words are stable until a reboot (machine-kit PhysicalMemory never replaces a
 * frame), and the machine drops every DomainMembers when it reboots. Removal moves the last member
 * into the freed slot.
 */
export class DomainMembers<P extends MemberSlot> {
  count = 0;
  /** The page-table frame holding each member's PTE. */
  private frames: Uint32Array[] = [];
  /** Index of the PTE's low word in its frame (the high word follows). */
  private word = new Int32Array(16);
  private virtual = new Float64Array(16);
  private base = new Uint8Array(16);
  private pages: P[] = [];

  add(page: P, frame: Uint32Array, word: number, virtual: number, base: number): void {
    if (this.count === this.word.length) this.grow();
    const slot = this.count++;
    this.frames[slot] = frame;
    this.word[slot] = word;
    this.virtual[slot] = virtual;
    this.base[slot] = base;
    this.pages[slot] = page;
    page.slot = slot;
  }

  remove(page: P): void {
    const slot = page.slot;
    if (slot < 0 || this.pages[slot] !== page) return;
    const last = --this.count;
    if (slot !== last) {
      const moved = this.pages[last];
      this.frames[slot] = this.frames[last];
      this.word[slot] = this.word[last];
      this.virtual[slot] = this.virtual[last];
      this.base[slot] = this.base[last];
      this.pages[slot] = moved;
      moved.slot = slot;
    }
    // Drop the references from the vacated slot without shrinking the arrays (a shrink and a regrow
    // per page would reallocate their backing stores).
    this.pages[last] = NO_PAGE as P;
    this.frames[last] = NO_FRAME;
    page.slot = -1;
  }

  /**
   * Give every member's PTE the bits for `denials` (pte-bits.ts), append the pages whose entry
   * changed to `changed`, and return how many entries were written (each one a PTE write).
   */
  rewrite(denials: Denials, changed: PageList): number {
    const n = this.count;
    const out = changed.reserve(n);
    const frames = this.frames;
    const word = this.word;
    const base = this.base;
    const virtual = this.virtual;
    let written = 0;
    for (let i = 0; i < n; i++) {
      const words = frames[i];
      const at = word[i];
      const lo = words[at];
      const hi = words[at + 1];
      const newLo = domainPteLo(lo, base[i], denials);
      const newHi = domainPteHi(hi, base[i], denials);
      if (newLo === lo && newHi === hi) continue;
      words[at] = newLo;
      words[at + 1] = newHi;
      out[changed.count++] = virtual[i];
      written++;
    }
    return written;
  }

  private grow(): void {
    const size = this.word.length * 2;
    const word = new Int32Array(size);
    word.set(this.word);
    const virtual = new Float64Array(size);
    virtual.set(this.virtual);
    const base = new Uint8Array(size);
    base.set(this.base);
    this.word = word;
    this.virtual = virtual;
    this.base = base;
  }
}
