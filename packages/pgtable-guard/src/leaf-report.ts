import type { AddressSpaceId, Machine } from '@pkeysim/core';
import { formatAddress } from '@pkeysim/kernel';
import { type EntryFormat, levelSpan, USER_PGD_ENTRIES } from './entry-format';
import { ENTRIES_PER_TABLE, ENTRY_BYTES, type EntryValue } from './pte';

/** A leaf of a guarded address space as the MMU translates it: the effective rights over every level. */
export interface EffectiveLeaf {
  readonly virtual: number;
  readonly physical: number;
  readonly size: number;
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly key: number;
}

/** A leaf whose translation a store changed. */
export interface LeafChange {
  readonly virtual: number;
  readonly before: EffectiveLeaf | undefined;
  readonly after: EffectiveLeaf | undefined;
}

/**
 * What the entries of guarded tables map, for reports (a landed stray's granted rights, the
 * campaign's final check), never to keep the machine in step: the MMU walks the tables themselves.
 * Structure comes from the machine's entry format; rights from the machine's own translation, so
 * U/S and R/W over every level (Intel SDM 4.6.1) and reserved bits are as the walker sees them.
 * A table pointer outside the page-table cache, or a leaf whose frame is unaligned or outside RAM
 * and PMEM, is counted as corrupt and reported as not present (the hardware would walk garbage).
 */
export class LeafReport {
  /** Entries found corrupt since the report was made. */
  corrupt = 0;

  constructor(
    private readonly machine: Machine,
    private readonly format: EntryFormat,
    private readonly isTablePage: (physical: number) => boolean,
  ) {}

  /** Every leaf of the user half of the space rooted at `pgd` (physical), by virtual address. */
  spaceLeaves(space: AddressSpaceId, pgd: number, levels: number): Map<number, EffectiveLeaf> {
    const out = new Map<number, EffectiveLeaf>();
    this.tableLeaves(space, pgd, levels, 0, USER_PGD_ENTRIES, out);
    return out;
  }

  /** The leaves under `entry` (entry `index` of a table at `level` mapping from `virtual`). */
  entryLeaves(
    space: AddressSpaceId,
    entry: EntryValue,
    level: number,
    virtual: number,
    out: Map<number, EffectiveLeaf>,
  ): void {
    const format = this.format;
    if (!format.isPresent(entry, level)) return;
    if (format.isTable(entry, level)) {
      const next = format.address(entry, level);
      if (!this.isTablePage(next)) this.corrupt++;
      else this.tableLeaves(space, next, level - 1, virtual, ENTRIES_PER_TABLE, out);
      return;
    }
    const size = levelSpan(level);
    const physical = format.address(entry, level);
    if (physical % size !== 0 || !this.frameExists(physical, size)) {
      this.corrupt++;
      return;
    }
    const t = this.machine.translate(space, virtual);
    if (t === undefined) return; // reserved bits, or a table above it that no longer leads here
    out.set(virtual, {
      virtual,
      physical,
      size,
      user: t.user,
      writable: t.writable,
      executable: t.executable,
      key: t.domain,
    });
  }

  private tableLeaves(
    space: AddressSpaceId,
    table: number,
    level: number,
    base: number,
    count: number,
    out: Map<number, EffectiveLeaf>,
  ): void {
    const words = entryWords(this.machine.readPhysical(table, count * ENTRY_BYTES));
    const span = levelSpan(level);
    for (let i = 0; i < count; i++) {
      const lo = words[2 * i];
      const hi = words[2 * i + 1];
      if ((lo | hi) === 0) continue; // most of a table is empty: nothing decoded
      this.entryLeaves(space, { lo, hi }, level, base + i * span, out);
    }
  }

  /** A frame the machine has (inside RAM or PMEM). */
  private frameExists(physical: number, size: number): boolean {
    try {
      this.machine.readPhysical(physical + size - 1, 1);
      return true;
    } catch {
      return false;
    }
  }
}

/** A table's bytes as little-endian u32 words, two per entry (a view when aligned, else a copy). */
export function entryWords(bytes: Uint8Array): Uint32Array {
  // machine-kit hosts are little-endian (it refuses others), so a word view reads the entries as stored.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length >>> 2);
}

/** What changed from `before` to `after` (removals and changes first, then new leaves). */
export function leafChanges(
  before: ReadonlyMap<number, EffectiveLeaf>,
  after: ReadonlyMap<number, EffectiveLeaf>,
): LeafChange[] {
  const changes: LeafChange[] = [];
  for (const [virtual, old] of before) {
    const now = after.get(virtual);
    if (!now || !sameLeaf(old, now)) changes.push({ virtual, before: old, after: now });
  }
  for (const [virtual, now] of after)
    if (!before.has(virtual)) changes.push({ virtual, before: undefined, after: now });
  return changes;
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

/** A leaf as one line for reports: virtual -> physical, then U/S, W/R and X/- flags. */
export function describeLeaf(leaf: EffectiveLeaf): string {
  return `${formatAddress(leaf.virtual)} -> 0x${leaf.physical.toString(16)} ${leaf.user ? 'U' : 'S'}${leaf.writable ? 'W' : 'R'}${leaf.executable ? 'X' : '-'}`;
}
