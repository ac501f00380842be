import { type Machine, type AddressSpaceId, PageSize } from '@pkeysim/core';
import { formatAddress } from '@pkeysim/kernel';
import {
  ENTRIES_PER_TABLE,
  ENTRY_BYTES,
  entryAddress,
  entryKey,
  type EntryValue,
  PAGE_NX_HI,
  PAGE_PRESENT,
  PAGE_PSE,
  PAGE_RW,
  PAGE_USER,
} from './pte';

/** What a walk of the guarded tables finds for one leaf: the effective rights over every level. */
export interface EffectiveLeaf {
  readonly virtual: number;
  readonly physical: number;
  readonly size: number;
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly key: number;
}

/** A leaf whose effective rights changed at a sync. */
export interface LeafChange {
  readonly virtual: number;
  readonly before: EffectiveLeaf | undefined;
  readonly after: EffectiveLeaf | undefined;
}

/** 4-level paging: PGD (level 4) -> PUD -> PMD -> PTE (level 1); P4D is folded into the PGD. */
export const LEVELS = 4;
const LEVEL_SHIFT = [0, 12, 21, 30, 39];
/** Guarded address spaces hold user (lower-half) mappings only: PGD entries 0..255. */
export const USER_PGD_ENTRIES = 256;

/** The table index of `virtual` at `level` (1 = PTE .. 4 = PGD). */
export function indexAt(virtual: number, level: number): number {
  return Math.floor(virtual / 2 ** LEVEL_SHIFT[level]) % ENTRIES_PER_TABLE;
}

export function levelSpan(level: number): number {
  return 2 ** LEVEL_SHIFT[level];
}

/** Where a table page sits in a space's tree: its level, the first address it maps, and the rights above it. */
interface TableLink {
  readonly level: number;
  readonly base: number;
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
}

/**
 * Keeps the machine's page tables for a guarded address space equal to what the guarded tables
 * say. core's Machine builds its own paging structures and offers no way to point its walker at
 * tables the kernel placed in chosen pages, so the guarded tables (in the grouped cache, written by
 * checked supervisor stores) are the kernel's truth and the machine's are derived from them here,
 * the way the MMU derives a translation from memory: the walk reads the tables by PHYSICAL address
 * (a paging-structure access has no linear address, so no key applies), ANDs U/S and R/W over every
 * level and ORs XD (Intel SDM vol. 3, 4.6.1), and the difference is applied with map/unmap.
 *
 * A store is written through entry by entry ({@link syncEntries}): the mirror knows where each table
 * page sits in the tree, so it re-reads only the stored entries and the subtrees they point to, and
 * maps or unmaps only the leaves under them. {@link sync} walks the whole space (for a store it was
 * not told about).
 *
 * The walk follows table pointers only into pages of the page-table cache (`isTablePage`); an entry
 * pointing elsewhere, or a large leaf with an unaligned frame (reserved bits, SDM 4.5.4), is counted
 * as corrupt and mirrored as not present (the hardware would walk garbage or raise a RSVD fault).
 */
export class TableMirror {
  private mirrored = new Map<number, EffectiveLeaf>();
  /** Entries found corrupt by the last walk. */
  corrupt = 0;
  /** Each table page of the tree (physical address) and where it sits; the root first. */
  private links = new Map<number, TableLink[]>();
  /** Where walkTable records the tables it descends into. */
  private linking = new Map<number, TableLink[]>();
  /** Bumped whenever the set of table pages may have changed (a full sync, a store above the PTE level). */
  treeVersion = 0;

  constructor(
    private readonly machine: Machine,
    readonly space: AddressSpaceId,
    private readonly root: number,
    private readonly isTablePage: (physical: number) => boolean,
  ) {
    this.links.set(root, [ROOT_LINK]);
  }

  /** The table pages of the tree as last synced, root first: a store to any other page cannot change this space. */
  get tables(): IterableIterator<number> {
    return this.links.keys();
  }

  /** Whether `table` (physical) is part of the tree as last synced. */
  walks(table: number): boolean {
    return this.links.has(table);
  }

  /** The leaves the guarded tables define now (a full walk; nothing is changed). */
  walk(): Map<number, EffectiveLeaf> {
    const leaves = new Map<number, EffectiveLeaf>();
    this.corrupt = 0;
    const links = this.linking;
    this.linking = new Map([[this.root, [ROOT_LINK]]]);
    this.walkTable(this.root, LEVELS, 0, true, true, true, leaves);
    this.linking = links;
    return leaves;
  }

