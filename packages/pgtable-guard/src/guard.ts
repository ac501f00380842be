import {
  type AddressSpaceId,
  type Denials,
  type InPlacePageTables,
  inPlacePageTables,
  MachineEvent,
} from '@pkeysim/core';
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
import { EntryFormat, indexAt, LEVELS, levelSpan, USER_PGD_ENTRIES } from './entry-format';
import { type EffectiveLeaf, entryWords, type LeafChange, leafChanges, LeafReport } from './leaf-report';
import { decodeEntry, ENTRY_BYTES, entryBytes, type EntryValue, NONE, type PageProt, putEntry, wordAt } from './pte';
import { TableIndex } from './table-index';

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

/** A guarded address space: its PGD page, its tables (all from the grouped cache) and the machine space that walks them. */
export interface GuardedMm {
  readonly id: number;
  /** Physical address of the PGD page: the root the machine's MMU walks for `space`. */
  readonly pgd: number;
  /** The machine address space adopted on the guarded tables (they are its page tables, in place). */
  readonly space: AddressSpaceId;
  /** Its table pages (physical), PGD first, in the order they were linked into the tree. */
  readonly tables: ReadonlySet<number>;
}

interface Mm extends GuardedMm {
  readonly tables: Set<number>;
}

/** One entry a store that bypassed the setters may change, as it was before the store. */
export interface WatchedEntry {
  /** The space whose tree holds the entry. */
  readonly mm: GuardedMm;
  /** Physical address of the entry. */
  readonly physical: number;
  /** Its level (1 = PTE .. 4 = PGD) and the first virtual address it maps. */
  readonly level: number;
  readonly virtual: number;
  /** The entry before the store, and the leaves it mapped then. */
  readonly old: EntryValue;
  readonly leaves: ReadonlyMap<number, EffectiveLeaf>;
}

/** What {@link PgtableGuard.watchStore} saw before a store: hand it to {@link PgtableGuard.storeLanded}. */
export interface StoreWatch {
  readonly entries: readonly WatchedEntry[];
}

/**
 * A range flush invalidates page by page up to this many pages, else the whole TLB (Linux x86
 * tlb_single_page_flush_ceiling, arch/x86/mm/tlb.c).
 */
const FLUSH_CEILING = 33;

