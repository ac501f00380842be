/** A page's own permissions, as DomainMembers keeps them: bit 0 writable, bit 1 executable. */
export const BASE_WRITABLE = 1;
export const BASE_EXECUTABLE = 2;

/** What a member page needs to be found again for removal: its slot in its domain's columns. */
export interface MemberSlot {
  slot: number;
}

/**
 * The pages of one domain as columns of typed arrays (PTE address, virtual address, base
 * permissions), so a rights change rewrites the domain's PTEs in one loop over numbers: no Set, no
 * iterator and no per-page object per switch. Removal moves the last member into the freed slot.
 */
export class DomainMembers<P extends MemberSlot> {
  count = 0;
  entryAt = new Float64Array(16);
  virtual = new Float64Array(16);
  base = new Uint8Array(16);
  private pages: P[] = [];

  add(page: P, entryAt: number, virtual: number, base: number): void {
    if (this.count === this.entryAt.length) this.grow();
    const slot = this.count++;
    this.entryAt[slot] = entryAt;
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
      this.entryAt[slot] = this.entryAt[last];
      this.virtual[slot] = this.virtual[last];
      this.base[slot] = this.base[last];
      this.pages[slot] = moved;
      moved.slot = slot;
    }
    this.pages.length = last;
    page.slot = -1;
  }

  private grow(): void {
    const size = this.entryAt.length * 2;
    const entryAt = new Float64Array(size);
    entryAt.set(this.entryAt);
    const virtual = new Float64Array(size);
    virtual.set(this.virtual);
    const base = new Uint8Array(size);
    base.set(this.base);
    this.entryAt = entryAt;
    this.virtual = virtual;
    this.base = base;
  }
}
