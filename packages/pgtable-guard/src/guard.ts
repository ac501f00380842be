import { type AddressSpaceId, type Denials } from '@pkeysim/core';
import {
  acquireConsumerKey,
  describeThread,
  DIRECT_MAP_BASE,
  formatAddress,
  type Kernel,
  KernelError,
  PAGE_SIZE,
  relaxReadFault,
  type Thread,
} from '@pkeysim/kernel';
import { type PgtableBootParams, type PgtableMode, parsePgtableBootParams } from './boot-params';
import { GroupedPageCache } from './grouped-cache';
import { indexAt, LEVELS, type LeafChange, levelSpan, TableMirror, USER_PGD_ENTRIES } from './mirror';
import {
  decodeEntry,
  ENTRY_BYTES,
  entryAddress,
  entryBytes,
  type EntryValue,
  isPresent,
  leafEntry,
  NONE,
  PAGE_ACCESSED,
  PAGE_PSE,
  PAGE_RW,
  type PageProt,
  tableEntry,
} from './pte';

/**
 * Where the guard stands: protecting (`enabled`), switched off by `nopkstables` (`disabled`),
 * without a key because the CPU lacks supervisor keys (`unsupported`) or none could be had
 * (`no-key`), or protection given up after a stray write in soft mode (`abandoned`).
 */
export type GuardState = 'enabled' | 'disabled' | 'unsupported' | 'no-key' | 'abandoned';

/** Options for the page-table guard: the kernel command line and the grouped-cache block size. */
export interface PgtableGuardOptions {
  /** The kernel command line: `nopkstables`, `pkstablessoft`. */
  readonly cmdline?: string;
  /** Pages per grouped-cache block (default 512 = 2 MiB). */
  readonly blockPages?: number;
}

/** A stray write to a page table that the key caught. */
export interface PgtableFault {
  readonly address: number;
  readonly cpu: number;
  readonly thread: string;
  readonly mode: PgtableMode;
  /** strict: the writer oopsed; soft: protection was abandoned and the write went through. */
  readonly outcome: 'oops' | 'abandoned';
}

/** A guarded address space: its PGD page, its tables (all from the grouped cache) and the machine space they drive. */
export interface GuardedMm {
  readonly id: number;
  /** Physical address of the PGD page. */
  readonly pgd: number;
  /** The machine address space whose translations the guarded tables define. */
  readonly space: AddressSpaceId;
  readonly mirror: TableMirror;
}

/** The warning of the RFC's fault handler (Edgecombe, "PKS write protected page tables", v2). */
export const PGTABLE_WARNING = 'Write to protected page table, exploit attempt?';
/** The static key of the page tables (V7..V10 pks-keys.h naming; write-disabled by default). */
export const PGTABLE_KEY_NAME = 'PKS_KEY_PG_TABLES';

/**
 * PKS write-protected page tables after Rick Edgecombe's RFC (May/Aug 2021). Page-table pages come
 * from a grouped page cache pre-keyed with the page-table key, which rests write-disabled; only the
 * page-table setters open it, around their own stores, for the running thread alone. A stray store
 * to a page table faults: strict mode oopses, soft mode warns once and abandons protection.
 */
export class PgtableGuard {
  readonly params: PgtableBootParams;
  readonly cache: GroupedPageCache;
  /** Stray writes the key caught, in order. */
  readonly faults: PgtableFault[] = [];
  private stateValue: GuardState;
  private readonly key: number | undefined;
  private readonly restDenials: Denials;
  private readonly depth = new WeakMap<Thread, number>();
  private readonly mms: GuardedMm[] = [];
  /** Which address spaces walk each table page (physical address): a store there re-syncs only them. */
  private readonly walkers = new Map<number, Set<GuardedMm>>();
  /** The table pages each space was last indexed under in `walkers` (its tree as of its last change). */
  private readonly indexed = new Map<GuardedMm, number[]>();

