/** One virtual memory area: a page-aligned range with one protection and one key (vm_area_struct). */
export interface Vma {
  readonly start: number;
  readonly end: number;
  /** PROT_* bits as the process asked for them. */
  readonly prot: number;
  readonly pkey: number;
  /** The key's allocation generation when the VMA was tagged, to spot a key freed and handed out again. */
  readonly pkeyGeneration: number;
}

/** A process's VMAs, sorted and non-overlapping. Edits split VMAs at range boundaries, as Linux does. */
export class VmaList {
  private items: Vma[] = [];

  /** Every VMA, in address order. */
  all(): readonly Vma[] {
    return this.items;
  }

  /** A copy of the list (fork() copies the VMAs). */
  clone(): VmaList {
    const copy = new VmaList();
    copy.items = this.items.slice();
    return copy;
  }

  /** find_vma() restricted to containment: the VMA holding `address`, if any. */
  find(address: number): Vma | undefined {
    let lo = 0;
    let hi = this.items.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.items[mid];
      if (address < v.start) hi = mid - 1;
      else if (address >= v.end) lo = mid + 1;
      else return v;
    }
    return undefined;
  }

  /** True when any VMA intersects [start, end). */
  overlaps(start: number, end: number): boolean {
    return this.items.some((v) => v.start < end && v.end > start);
  }

  /** True when [start, end) is covered by VMAs without a hole (mprotect's -ENOMEM check). */
  covers(start: number, end: number): boolean {
    let at = start;
    for (const v of this.items) {
      if (v.end <= at) continue;
      if (v.start > at) return false;
      at = v.end;
      if (at >= end) return true;
    }
    return false;
  }

  /** Insert a VMA that overlaps none (an overlap is an internal error). */
  insert(vma: Vma): void {
    if (this.overlaps(vma.start, vma.end)) throw new RangeError('internal: overlapping VMA insert');
    const i = this.items.findIndex((v) => v.start > vma.start);
    if (i === -1) this.items.push(vma);
    else this.items.splice(i, 0, vma);
  }

  /** Remove [start, end), splitting VMAs that straddle it; returns the removed pieces. */
  remove(start: number, end: number): Vma[] {
    const removed: Vma[] = [];
    const kept: Vma[] = [];
    for (const v of this.items) {
      if (v.end <= start || v.start >= end) {
        kept.push(v);
        continue;
      }
      if (v.start < start) kept.push({ ...v, end: start });
      removed.push({ ...v, start: Math.max(v.start, start), end: Math.min(v.end, end) });
      if (v.end > end) kept.push({ ...v, start: end });
    }
    this.items = kept;
    return removed;
  }

  /** Replace each piece of [start, end) by `change(piece)` (the pieces are split at the boundaries). */
  update(start: number, end: number, change: (piece: Vma) => Vma): Vma[] {
    const pieces = this.remove(start, end).map(change);
    for (const p of pieces) this.insert(p);
    return pieces;
  }
}
