import {
  type Cpu,
  type GrantedRights,
  type Kernel,
  PAGE_SIZE,
  type Prng,
  type StrayCampaign,
  type StrayKind,
  type ThreadContext,
} from '@pkeysim/kernel';
import { indexAt, levelSpan } from './entry-format';
import type { GuardedMm, PgtableGuard } from './guard';
import { grantedBy } from './leaf-report';
import { ENTRY_BYTES, type EntryValue, entryBytes, type PageProt } from './pte';

/** How long a stray waits for a setter's open window before it falls back. */
const MAX_WAIT = 30;
/** Bytes one PTE table maps (2 MiB). */
const PMD_SPAN = levelSpan(2);
/** Where the workload maps: 0x400000 upwards, across a PMD boundary at 0x600000. */
const USER_BASE = 0x500000;

/**
 * The protections the workload maps with, one shared frozen object per combination of rights
 * (index user*4 + writable*2 + executable): a page's intent allocates no protection object.
 */
const PROTS: readonly PageProt[] = Array.from({ length: 8 }, (_, i) =>
  Object.freeze({ user: (i & 4) !== 0, writable: (i & 2) !== 0, executable: (i & 1) !== 0 }),
);
const protOf = (user: boolean, writable: boolean, executable: boolean): PageProt =>
  PROTS[(user ? 4 : 0) + (writable ? 2 : 0) + (executable ? 1 : 0)];
/** A workload protection without write permission (what ptep_set_wrprotect leaves). */
const readOnly = (prot: PageProt): PageProt => protOf(prot.user, false, prot.executable);
/** The address of a workload page slot: spread over two PMDs. */
const vaOf = (slot: number) => USER_BASE + slot * PAGE_SIZE * 11;

/** A page-table window a worker holds across a preemption point. */
interface HeldWindow {
  readonly tid: number;
  readonly ptep: number;
}

/** One page a legitimate setter meant to map. */
export interface Intended {
  readonly physical: number;
  readonly prot: PageProt;
}

/** A kept page-table pointer and what its entry held before a setter changed it. */
interface StaleEntry {
  readonly ptep: number;
  readonly before: EntryValue;
}

/**
 * One page-table campaign run's workload state and operations. The threads' generators (below)
 * only yield and call these methods: code on a class and module-level generators lives as long as
 * the process, so V8 keeps what it compiled for them across runs (closures made per run are
 * recompiled after a collection frees the previous run's), and each generator compiles small.
 */
export class PgtableWorkload {
  /** Each space's pages as the legitimate setters meant them, by virtual address. */
  readonly intended: Map<number, Intended>[];
  /** The rights landed stray stores granted. */
  readonly granted: GrantedRights[] = [];
  /** Worker operations skipped because a corrupted upper-level entry hid their page's PTE. */
  unreachable = 0;
  private readonly openWindows: HeldWindow[] = [];
  // The bits that grant U/S and R/W in the machine's format (x86 U/S and R/W, arm64 AP[1] and AP[2], ...).
  private readonly userFlip: number;
  private readonly writeFlip: number;
  // flipTarget's candidates, in parallel arrays refilled by each call (no object per candidate).
  private readonly candidateSpace: number[] = [];
  private readonly candidateVa: number[] = [];
  private readonly candidatePtep: number[] = [];
  private readonly candidateBit: number[] = [];
  // The PTE table of each 2 MiB region one space's pass has found (NaN: none; kernel addresses are negative), reset per space.
  private readonly regionKeys: number[] = [];
  private readonly regionTables: number[] = [];

  constructor(
    private readonly kernel: Kernel,
    private readonly guard: PgtableGuard,
    private readonly prng: Prng,
    private readonly campaign: StrayCampaign,
    private readonly mms: readonly GuardedMm[],
    /** The first of the frames the workload's pages map (one per page slot). */
    private readonly frames: number,
    private readonly pagesPerSpace: number,
  ) {
    this.intended = mms.map(() => new Map<number, Intended>());
    this.userFlip = guard.format.user.flip.lo;
    this.writeFlip = guard.format.write.flip.lo;
  }

  get hasOpenWindow(): boolean {
    return this.openWindows.length > 0;
  }