  /** The leaf currently mirrored for the page holding `virtual`. */
  leafAt(virtual: number): EffectiveLeaf | undefined {
    for (const size of [PageSize.Size4K, PageSize.Size2M, PageSize.Size1G]) {
      const leaf = this.mirrored.get(Math.floor(virtual / size) * size);
      if (leaf && leaf.size === size) return leaf;
    }
    return undefined;
  }

  /** Bring the machine's tables in line with the guarded tables by a full walk; returns what changed. */
  sync(): LeafChange[] {
    const next = new Map<number, EffectiveLeaf>();
    this.corrupt = 0;
    this.linking = new Map([[this.root, [ROOT_LINK]]]);
    this.walkTable(this.root, LEVELS, 0, true, true, true, next);
    this.links = this.linking;
    this.treeVersion++;
    const changes = this.apply(this.mirrored, next);
    this.mirrored = next;
    return changes;
  }

  /**
   * Write through a store of entries `first .. first + count - 1` of the table page `table`: only
   * those entries, and the subtrees they point to, are read again. Returns what changed.
   */
  syncEntries(table: number, first: number, count: number): LeafChange[] {
    const changes: LeafChange[] = [];
    for (let index = first; index < first + count; index++) {
      const links = this.links.get(table);
      if (!links) break;
      // A PTE page's links cannot change under a store to it (no table hangs below a PTE): no copy.
      const visit = links.length === 1 && links[0].level === 1 ? links : [...links];
      for (const link of visit) this.syncEntry(table, index, link, changes);
    }
    return changes;
  }

  /** Remove every mirrored leaf (the address space is being torn down). */
  clear(): void {
    for (const [virtual, leaf] of this.mirrored) this.machine.unmap(this.space, virtual, leaf.size);
    this.mirrored = new Map();
    this.links = new Map();
    this.treeVersion++;
  }

  private syncEntry(table: number, index: number, link: TableLink, changes: LeafChange[]): void {
    if (link.level === LEVELS && index >= USER_PGD_ENTRIES) return;
    const span = levelSpan(link.level);
    const low = link.base + index * span;
    const high = low + span;
    // What the entry mapped before: its leaves, and the tables below it (they leave the tree with it).
    const before = new Map<number, EffectiveLeaf>();
    if (link.level === 1) {
      // A PTE maps one 4 KiB page and has no tables below it: no scan of the space.
      const leaf = this.mirrored.get(low);
      if (leaf !== undefined) before.set(low, leaf);
    } else {
      for (const [virtual, leaf] of this.mirrored) if (virtual >= low && virtual < high) before.set(virtual, leaf);
      for (const [page, links] of this.links) {
        const kept = links.filter((l) => !(l.level < link.level && l.base >= low && l.base < high));
        if (kept.length === links.length) continue;
        if (kept.length === 0) this.links.delete(page);
        else this.links.set(page, kept);
      }
      this.treeVersion++;
    }
    // What it maps now.
    const after = new Map<number, EffectiveLeaf>();
    const bytes = this.machine.readPhysical(table + index * ENTRY_BYTES, ENTRY_BYTES);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.linking = this.links;
    this.visitEntry(view.getUint32(0, true), view.getUint32(4, true), link, low, after);
    for (const virtual of before.keys()) this.mirrored.delete(virtual);
    for (const [virtual, leaf] of after) this.mirrored.set(virtual, leaf);
    this.apply(before, after, changes);
  }

  /** Unmap what changed or went, map what changed or came; the changes (removals first) go to `changes`. */
  private apply(
    before: Map<number, EffectiveLeaf>,
    next: Map<number, EffectiveLeaf>,
    changes: LeafChange[] = [],
  ): LeafChange[] {
    for (const [virtual, old] of before) {
      const after = next.get(virtual);
      if (!after || !sameLeaf(old, after)) {
        this.machine.unmap(this.space, virtual, old.size);
        changes.push({ virtual, before: old, after });
      }
    }
    for (const [virtual, after] of next) {
      const old = before.get(virtual);
      if (old && sameLeaf(old, after)) continue;
      if (!old) changes.push({ virtual, before: old, after });
      this.machine.map(this.space, virtual, after.physical, after.size, {
        user: after.user,
        writable: after.writable,
        executable: after.executable,
        domain: after.key,
        pageSize: after.size as PageSize,
      });
    }
    return changes;
  }