/** What a new table is zeroed with (the store copies it; never written to). */
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

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
  /** The machine's entry format: the guard writes the tables the MMU walks, in its own format. */
  readonly format: EntryFormat;
  private readonly depth = new WeakMap<Thread, number>();
  /** The depth of the thread that last opened or closed a window, held here until another thread does (then saved in `depth`). */
  private depthThread: Thread | undefined;
  private depthValue = 0;
  private readonly mms: Mm[] = [];
  private nextId = 0;
  private readonly inPlace: InPlacePageTables;
  /** Where each linked table page sits (space, level, base address), recorded when it is linked. */
  private readonly index = new TableIndex<Mm>();
  private readonly report: LeafReport;
  /** The bytes of the entry storeEntry and update store (the machine copies them; read back by written() before the next store). */
  private readonly entryScratch = new Uint8Array(ENTRY_BYTES);
  /** The entry changes of the read-modify-write setters, made once (not a closure per call). */
  private readonly cleared = (): EntryValue => NONE;
  private readonly wrprotected = (old: EntryValue): EntryValue => this.format.withoutWrite(old);
  private readonly aged = (e: EntryValue): EntryValue => {
    const accessed = this.format.accessedLo;
    return (e.lo & accessed) === 0 ? e : { lo: (e.lo & ~accessed) >>> 0, hi: e.hi };
  };

  constructor(
    readonly kernel: Kernel,
    options: PgtableGuardOptions = {},
  ) {
    const inPlace = inPlacePageTables(kernel.machine);
    if (!inPlace)
      throw new KernelError(
        'EOPNOTSUPP',
        `pgtable-guard: the ${kernel.machine.arch} machine cannot walk page tables the kernel builds in place`,
      );
    this.inPlace = inPlace;
    this.format = new EntryFormat(inPlace.codec);
    this.report = new LeafReport(kernel.machine, this.format, (p) => this.cache.contains(p));
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
    const view = this.kernel.cpu(cpu);
    const thread = view.current;
    const depth = this.depthOf(thread);
    if (depth === 0 && this.protected) view.pks_set_readwrite(this.key!);
    this.setDepth(thread, depth + 1);
  }

  /** Close it again: the key goes back to its resting rights (write-disabled) at the outermost level. */
  disable_pgtable_write(cpu: number): void {
    const view = this.kernel.cpu(cpu);
    const thread = view.current;
    const depth = this.depthOf(thread);
    if (depth === 0) {
      throw new KernelError('EINVAL', `disable_pgtable_write: ${describeThread(thread)} has no open page-table window`);
    }
    this.setDepth(thread, depth - 1);
    if (depth === 1 && this.protected) view.pks_update_protection(this.key!, this.restDenials);
  }

  private depthOf(thread: Thread): number {
    return thread === this.depthThread ? this.depthValue : (this.depth.get(thread) ?? 0);
  }

  private setDepth(thread: Thread, depth: number): void {
    if (thread !== this.depthThread) {
      if (this.depthThread !== undefined) this.depth.set(this.depthThread, this.depthValue);
      this.depthThread = thread;
    }
    this.depthValue = depth;
  }

  // --- the setters: the only code that stores to page tables ---------------------------------------

  /** set_pte(): store a PTE inside a write window. */
  set_pte(cpu: number, ptep: number, pte: EntryValue): void {
    this.storeEntry(cpu, ptep, pte);
  }
  /** set_pmd(): store a PMD entry inside a write window. */
  set_pmd(cpu: number, pmdp: number, pmd: EntryValue): void {
    this.storeEntry(cpu, pmdp, pmd);
  }
  /** set_pud(): store a PUD entry inside a write window. */
  set_pud(cpu: number, pudp: number, pud: EntryValue): void {
    this.storeEntry(cpu, pudp, pud);
  }
  /** 4-level paging folds the P4D into the PGD (include/asm-generic/pgtable-nop4d.h). */
  set_p4d(cpu: number, p4dp: number, p4d: EntryValue): void {
    this.storeEntry(cpu, p4dp, p4d);
  }
  /** set_pgd(): store a PGD entry inside a write window. */
  set_pgd(cpu: number, pgdp: number, pgd: EntryValue): void {
    this.storeEntry(cpu, pgdp, pgd);
  }

  /** ptep_get_and_clear(): read the entry and clear it in one window; returns the old entry. */
  ptep_get_and_clear(cpu: number, ptep: number): EntryValue {
    return this.update(cpu, ptep, this.cleared);
  }

  /** ptep_set_wrprotect(): take write permission away (x86 R/W, arm64 AP[2], POWER _PAGE_WRITE). */
  ptep_set_wrprotect(cpu: number, ptep: number): void {
    this.update(cpu, ptep, this.wrprotected);
  }

  /** ptep_test_and_clear_young(): clear Accessed; true when it was set (false on formats without one). */
  ptep_test_and_clear_young(cpu: number, ptep: number): boolean {
    const old = this.update(cpu, ptep, this.aged);
    return (old.lo & this.format.accessedLo) !== 0;
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

  /**
   * pgd_alloc(): a new guarded address space whose PGD the machine adopts as its root, so the MMU
   * walks the guarded tables themselves. Where every root carries the kernel half (x86), its
   * top-level entries are copied in first (Linux pgd_ctor). `template` shares its first `shared`
   * PGD entries.
   */
  pgd_alloc(cpu: number, template?: { readonly mm: GuardedMm; readonly shared: number }): GuardedMm {
    const pgd = this.allocTable(cpu);
    this.copyKernelHalf(cpu, pgd);
    const space = this.inPlace.adoptAddressSpace(pgd);
    const mm: Mm = { id: this.nextId++, pgd, space, tables: new Set([pgd]) };
    this.mms.push(mm);
    this.index.record(pgd, mm, LEVELS, 0);
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
    const format = this.format;
    let table = mm.pgd;
    for (let level = LEVELS; level > 1; level--) {
      const entryAt = this.kernel.page_address(table) + indexAt(virtual, level) * ENTRY_BYTES;
      const linked = this.tableAt(this.physicalOf(entryAt), level);
      // A link outside the page-table cache is a corrupted entry (a landed stray): like Linux's
      // pmd_clear_bad (mm/pgtable-generic.c) it is not followed but replaced by a new table.
      if (linked >= 0 && this.cache.contains(linked)) {
        table = linked;
        continue;
      }
      const next = this.allocTable(cpu);
      this.setterFor(level).call(this, cpu, entryAt, format.table(next));
      table = next;
    }
    this.set_pte(cpu, this.kernel.page_address(table) + indexAt(virtual, 1) * ENTRY_BYTES, format.leaf(physical, prot));
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
      // Entries read by physical address (table + index): the direct-map round trip is not needed.
      const next = this.tableAt(table + indexAt(virtual, l) * ENTRY_BYTES, l);
      if (next < 0 || !this.cache.contains(next)) return undefined;
      table = next;
    }
    return this.kernel.page_address(table) + indexAt(virtual, level) * ENTRY_BYTES;
  }

  /** The table the entry at physical `entryAt` (at `level`) links, or -1: its two words, no entry object. */
  private tableAt(entryAt: number, level: number): number {
    const b = this.kernel.machine.readPhysical(entryAt, ENTRY_BYTES);
    const lo = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    const hi = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
    return this.format.tableOf(lo, hi, level);
  }

  /** The entry at a kernel address, as the page walker reads it (by physical address, no key check). */
  readEntry(entryAt: number): EntryValue {
    return decodeEntry(this.kernel.machine.readPhysical(this.physicalOf(entryAt), ENTRY_BYTES));
  }

  /**
   * pgd_free(): give every table of `mm` back to the grouped cache (tables shared by
   * clone_pgd_range stay, owned from then on by a space that still links them). The machine
   * releases the space first, so it walks that PGD no more; its id is refused from then on. A
   * space a CPU is running in cannot be freed (EBUSY: switch away first, as Linux frees an mm only
   * once no CPU uses it).
   */
  pgd_free(mm: GuardedMm): void {
    const index = this.mms.indexOf(mm as Mm);
    if (index < 0) throw new KernelError('EINVAL', `pgd_free: address space ${String(mm?.id)} is not live`);
    const machine = this.kernel.machine;
    for (let cpu = 0; cpu < machine.cpuCount; cpu++)
      if (machine.activeSpace(cpu) === mm.space)
        throw new KernelError('EBUSY', `pgd_free: address space ${mm.id} is running on CPU ${cpu}`);
    this.inPlace.releaseAddressSpace(mm.space);
    this.mms.splice(index, 1);
    for (const table of (mm as Mm).tables) {
      const heir = this.mms.find((other) => other.tables.has(table));
      const slot = this.index.slotOf(table);
      if (heir) {
        if (slot >= 0 && this.index.ownerOf(slot) === mm)
          this.index.record(table, heir, this.index.levelOf(slot), this.index.baseOf(slot));
        continue;
      }
      this.index.forget(table);
      this.cache.free(table);
    }
  }

  /** The leaves `mm`'s tables map now, as the MMU translates them (a report: a walk of its tree). */
  leaves(mm: GuardedMm): Map<number, EffectiveLeaf> {
    return this.report.spaceLeaves(mm.space, mm.pgd, LEVELS);
  }

  /**
   * Before a store that bypasses the setters (a stray): the linked entries it may change and what
   * they map now. After it landed, {@link storeLanded} says what it changed. The store itself needs
   * nothing from the guard to take effect: the MMU walks the tables it wrote.
   */
  watchStore(address: number, length: number): StoreWatch {
    const entries: WatchedEntry[] = [];
    const start = this.physicalOf(address);
    for (let at = start - (start % ENTRY_BYTES); at < start + length; at += ENTRY_BYTES) {
      const page = at - (at % PAGE_SIZE);
      const slot = this.index.slotOf(page);
      if (slot < 0) continue;
      const mm = this.index.ownerOf(slot);
      const level = this.index.levelOf(slot);
      const i = (at - page) / ENTRY_BYTES;
      // Only tables the space links now, and only the user half of a PGD.
      if (!mm.tables.has(page) || (level === LEVELS && i >= USER_PGD_ENTRIES)) continue;
      const virtual = this.index.baseOf(slot) + i * levelSpan(level);
      const old = decodeEntry(this.kernel.machine.readPhysical(at, ENTRY_BYTES));
      const leaves = new Map<number, EffectiveLeaf>();
      this.report.entryLeaves(mm.space, old, level, virtual, leaves);
      entries.push({ mm, physical: at, level, virtual, old, leaves });
    }
    return { entries };
  }

  /** After a watched store landed: the leaves it changed, by space (a changed table link is followed). */
  storeLanded(watch: StoreWatch): { readonly mm: GuardedMm; readonly change: LeafChange }[] {
    const out: { mm: GuardedMm; change: LeafChange }[] = [];
    for (const entry of watch.entries) {
      const now = decodeEntry(this.kernel.machine.readPhysical(entry.physical, ENTRY_BYTES));
      if (entry.level > 1) this.relink(entry.mm as Mm, entry.level, entry.old, now, entry.virtual);
      const after = new Map<number, EffectiveLeaf>();
      this.report.entryLeaves(entry.mm.space, now, entry.level, entry.virtual, after);
      for (const change of leafChanges(entry.leaves, after)) out.push({ mm: entry.mm, change });
    }
    return out;
  }

  /** Physical addresses of every table page of `mm`, PGD first, in the order they were linked. */
  tablePages(mm: GuardedMm): number[] {
    return [...mm.tables];
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
    const thread = this.openWindow(cpu);
    try {
      this.write(cpu, this.kernel.page_address(page), ZERO_PAGE);
    } finally {
      this.closeWindow(cpu, thread);
    }
    return page;
  }

  private store(cpu: number, at: number, entries: readonly EntryValue[]): void {
    this.checkEntryPointer(at, 'set_entry', entries.length);
    const bytes = new Uint8Array(entries.length * ENTRY_BYTES);
    entries.forEach((e, i) => bytes.set(entryBytes(e), i * ENTRY_BYTES));
    this.storeBytes(cpu, at, bytes);
  }

  /** One entry's store (set_pte and friends): {@link store} without the array, through one reused buffer (the store copies it). */
  private storeEntry(cpu: number, at: number, entry: EntryValue): void {
    this.checkEntryPointer(at, 'set_entry', 1);
    this.storeBytes(cpu, at, putEntry(this.entryScratch, entry));
  }

  private storeBytes(cpu: number, at: number, bytes: Uint8Array): void {
    const before = this.kernel.machine.readPhysical(this.physicalOf(at), bytes.length);
    const thread = this.openWindow(cpu);
    try {
      this.write(cpu, at, bytes);
    } finally {
      this.closeWindow(cpu, thread);
    }
    this.written(cpu, this.physicalOf(at), before, bytes);
  }

  /** Read-modify-write of one entry inside one window (a checked read, then a checked store). */
  private update(cpu: number, ptep: number, change: (old: EntryValue) => EntryValue): EntryValue {
    this.checkEntryPointer(ptep, 'pte update');
    const thread = this.openWindow(cpu);
    try {
      const read = this.kernel.cpu(cpu).read(ptep, ENTRY_BYTES);
      if (!read.ok)
        throw new KernelError('EFAULT', `pgtable-guard: reading ${formatAddress(ptep)} oopsed: ${read.oops.reason}`);
      const value = decodeEntry(read.data);
      const bytes = putEntry(this.entryScratch, change(value));
      this.write(cpu, ptep, bytes);
      this.written(cpu, this.physicalOf(ptep), read.data, bytes);
      return value;
    } finally {
      this.closeWindow(cpu, thread);
    }
  }

  /**
   * After a setter's store (it is already what the MMU walks): each changed entry is one PTE write;
   * a changed link moves tables in or out of the space; what a present entry mapped is flushed from
   * every CPU's TLB, as Linux flushes after changing a present entry (flush_tlb_kernel_range, INVLPG).
   */
  private written(cpu: number, physical: number, before: Uint8Array, after: Uint8Array): void {
    const page = physical - (physical % PAGE_SIZE);
    const slot = this.index.slotOf(page);
    for (let offset = 0; offset < after.length; offset += ENTRY_BYTES) {
      // Compared as words; entry objects only where a link changes (level > 1).
      const oldLo = wordAt(before, offset);
      const oldHi = wordAt(before, offset + 4);
      if (oldLo === wordAt(after, offset) && oldHi === wordAt(after, offset + 4)) continue;
      this.kernel.machine.events.count(cpu, MachineEvent.PteWrite);
      if (slot < 0) continue; // a table no space links: nothing translates through it
      const mm = this.index.ownerOf(slot);
      const level = this.index.levelOf(slot);
      const i = (physical - page + offset) / ENTRY_BYTES;
      if (!mm.tables.has(page) || (level === LEVELS && i >= USER_PGD_ENTRIES)) continue;
      const virtual = this.index.baseOf(slot) + i * levelSpan(level);
      if (level > 1) this.relink(mm, level, decodeEntry(before, offset), decodeEntry(after, offset), virtual);
      if (this.format.isPresentWords(oldLo, oldHi, level)) this.flush(cpu, virtual, levelSpan(level));
    }
  }

  /** Invalidate [virtual, virtual + length) on every CPU: the local flush plus a shootdown per other CPU. */
  private flush(cpu: number, virtual: number, length: number): void {
    const machine = this.kernel.machine;
    const pages = length / PAGE_SIZE;
    for (let c = 0; c < machine.cpuCount; c++) {
      if (c !== cpu) machine.events.count(cpu, MachineEvent.Shootdown);
      if (pages > FLUSH_CEILING) this.inPlace.flushTlb(c);
      else for (let p = 0; p < pages; p++) this.inPlace.invalidatePage(c, virtual + p * PAGE_SIZE);
    }
  }

  /** An entry at `level` of `mm` went from `old` to `now`: unlink the tables below the old, link those below the new. */
  private relink(mm: Mm, level: number, old: EntryValue, now: EntryValue, virtual: number): void {
    const format = this.format;
    if (format.isTable(old, level)) {
      const table = format.address(old, level);
      if (mm.tables.has(table)) this.unlink(mm, table, level - 1);
    }
    if (format.isTable(now, level)) {
      const table = format.address(now, level);
      if (this.cache.contains(table)) this.link(mm, table, level - 1, virtual);
    }
  }

  /** `table` (at `level`, mapping from `base`) and the tables below it join `mm`'s tree, in walk order. */
  private link(mm: Mm, table: number, level: number, base: number): void {
    if (mm.tables.has(table)) return;
    mm.tables.add(table);
    if (this.index.slotOf(table) < 0) this.index.record(table, mm, level, base);
    if (level === 1) return;
    this.forEachTableEntry(table, level, (next, i) => this.link(mm, next, level - 1, base + i * levelSpan(level)));
  }

  /** `table` and the tables below it leave `mm`'s tree. */
  private unlink(mm: Mm, table: number, level: number): void {
    mm.tables.delete(table);
    if (level === 1) return;
    this.forEachTableEntry(table, level, (next) => {
      if (mm.tables.has(next)) this.unlink(mm, next, level - 1);
    });
  }

  /** Each entry of a table that points to a page-table-cache page: (that page, entry index). */
  private forEachTableEntry(table: number, level: number, visit: (next: number, index: number) => void): void {
    const words = entryWords(this.kernel.machine.readPhysical(table, PAGE_SIZE));
    for (let i = 0; i < PAGE_SIZE / ENTRY_BYTES; i++) {
      if ((words[2 * i] | words[2 * i + 1]) === 0) continue; // empty: nothing decoded
      const entry = { lo: words[2 * i], hi: words[2 * i + 1] };
      if (!this.format.isTable(entry, level)) continue;
      const next = this.format.address(entry, level);
      if (this.cache.contains(next)) visit(next, i);
    }
  }

  /**
   * Linux pgd_ctor: where every root carries the kernel half (x86 'shared-upper': one CR3 for both
   * halves), copy the init space's present kernel-half top-level entries into a new PGD. The machine
   * keeps them in step afterwards (sync_global_pgds). Nothing to do where the upper half has its own root.
   */
  private copyKernelHalf(cpu: number, pgd: number): void {
    const { lower, upper } = this.inPlace.rootsOf(0);
    if (lower !== upper) return;
    const half = USER_PGD_ENTRIES * ENTRY_BYTES;
    const bytes = this.kernel.machine.readPhysical(lower + half, half);
    // Read as words (a view of the copy): no entry object per PGD entry.
    const words = entryWords(bytes);
    for (let i = 0; i < USER_PGD_ENTRIES; i++)
      if (this.format.isPresentWords(words[2 * i] >>> 0, words[2 * i + 1] >>> 0, LEVELS))
        this.kernel.machine.events.count(cpu, MachineEvent.PteWrite);
    this.kernel.machine.writePhysical(pgd + half, bytes);
  }

  private write(cpu: number, at: number, bytes: Uint8Array): void {
    const result = this.kernel.cpu(cpu).write(at, bytes);
    if (!result.ok)
      throw new KernelError(
        'EFAULT',
        `pgtable-guard: setter store to ${formatAddress(at)} oopsed: ${result.oops.reason}`,
      );
  }

  /**
   * A setter's window: enable_pgtable_write; returns the thread that opened it, for
   * {@link closeWindow} in a `finally` (no closure per store).
   */
  private openWindow(cpu: number): Thread {
    const thread = this.kernel.cpu(cpu).current;
    this.enable_pgtable_write(cpu);
    return thread;
  }

  /** disable_pgtable_write, only by the thread that opened the window (and not after a panic). */
  private closeWindow(cpu: number, thread: Thread): void {
    if (this.kernel.cpu(cpu).current === thread && !this.kernel.panic) this.disable_pgtable_write(cpu);
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
}