  /** One worker operation; the page-table window it left open across a preemption point, if any. */
  workerOp(cpu: number, tid: number): HeldWindow | undefined {
    const { guard, prng, mms, intended } = this;
    const m = prng.below(mms.length);
    const mm = mms[m];
    const slot = prng.below(this.pagesPerSpace);
    const va = vaOf(slot);
    const mapped = intended[m].get(va);
    switch (mapped ? prng.below(4) : 0) {
      case 0: {
        const page = { physical: this.frames + slot * PAGE_SIZE, prot: this.randomProt() };
        if (mapped) guard.unmap_page(cpu, mm, va);
        guard.map_page(cpu, mm, va, page.physical, page.prot);
        intended[m].set(va, page);
        return undefined;
      }
      case 1:
        guard.unmap_page(cpu, mm, va);
        intended[m].delete(va);
        return undefined;
      case 2: {
        const ptep = this.reachablePte(mm, va);
        if (ptep === undefined) return undefined;
        guard.ptep_set_wrprotect(cpu, ptep);
        intended[m].set(va, { physical: mapped!.physical, prot: readOnly(mapped!.prot) });
        return undefined;
      }
      default: {
        const ptep = this.reachablePte(mm, va);
        if (ptep === undefined) return undefined;
        // A window held across a preemption point (other threads run while it is open), then the setter.
        const window: HeldWindow = { tid, ptep };
        guard.enable_pgtable_write(cpu);
        this.openWindows.push(window);
        return window;
      }
    }
  }

  /**
   * The PTE of a page the setters mapped, or undefined when the walk no longer reaches it: a landed
   * stray corrupted an upper-level entry. Linux's page walkers skip such a bad entry (mm/pgtable-
   * generic.c, pmd_clear_bad) rather than follow it, and so does the workload; the page keeps its
   * intended value, so the end-of-run comparison counts it as corrupted.
   */
  private reachablePte(mm: GuardedMm, va: number): number | undefined {
    const ptep = this.guard.pte_offset(mm, va);
    if (ptep === undefined) this.unreachable++;
    return ptep;
  }

  closeWindow(cpu: number, window: HeldWindow): void {
    this.guard.ptep_test_and_clear_young(cpu, window.ptep);
    this.openWindows.splice(this.openWindows.indexOf(window), 1);
    this.guard.disable_pgtable_write(cpu);
  }

  /** A store of random bytes at a random entry of a random table. */
  randomStray(cpu: Cpu, kind: StrayKind): void {
    this.strayStore(cpu, kind, this.randomTableEntry(), this.randomBytes(ENTRY_BYTES));
  }

  /** A store granting rights to the entry another thread's open window is about to change. */
  windowStray(cpu: Cpu, kind: StrayKind): void {
    const ptep = this.openWindows.length > 0 ? this.prng.pick(this.openWindows).ptep : this.randomTableEntry();
    this.strayStore(cpu, kind, ptep, this.granting(this.guard.readEntry(ptep)));
  }

  /**
   * A legitimate setter (write-protect a page) whose pointer is kept: the entry and what it held
   * before, for the store through the stale pointer that undoes it.
   */
  writeProtectTarget(cpu: number): StaleEntry {
    const target = this.flipTarget();
    const ptep = target >= 0 ? this.candidatePtep[target] : this.randomTableEntry();
    const before = this.guard.readEntry(ptep);
    if (target >= 0) {
      const m = this.candidateSpace[target];
      const va = this.candidateVa[target];
      this.guard.ptep_set_wrprotect(cpu, ptep);
      const page = this.intended[m].get(va)!;
      this.intended[m].set(va, { physical: page.physical, prot: readOnly(page.prot) });
    }
    return { ptep, before };
  }

  /** The store through the stale pointer: the entry as it was, with write permission. */
  staleStray(cpu: Cpu, kind: StrayKind, stale: StaleEntry): void {
    this.strayStore(cpu, kind, stale.ptep, entryBytes(this.guard.format.withWrite(stale.before)));
  }

  /**
   * The entry's low byte (low word when the bits lie higher) flipped: U/S on a kernel-only page,
   * R/W on a read-only one.
   */
  flipStray(cpu: Cpu, kind: StrayKind): void {
    const target = this.flipTarget();
    const ptep = target >= 0 ? this.candidatePtep[target] : this.randomTableEntry();
    const bit = target >= 0 ? this.candidateBit[target] : this.userFlip;
    const low = this.guard.readEntry(ptep).lo;
    this.strayStore(
      cpu,
      kind,
      ptep,
      bit <= 0xff ? new Uint8Array([(low & 0xff) ^ bit]) : entryBytes({ lo: (low ^ bit) >>> 0, hi: 0 }).subarray(0, 4),
    );
  }