  private walkTable(
    table: number,
    level: number,
    base: number,
    user: boolean,
    writable: boolean,
    executable: boolean,
    out: Map<number, EffectiveLeaf>,
  ): void {
    const bytes = this.machine.readPhysical(table, ENTRIES_PER_TABLE * ENTRY_BYTES);
    // One view per table; nothing is allocated for an empty entry (most of a table is empty).
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = level === LEVELS ? USER_PGD_ENTRIES : ENTRIES_PER_TABLE;
    const link: TableLink = { level, base, user, writable, executable };
    const span = levelSpan(level);
    for (let i = 0; i < count; i++) {
      const lo = view.getUint32(i * ENTRY_BYTES, true);
      if ((lo & PAGE_PRESENT) === 0) continue;
      this.visitEntry(lo, view.getUint32(i * ENTRY_BYTES + 4, true), link, base + i * span, out);
    }
  }

  /** One present-or-not entry of a table at `link`, mapping from `virtual`: its leaf, or its subtree. */
  private visitEntry(lo: number, hi: number, link: TableLink, virtual: number, out: Map<number, EffectiveLeaf>): void {
    if ((lo & PAGE_PRESENT) === 0) return;
    const entry: EntryValue = { lo, hi };
    const level = link.level;
    const u = link.user && (lo & PAGE_USER) !== 0;
    const w = link.writable && (lo & PAGE_RW) !== 0;
    const x = link.executable && (hi & PAGE_NX_HI) === 0;
    const leaf = level === 1 || ((level === 2 || level === 3) && (lo & PAGE_PSE) !== 0);
    if (leaf) {
      this.addLeaf(entry, level, virtual, u, w, x, out);
      return;
    }
    const next = entryAddress(entry);
    if (level > 3 && (lo & PAGE_PSE) !== 0)
      this.corrupt++; // PS is reserved in a PML4E (SDM 4.5.4)
    else if (!this.isTablePage(next)) this.corrupt++;
    else {
      const child: TableLink = { level: level - 1, base: virtual, user: u, writable: w, executable: x };
      const links = this.linking.get(next);
      if (links) links.push(child);
      else this.linking.set(next, [child]);
      this.walkTable(next, level - 1, virtual, u, w, x, out);
    }
  }

  private addLeaf(
    entry: EntryValue,
    level: number,
    virtual: number,
    user: boolean,
    writable: boolean,
    executable: boolean,
    out: Map<number, EffectiveLeaf>,
  ): void {
    const size = levelSpan(level);
    const physical = entryAddress(entry);
    if (physical % size !== 0 || !this.frameExists(physical, size)) {
      this.corrupt++;
      return;
    }
    out.set(virtual, { virtual, physical, size, user, writable, executable, key: entryKey(entry) });
  }

  /** A frame the machine can map (inside RAM or PMEM); a garbage frame is mirrored as not present. */
  private frameExists(physical: number, size: number): boolean {
    try {
      this.machine.readPhysical(physical + size - 1, 1);
      return true;
    } catch {
      return false;
    }
  }
}

const ROOT_LINK: TableLink = Object.freeze({ level: LEVELS, base: 0, user: true, writable: true, executable: true });

function sameLeaf(a: EffectiveLeaf, b: EffectiveLeaf): boolean {
  return (
    a.physical === b.physical &&
    a.size === b.size &&
    a.user === b.user &&
    a.writable === b.writable &&
    a.executable === b.executable &&
    a.key === b.key
  );
}

/** What a change granted that the page did not have: "P" (a new mapping), "U/S", "R/W", "X". */
export function grantedBy(change: LeafChange): string | undefined {
  const { before, after } = change;
  if (!after) return undefined;
  if (!before) return `P${after.user ? '+U/S' : ''}${after.writable ? '+R/W' : ''}`;
  const granted: string[] = [];
  if (after.user && !before.user) granted.push('U/S');
  if (after.writable && !before.writable) granted.push('R/W');
  if (after.executable && !before.executable) granted.push('X');
  if (after.physical !== before.physical) granted.push('frame');
  return granted.length > 0 ? granted.join('+') : undefined;
}

/** A leaf as one line for reports: virtual -> physical, then U/S, W/R and X/- flags. */
export function describeLeaf(leaf: EffectiveLeaf): string {
  return `${formatAddress(leaf.virtual)} -> 0x${leaf.physical.toString(16)} ${leaf.user ? 'U' : 'S'}${leaf.writable ? 'W' : 'R'}${leaf.executable ? 'X' : '-'}`;
}
