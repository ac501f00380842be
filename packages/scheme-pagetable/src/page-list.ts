/**
 * A reusable list of virtual page addresses (a typed array and a count): the pages a rights change
 * rewrote, to be flushed. Reused across switches, so a switch allocates neither a backing store nor
 * a boxed number per (upper-half, non-Smi) address.
 */
export class PageList {
  count = 0;
  pages = new Float64Array(64);

  /** Room for `extra` more pages (the backing store doubles; only the list's owner reads it). */
  reserve(extra: number): Float64Array {
    let size = this.pages.length;
    if (this.count + extra <= size) return this.pages;
    while (this.count + extra > size) size *= 2;
    const grown = new Float64Array(size);
    grown.set(this.pages.subarray(0, this.count));
    this.pages = grown;
    return grown;
  }

  push(virtual: number): void {
    this.reserve(1)[this.count++] = virtual;
  }
}