  private randomProt(): PageProt {
    switch (this.prng.below(3)) {
      case 0:
        return protOf(true, true, false);
      case 1:
        return protOf(true, false, true); // text
      default:
        return protOf(false, true, false); // kernel-only (e.g. an LDT page)
    }
  }

  /**
   * A store by unrelated code. A landed one takes effect by itself (the MMU walks the tables it
   * wrote); what it did to the entries it hit is read before and after, to report the rights it granted.
   */
  private strayStore(cpu: Cpu, kind: StrayKind, address: number, bytes: Uint8Array): void {
    const watch = this.guard.watchStore(address, bytes.length);
    if (!this.campaign.strayStore(cpu, kind, address, bytes)) return;
    for (const { change } of this.guard.storeLanded(watch)) {
      const rights = grantedBy(change);
      if (rights) this.granted.push({ address: change.virtual, granted: `${rights} (${kind})` });
    }
  }

  /**
   * A present leaf PTE lacking U/S or R/W, and the bits whose flip would grant it: the index of the
   * picked candidate in the candidate arrays, or -1 when there is none.
   */
  private flipTarget(): number {
    const { intended, regionKeys, regionTables } = this;
    let count = 0;
    for (let m = 0; m < intended.length; m++) {
      // Nothing is stored while candidates are gathered: one walk per PTE table (2 MiB region), not per page.
      let regions = 0; // the arrays' first `regions` slots are this space's (no length reset: a slow call)
      for (const [va, page] of intended[m]) {
        // The rights first: only a page lacking one needs its PTE found (the walk is the costly part).
        if (page.prot.user && page.prot.writable) continue;
        const region = Math.floor(va / PMD_SPAN);
        const index = indexAt(va, 1) * ENTRY_BYTES;
        let r = 0;
        while (r < regions && regionKeys[r] !== region) r++;
        if (r === regions) {
          const found = this.guard.pte_offset(this.mms[m], va);
          regionKeys[r] = region;
          regionTables[r] = found === undefined ? Number.NaN : found - index;
          regions++;
        }
        const table = regionTables[r];
        if (Number.isNaN(table)) continue;
        this.candidateSpace[count] = m;
        this.candidateVa[count] = va;
        this.candidatePtep[count] = table + index;
        this.candidateBit[count] = page.prot.user ? this.writeFlip : this.userFlip;
        count++;
      }
    }
    // prng.pick over the candidates: the same draw.
    return count > 0 ? this.prng.below(count) : -1;
  }

  private randomTableEntry(): number {
    // The tables each space links now (recorded as setters link them): no walk per stray. One draw
    // over all spaces' tables in order (what prng.pick of their concatenation draws), no array made.
    const mms = this.mms;
    let total = 0;
    for (const mm of mms) total += mm.tables.size;
    let n = this.prng.below(total);
    let table = -1;
    for (const mm of mms) {
      if (n >= mm.tables.size) {
        n -= mm.tables.size;
        continue;
      }
      for (const t of mm.tables) if (n-- === 0) table = t;
      break;
    }
    return this.kernel.page_address(table) + this.prng.below(512) * ENTRY_BYTES;
  }

  private randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.prng.below(256);
    return out;
  }

  private granting(entry: EntryValue): Uint8Array {
    const format = this.guard.format;
    return entryBytes(format.isPresent(entry, 1) ? format.granting(entry) : format.madePresent(entry));
  }
}

export function* pgtableWorker(w: PgtableWorkload, self: ThreadContext, ops: number) {
  for (let op = 0; op < ops; op++) {
    const window = w.workerOp(self.cpu.id, self.thread.tid);
    if (window !== undefined) {
      yield;
      w.closeWindow(self.cpu.id, window);
    }
    yield;
  }
}

export function* pgtableStray(w: PgtableWorkload, self: ThreadContext, kind: StrayKind, delay: number) {
  for (let i = 0; i < delay; i++) yield;
  switch (kind) {
    case 'random-address':
      w.randomStray(self.cpu, kind);
      return;
    case 'wrong-thread':
      // Aim at the entry another thread's open window is about to change: its rights are not ours.
      for (let i = 0; i < MAX_WAIT && !w.hasOpenWindow; i++) yield;
      w.windowStray(self.cpu, kind);
      return;
    case 'write-after-kunmap': {
      const stale = w.writeProtectTarget(self.cpu.id);
      yield;
      w.staleStray(self.cpu, kind, stale);
      return;
    }
    default:
      w.flipStray(self.cpu, kind);
  }
}
