/**
 * Where each page-table page sits, recorded when a setter links it (never found by a walk): the
 * address space that owns it, its level (1 = PTE .. 4 = PGD) and the first virtual address it maps.
 * A store to entry i of a table then maps base + i * span(level): what a TLB flush must cover.
 * Typed arrays by slot, one Map from page to slot; slots of freed tables are reused.
 */
export class TableIndex<Owner> {
  private readonly slots = new Map<number, number>();
  private readonly free: number[] = [];
  private levels = new Int8Array(64);
  private bases = new Float64Array(64);
  private readonly owners: (Owner | undefined)[] = [];
  private used = 0;

  /** Record (or move) `page`: level, base virtual address and owner. */
  record(page: number, owner: Owner, level: number, base: number): void {
    let slot = this.slots.get(page);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.used++;
      if (slot >= this.levels.length) this.grow();
      this.slots.set(page, slot);
    }
    this.levels[slot] = level;
    this.bases[slot] = base;
    this.owners[slot] = owner;
  }

  /** The slot of a recorded page, or -1. */
  slotOf(page: number): number {
    return this.slots.get(page) ?? -1;
  }

  levelOf(slot: number): number {
    return this.levels[slot];
  }

  baseOf(slot: number): number {
    return this.bases[slot];
  }

  ownerOf(slot: number): Owner {
    return this.owners[slot]!;
  }

  /** The page is no longer a table (given back to the cache). */
  forget(page: number): void {
    const slot = this.slots.get(page);
    if (slot === undefined) return;
    this.slots.delete(page);
    this.owners[slot] = undefined;
    this.free.push(slot);
  }

  private grow(): void {
    const levels = new Int8Array(this.levels.length * 2);
    levels.set(this.levels);
    const bases = new Float64Array(this.bases.length * 2);
    bases.set(this.bases);
    this.levels = levels;
    this.bases = bases;
  }
}
