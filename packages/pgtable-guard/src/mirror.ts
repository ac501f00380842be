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

/**
 * Keeps the machine's page tables for a guarded address space equal to what the guarded tables
 * say. core's Machine builds its own paging structures and offers no way to point its walker at
 * tables the kernel placed in chosen pages, so the guarded tables (in the grouped cache, written by
 * checked supervisor stores) are the kernel's truth and the machine's are derived from them here,
 * the way the MMU derives a translation from memory: the walk reads the tables by PHYSICAL address
 * (a paging-structure access has no linear address, so no key applies), ANDs U/S and R/W over every
 * level and ORs XD (Intel SDM vol. 3, 4.6.1), and `sync` applies the difference with map/unmap.
 *
 * The walk follows table pointers only into pages of the page-table cache (`isTablePage`); an entry
 * pointing elsewhere, or a large leaf with an unaligned frame (reserved bits, SDM 4.5.4), is counted
 * as corrupt and mirrored as not present (the hardware would walk garbage or raise a RSVD fault).
 */
export class TableMirror {
  private mirrored = new Map<number, EffectiveLeaf>();
  /** Entries found corrupt by the last walk. */
  corrupt = 0;

  constructor(
    private readonly machine: Machine,
    readonly space: AddressSpaceId,
    private readonly root: number,
    private readonly isTablePage: (physical: number) => boolean,
  ) {}

  /** The table pages the last sync walked (the root included): a store to any other page cannot change this space. */
  tables = new Set<number>();
  private visiting = new Set<number>();

  /** The leaves the guarded tables define now. */
  walk(): Map<number, EffectiveLeaf> {
    const leaves = new Map<number, EffectiveLeaf>();
    this.corrupt = 0;
    this.visiting = new Set([this.root]);
    this.walkTable(this.root, LEVELS, 0, true, true, true, leaves);
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

  /** Bring the machine's tables in line with the guarded tables; returns what changed. */
  sync(): LeafChange[] {
    const next = this.walk();
    const changes: LeafChange[] = [];
    for (const [virtual, before] of this.mirrored) {
      const after = next.get(virtual);
      if (!after || !sameLeaf(before, after)) {
        this.machine.unmap(this.space, virtual, before.size);
        changes.push({ virtual, before, after });
      }
    }
    for (const [virtual, after] of next) {
      const before = this.mirrored.get(virtual);
      if (before && sameLeaf(before, after)) continue;
      if (!before) changes.push({ virtual, before, after });
      this.machine.map(this.space, virtual, after.physical, after.size, {
        user: after.user,
        writable: after.writable,
        executable: after.executable,
        domain: after.key,
        pageSize: after.size as PageSize,
      });
    }
    this.mirrored = next;
    this.tables = this.visiting;
    return changes;
  }

  /** Remove every mirrored leaf (the address space is being torn down). */
  clear(): void {
    for (const [virtual, leaf] of this.mirrored) this.machine.unmap(this.space, virtual, leaf.size);
    this.mirrored = new Map();
    this.tables = new Set();
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
    // One view per table; an entry object only for present entries (most of a table is empty).
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = level === LEVELS ? USER_PGD_ENTRIES : ENTRIES_PER_TABLE;
    for (let i = 0; i < count; i++) {
      const lo = view.getUint32(i * ENTRY_BYTES, true);
      if ((lo & PAGE_PRESENT) === 0) continue;
      const entry: EntryValue = { lo, hi: view.getUint32(i * ENTRY_BYTES + 4, true) };
      const virtual = base + i * levelSpan(level);
      const u = user && (entry.lo & PAGE_USER) !== 0;
      const w = writable && (entry.lo & PAGE_RW) !== 0;
      const x = executable && (entry.hi & PAGE_NX_HI) === 0;
      const leaf = level === 1 || ((level === 2 || level === 3) && (entry.lo & PAGE_PSE) !== 0);
      if (leaf) this.addLeaf(entry, level, virtual, u, w, x, out);
      else {
        const next = entryAddress(entry);
        if (level > 3 && (entry.lo & PAGE_PSE) !== 0)
          this.corrupt++; // PS is reserved in a PML4E (SDM 4.5.4)
        else if (!this.isTablePage(next)) this.corrupt++;
        else {
          this.visiting.add(next);
          this.walkTable(next, level - 1, virtual, u, w, x, out);
        }
      }
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

export function describeLeaf(leaf: EffectiveLeaf): string {
  return `${formatAddress(leaf.virtual)} -> 0x${leaf.physical.toString(16)} ${leaf.user ? 'U' : 'S'}${leaf.writable ? 'W' : 'R'}${leaf.executable ? 'X' : '-'}`;
}