  constructor(
    readonly kernel: Kernel,
    options: PgtableGuardOptions = {},
  ) {
    this.params = parsePgtableBootParams(options.cmdline);
    let state: GuardState = 'disabled';
    let key: number | undefined;
    let rest: Denials = 0;
    if (!this.params.enabled) {
      kernel.log.info('pgtable-guard: nopkstables: page tables are not write-protected');
    } else {
      const got = acquireConsumerKey(kernel, PGTABLE_KEY_NAME, 'pgtable');
      if (got.ok) {
        state = 'enabled';
        key = got.key;
        rest = got.restDenials;
        kernel.pks_set_fault_callback(key, (frame, address, write) => {
          if (!this.cache.containsAddress(address)) return false;
          if (!write) return relaxReadFault(kernel, frame, got.key, write);
          return this.strayWrite(frame.cpu, address);
        });
        kernel.log.info(`pgtable-guard: page tables write-protected with key ${key} (${this.params.mode} mode)`);
      } else {
        state = got.reason;
        // "Callers must check and work without PKS" (RFC cover letter): the tables still work, unkeyed.
        kernel.log.info(`pgtable-guard: page tables are not write-protected: ${got.message}`);
      }
    }
    this.stateValue = state;
    this.key = key;
    this.restDenials = rest;
    this.cache = new GroupedPageCache(kernel, { key, blockPages: options.blockPages });
  }

  get state(): GuardState {
    return this.stateValue;
  }
  /** True while page-table stores outside the setters fault. */
  get protected(): boolean {
    return this.stateValue === 'enabled';
  }
  get mode(): PgtableMode {
    return this.params.mode;
  }
  /** The page-table key, when the guard got one. */
  get pgtableKey(): number | undefined {
    return this.key;
  }
  get addressSpaces(): readonly GuardedMm[] {
    return this.mms;
  }

  // --- the write window (enable_pgtable_write / disable_pgtable_write) -----------------------------

  /** Open the page-table key for the thread running on `cpu` (nests per thread). */
  enable_pgtable_write(cpu: number): void {
    const thread = this.kernel.cpu(cpu).current;
    const depth = this.depth.get(thread) ?? 0;
    if (depth === 0 && this.protected) this.kernel.cpu(cpu).pks_set_readwrite(this.key!);
    this.depth.set(thread, depth + 1);
  }

  /** Close it again: the key goes back to its resting rights (write-disabled) at the outermost level. */
  disable_pgtable_write(cpu: number): void {
    const thread = this.kernel.cpu(cpu).current;
    const depth = this.depth.get(thread) ?? 0;
    if (depth === 0) {
      throw new KernelError('EINVAL', `disable_pgtable_write: ${describeThread(thread)} has no open page-table window`);
    }
    this.depth.set(thread, depth - 1);
    if (depth === 1 && this.protected) this.kernel.cpu(cpu).pks_update_protection(this.key!, this.restDenials);
  }

  // --- the setters: the only code that stores to page tables ---------------------------------------

  /** set_pte(): store a PTE inside a write window. */
  set_pte(cpu: number, ptep: number, pte: EntryValue): void {
    this.store(cpu, ptep, [pte]);
  }
  /** set_pmd(): store a PMD entry inside a write window. */
  set_pmd(cpu: number, pmdp: number, pmd: EntryValue): void {
    this.store(cpu, pmdp, [pmd]);
  }
  /** set_pud(): store a PUD entry inside a write window. */
  set_pud(cpu: number, pudp: number, pud: EntryValue): void {
    this.store(cpu, pudp, [pud]);
  }
  /** 4-level paging folds the P4D into the PGD (include/asm-generic/pgtable-nop4d.h). */
  set_p4d(cpu: number, p4dp: number, p4d: EntryValue): void {
    this.store(cpu, p4dp, [p4d]);
  }
  /** set_pgd(): store a PGD entry inside a write window. */
  set_pgd(cpu: number, pgdp: number, pgd: EntryValue): void {
    this.store(cpu, pgdp, [pgd]);
  }

  /** ptep_get_and_clear(): read the entry and clear it in one window; returns the old entry. */
  ptep_get_and_clear(cpu: number, ptep: number): EntryValue {
    return this.update(cpu, ptep, () => NONE);
  }

  /** ptep_set_wrprotect(): clear R/W. */
  ptep_set_wrprotect(cpu: number, ptep: number): void {
    this.update(cpu, ptep, (old) => ({ lo: (old.lo & ~PAGE_RW) >>> 0, hi: old.hi }));
  }

  /** ptep_test_and_clear_young(): clear Accessed; true when it was set. */
  ptep_test_and_clear_young(cpu: number, ptep: number): boolean {
    const old = this.update(cpu, ptep, (e) =>
      (e.lo & PAGE_ACCESSED) === 0 ? e : { lo: (e.lo & ~PAGE_ACCESSED) >>> 0, hi: e.hi },
    );
    return (old.lo & PAGE_ACCESSED) !== 0;
  }

