const PAGE = 0x1000;

/**
 * Per-page records a scheme keeps beside the page tables (a page's domain, its base permissions),
 * keyed by address space and 4 KiB page without allocating on lookup. Upper-half (negative, kernel)
 * addresses are one set shared by every address space, as x86-64 Linux shares the kernel half of
 * every PGD; pass `sharedUpperHalf: false` for an architecture whose spaces share nothing.
 */
export class PageMap<T> {
  private readonly shared = new Map<number, T>();
  private readonly spaces = new Map<number, Map<number, T>>();
  private count = 0;

  constructor(private readonly options: { readonly sharedUpperHalf?: boolean } = {}) {}

  get size(): number {
    return this.count;
  }

  /** The value stored for the page holding `virtual` in `space`, if any. */
  get(space: number, virtual: number): T | undefined {
    return this.table(space, virtual, false)?.get(Math.floor(virtual / PAGE));
  }

  /** Store `value` for the page holding `virtual` in `space`. */
  set(space: number, virtual: number, value: T): void {
    const table = this.table(space, virtual, true)!;
    const page = Math.floor(virtual / PAGE);
    if (!table.has(page)) this.count++;
    table.set(page, value);
  }

  /** Remove the page holding `virtual` in `space`; true when it was present. */
  delete(space: number, virtual: number): boolean {
    const removed = this.table(space, virtual, false)?.delete(Math.floor(virtual / PAGE)) ?? false;
    if (removed) this.count--;
    return removed;
  }

  /** Every stored value: the shared upper half's, then each space's (in no particular page order). */
  *values(): IterableIterator<T> {
    yield* this.shared.values();
    for (const table of this.spaces.values()) yield* table.values();
  }

  /** Remove every page of every space. */
  clear(): void {
    this.shared.clear();
    this.spaces.clear();
    this.count = 0;
  }

  private table(space: number, virtual: number, create: boolean): Map<number, T> | undefined {
    if (virtual < 0 && this.options.sharedUpperHalf !== false) return this.shared;
    let table = this.spaces.get(space);
    if (!table && create) {
      table = new Map();
      this.spaces.set(space, table);
    }
    return table;
  }
}