  /** clone_pgd_range(dst, src, count): copy PGD entries (pgd_alloc shares the template's subtrees). */
  clone_pgd_range(cpu: number, dst: number, src: number, count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > USER_PGD_ENTRIES) {
      throw new KernelError('EINVAL', `clone_pgd_range: count must be 0..${USER_PGD_ENTRIES}, got ${String(count)}`);
    }
    this.checkEntryPointer(src, 'clone_pgd_range');
    const entries: EntryValue[] = [];
    const bytes = this.kernel.machine.readPhysical(this.physicalOf(src), count * ENTRY_BYTES);
    for (let i = 0; i < count; i++) entries.push(decodeEntry(bytes, i * ENTRY_BYTES));
    this.store(cpu, dst, entries);
  }

  // --- address spaces ---------------------------------------------------------------------------

  /** pgd_alloc(): a new guarded address space; `template` shares its first `shared` PGD entries. */
  pgd_alloc(cpu: number, template?: { readonly mm: GuardedMm; readonly shared: number }): GuardedMm {
    const pgd = this.allocTable(cpu);
    const space = this.kernel.machine.createAddressSpace();
    const mm: GuardedMm = {
      id: this.mms.length,
      pgd,
      space,
      mirror: new TableMirror(this.kernel.machine, space, pgd, (p) => this.cache.contains(p)),
    };
    this.mms.push(mm);
    this.walkers.set(pgd, new Set([mm]));
    this.indexed.set(mm, [pgd]);
    if (template)
      this.clone_pgd_range(
        cpu,
        this.kernel.page_address(pgd),
        this.kernel.page_address(template.mm.pgd),
        template.shared,
      );
    return mm;
  }

  /** Map one 4 KiB page, allocating (and zeroing) missing tables and linking them with the setters. */
  map_page(cpu: number, mm: GuardedMm, virtual: number, physical: number, prot: PageProt): void {
    this.checkUserPage(virtual, 'map_page');
    let table = mm.pgd;
    for (let level = LEVELS; level > 1; level--) {
      const entryAt = this.kernel.page_address(table) + indexAt(virtual, level) * ENTRY_BYTES;
      const entry = this.readEntry(entryAt);
      if (isPresent(entry) && (entry.lo & PAGE_PSE) === 0) {
        table = entryAddress(entry);
        continue;
      }
      const next = this.allocTable(cpu);
      this.setterFor(level).call(this, cpu, entryAt, tableEntry(next));
      table = next;
    }
    this.set_pte(cpu, this.kernel.page_address(table) + indexAt(virtual, 1) * ENTRY_BYTES, leafEntry(physical, prot));
  }

  /** Unmap one page: ptep_get_and_clear on its PTE; returns the old entry (NONE when unmapped). */
  unmap_page(cpu: number, mm: GuardedMm, virtual: number): EntryValue {
    const ptep = this.pte_offset(mm, virtual);
    return ptep === undefined ? NONE : this.ptep_get_and_clear(cpu, ptep);
  }

  /** The kernel address of the entry mapping `virtual` at `level` (1 = PTE), or undefined when a table is missing. */
  pte_offset(mm: GuardedMm, virtual: number, level = 1): number | undefined {
    this.checkUserPage(virtual, 'pte_offset');
    let table = mm.pgd;
    for (let l = LEVELS; l > level; l--) {
      const entry = this.readEntry(this.kernel.page_address(table) + indexAt(virtual, l) * ENTRY_BYTES);
      if (!isPresent(entry) || (entry.lo & PAGE_PSE) !== 0 || !this.cache.contains(entryAddress(entry)))
        return undefined;
      table = entryAddress(entry);
    }
    return this.kernel.page_address(table) + indexAt(virtual, level) * ENTRY_BYTES;
  }

  /** The entry at a kernel address, as the page walker reads it (by physical address, no key check). */
  readEntry(entryAt: number): EntryValue {
    return decodeEntry(this.kernel.machine.readPhysical(this.physicalOf(entryAt), ENTRY_BYTES));
  }

  /** pgd_free(): give every table of `mm` back to the grouped cache (tables shared by clone_pgd_range stay). */
  pgd_free(mm: GuardedMm): void {
    const index = this.mms.indexOf(mm);
    if (index < 0) throw new KernelError('EINVAL', `pgd_free: address space ${String(mm?.id)} is not live`);
    const shared = new Set<number>();
    for (const other of this.mms) if (other !== mm) this.tablesOf(other.pgd, LEVELS, shared);
    const own = new Set<number>();
    this.tablesOf(mm.pgd, LEVELS, own);
    this.forgetTables(mm, [...mm.mirror.tables]);
    this.indexed.delete(mm);
    mm.mirror.clear();
    this.mms.splice(index, 1);
    for (const table of own) if (!shared.has(table)) this.cache.free(table);
  }

  /**
   * Bring the machine's translations in line with the guarded tables (what the MMU would see on its
   * next walk). With `store` (the kernel address range a store wrote) only the address spaces whose
   * tables include a touched page are walked; without it, every one. Setters call it with their
   * store; after any other store, so must its caller.
   */
  sync(store?: { readonly address: number; readonly length: number }): {
    readonly mm: GuardedMm;
    readonly change: LeafChange;
  }[] {
    const out: { mm: GuardedMm; change: LeafChange }[] = [];
    if (!store) {
      for (const mm of this.mms) this.reindex(mm, () => mm.mirror.sync(), out);
      return out;
    }
    // Write-through: each touched table page, in each space whose tree holds it, entry by entry.
    const start = this.physicalOf(store.address);
    const end = start + store.length;
    for (let page = start - (start % PAGE_SIZE); page < end; page += PAGE_SIZE) {
      const first = Math.floor((Math.max(start, page) - page) / ENTRY_BYTES);
      const last = Math.floor((Math.min(end, page + PAGE_SIZE) - 1 - page) / ENTRY_BYTES);
      for (const mm of [...(this.walkers.get(page) ?? [])])
        this.reindex(mm, () => mm.mirror.syncEntries(page, first, last - first + 1), out);
    }
    return out;
  }

  /** Run a sync of `mm`, collect its changes, and keep the page -> spaces index in step with its tree. */
  private reindex(mm: GuardedMm, sync: () => LeafChange[], out: { mm: GuardedMm; change: LeafChange }[]): void {
    const version = mm.mirror.treeVersion;
    for (const change of sync()) out.push({ mm, change });
    // A store that changed no table link (a PTE store, the common case) leaves the index as it is.
    if (mm.mirror.treeVersion === version) return;
    this.forgetTables(mm, this.indexed.get(mm) ?? []);
    const tables = [...mm.mirror.tables];
    this.indexed.set(mm, tables);
    for (const table of tables) {
      let set = this.walkers.get(table);
      if (!set) this.walkers.set(table, (set = new Set()));
      set.add(mm);
    }
  }

  private forgetTables(mm: GuardedMm, tables: Iterable<number>): void {
    for (const table of tables) {
      const set = this.walkers.get(table);
      if (!set) continue;
      set.delete(mm);
      if (set.size === 0) this.walkers.delete(table);
    }
  }

  /** Physical addresses of every table page of `mm` (PGD first), found by walking it. */
  tablePages(mm: GuardedMm): number[] {
    const out = new Set<number>();
    this.tablesOf(mm.pgd, LEVELS, out);
    return [...out];
  }

  /** Whether a kernel address is inside a page-table page (the guard's fault callback test). */
  isPageTableAddress(virtual: number): boolean {
    return this.cache.containsAddress(virtual);
  }

  // --- internals --------------------------------------------------------------------------------

  private setterFor(level: number): (cpu: number, at: number, e: EntryValue) => void {
    return level === 4 ? this.set_pgd : level === 3 ? this.set_pud : this.set_pmd;
  }

  /** A new table from the grouped cache, zeroed inside the window (a new table is written too). */
  private allocTable(cpu: number): number {
    const page = this.cache.alloc();
    this.inWindow(cpu, () => this.write(cpu, this.kernel.page_address(page), new Uint8Array(PAGE_SIZE)));
    return page;
  }

  private store(cpu: number, at: number, entries: readonly EntryValue[]): void {
    this.checkEntryPointer(at, 'set_entry', entries.length);
    const bytes = new Uint8Array(entries.length * ENTRY_BYTES);
    entries.forEach((e, i) => bytes.set(entryBytes(e), i * ENTRY_BYTES));
    this.inWindow(cpu, () => this.write(cpu, at, bytes));
    this.sync({ address: at, length: bytes.length });
  }

  /** Read-modify-write of one entry inside one window (a checked read, then a checked store). */
  private update(cpu: number, ptep: number, change: (old: EntryValue) => EntryValue): EntryValue {
    this.checkEntryPointer(ptep, 'pte update');
    const old = this.inWindow(cpu, () => {
      const read = this.kernel.cpu(cpu).read(ptep, ENTRY_BYTES);
      if (!read.ok)
        throw new KernelError('EFAULT', `pgtable-guard: reading ${formatAddress(ptep)} oopsed: ${read.oops.reason}`);
      const value = decodeEntry(read.data);
      this.write(cpu, ptep, entryBytes(change(value)));
      return value;
    });
    this.sync({ address: ptep, length: ENTRY_BYTES });
    return old;
  }

  private write(cpu: number, at: number, bytes: Uint8Array): void {
    const result = this.kernel.cpu(cpu).write(at, bytes);
    if (!result.ok)
      throw new KernelError(
        'EFAULT',
        `pgtable-guard: setter store to ${formatAddress(at)} oopsed: ${result.oops.reason}`,
      );
  }

  /** Run `fn` inside enable/disable_pgtable_write; the window is closed only by the thread that opened it. */
  private inWindow<T>(cpu: number, fn: () => T): T {
    const thread = this.kernel.cpu(cpu).current;
    this.enable_pgtable_write(cpu);
    try {
      return fn();
    } finally {
      if (this.kernel.cpu(cpu).current === thread && !this.kernel.panic) this.disable_pgtable_write(cpu);
    }
  }

  /** A stray store hit a page table: warn; strict declines (oops), soft abandons protection and retries. */
  private strayWrite(cpu: number, address: number): boolean {
    const thread = this.kernel.cpu(cpu).current;
    this.kernel.log.warn(PGTABLE_WARNING);
    this.kernel.log.info(
      `pgtable-guard: store to ${formatAddress(address)} by ${describeThread(thread)} on CPU ${cpu}`,
    );
    const soft = this.params.mode === 'soft';
    this.faults.push({
      address,
      cpu,
      thread: describeThread(thread),
      mode: this.params.mode,
      outcome: soft ? 'abandoned' : 'oops',
    });
    if (!soft) return false;
    // Soft mode: one warning, then the tables stay writable for everyone (the pages go back to key 0).
    this.stateValue = 'abandoned';
    this.cache.rekey(undefined);
    this.kernel.log.info('pgtable-guard: soft mode: page-table write protection abandoned');
    return true;
  }

  private checkEntryPointer(at: number, op: string, entries = 1): void {
    if (
      !Number.isInteger(at) ||
      at % ENTRY_BYTES !== 0 ||
      !this.cache.containsAddress(at) ||
      !this.cache.containsAddress(at + entries * ENTRY_BYTES - 1)
    ) {
      throw new KernelError(
        'EINVAL',
        `${op}: ${typeof at === 'number' ? formatAddress(at) : String(at)} is not an entry of a page-table page`,
      );
    }
  }

  private checkUserPage(virtual: number, op: string): void {
    if (
      !Number.isInteger(virtual) ||
      virtual < 0 ||
      virtual % PAGE_SIZE !== 0 ||
      virtual >= USER_PGD_ENTRIES * levelSpan(LEVELS)
    ) {
      throw new KernelError('EINVAL', `${op}: ${String(virtual)} is not a page-aligned user address`);
    }
  }

  /** __pa(): page-table pages are addressed through the direct map. */
  private physicalOf(virtual: number): number {
    return virtual - DIRECT_MAP_BASE;
  }

  private tablesOf(table: number, level: number, out: Set<number>): void {
    out.add(table);
    if (level === 1) return;
    const count = level === LEVELS ? USER_PGD_ENTRIES : 512;
    const bytes = this.kernel.machine.readPhysical(table, count * ENTRY_BYTES);
    for (let i = 0; i < count; i++) {
      const entry = decodeEntry(bytes, i * ENTRY_BYTES);
      if (!isPresent(entry) || (entry.lo & PAGE_PSE) !== 0) continue;
      const next = entryAddress(entry);
      if (this.cache.contains(next) && !out.has(next)) this.tablesOf(next, level - 1, out);
    }
  }
}
