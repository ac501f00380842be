import type { PageTableFormat } from '@pkeysim/core';
import { KernelError } from '@pkeysim/kernel';
import { type EntryValue, type PageProt } from './pte';

/** Two words of bits: what an entry has when a right is given, and what it has when it is not. */
export interface RightBits {
  /** Set when the right is given (x86 R/W), else clear. */
  readonly whenGiven: EntryValue;
  /** Set when the right is withheld (arm64 AP[2] read-only, POWER _PAGE_PRIVILEGED), else clear. */
  readonly whenWithheld: EntryValue;
  /** Both: XORing them into a leaf toggles the right (a bit flip). */
  readonly flip: EntryValue;
}

/** 4-level paging as the guard names it: PGD (level 4) -> PUD -> PMD -> PTE (level 1); the P4D is folded. */
export const LEVELS = 4;
/** Guarded address spaces hold user (lower-half) mappings only: PGD entries 0..255 (below 2^47). */
export const USER_PGD_ENTRIES = 256;
const ENTRIES = 512;

/**
 * The machine's page-table entry format as the guard uses it: the architecture's own codec (reached
 * through core's in-place page tables, never x86 constants here), with guard levels 1 (PTE) .. 4
 * (PGD) mapped onto the codec's 0 (leaf table) .. 3 (root). The bits a setter or a campaign needs
 * (write permission, user access, accessed, present) are found once from the codec's own
 * encodings, so x86 R/W, arm64 AP[2] and POWER _PAGE_WRITE all come out of one rule.
 */
export class EntryFormat {
  readonly name: string;
  readonly user: RightBits;
  readonly write: RightBits;
  /** The bits a not-present entry needs to become a present 4 KiB leaf (x86 P, arm64 bits 1:0). */
  readonly present: EntryValue;
  /** The accessed flag of a leaf (x86 A), or 0 when the format has none the hardware manages. */
  readonly accessedLo: number;

  constructor(private readonly codec: PageTableFormat) {
    if (codec.levels !== LEVELS || codec.bitsPerLevel !== 9 || codec.pageShift !== 12)
      throw new KernelError(
        'EOPNOTSUPP',
        `pgtable-guard: ${codec.name} is not 4-level paging with 512-entry tables of 4 KiB pages`,
      );
    this.name = codec.name;
    const none = { user: false, writable: false, executable: false, global: false, domain: 0 };
    const base = codec.encodeLeaf(0, 0, none);
    this.user = rightBits(base, codec.encodeLeaf(0, 0, { ...none, user: true }));
    this.write = rightBits(base, codec.encodeLeaf(0, 0, { ...none, writable: true }));
    this.present = minimalValid(codec, base);
    this.accessedLo = (codec.markAccessed?.(0, 0, 0, true, false) ?? 0) >>> 0;
  }

  /** pfn_pte(): a present 4 KiB leaf in the machine's format. */
  leaf(physical: number, prot: PageProt): EntryValue {
    return words(
      this.codec.encodeLeaf(physical, 0, {
        user: prot.user,
        writable: prot.writable,
        executable: prot.executable,
        global: false,
        domain: prot.key ?? 0,
      }),
    );
  }

  /** An entry at `level` (2..4) pointing at a lower table. */
  table(physical: number): EntryValue {
    return words(this.codec.encodeTable(physical));
  }

  /** pte_present() and friends: the entry at guard `level` translates or points to a table. */
  isPresent(entry: EntryValue, level: number): boolean {
    return this.codec.isValid(entry.lo, entry.hi, level - 1);
  }

  /** {@link isPresent} of an entry given as its two words (no entry object). */
  isPresentWords(lo: number, hi: number, level: number): boolean {
    return this.codec.isValid(lo, hi, level - 1);
  }

  /** A present entry that points to a lower table (not a leaf). */
  isTable(entry: EntryValue, level: number): boolean {
    return this.isPresent(entry, level) && !this.codec.isLeaf(entry.lo, entry.hi, level - 1);
  }

  /** The lower table the entry (as two words) at guard `level` points to, or -1 when it is not a table link. */
  tableOf(lo: number, hi: number, level: number): number {
    const codec = this.codec;
    return codec.isValid(lo, hi, level - 1) && !codec.isLeaf(lo, hi, level - 1)
      ? codec.outputAddress(lo, hi, level - 1)
      : -1;
  }

  /** The table an entry points to, or the frame a leaf maps. */
  address(entry: EntryValue, level: number): number {
    return this.codec.outputAddress(entry.lo, entry.hi, level - 1);
  }

  /** pte_wrprotect(): the leaf without write permission, every other bit unchanged. */
  withoutWrite(entry: EntryValue): EntryValue {
    return withRight(entry, this.write, false);
  }

  /** The leaf with write permission given, every other bit unchanged. */
  withWrite(entry: EntryValue): EntryValue {
    return withRight(entry, this.write, true);
  }

  /** The leaf with user access and write permission given (what a stray would grant itself). */
  granting(entry: EntryValue): EntryValue {
    return withRight(withRight(entry, this.user, true), this.write, true);
  }

  /** The entry made present (a not-present entry's stray "present" bit). */
  madePresent(entry: EntryValue): EntryValue {
    return { lo: (entry.lo | this.present.lo) >>> 0, hi: (entry.hi | this.present.hi) >>> 0 };
  }
}

/** Bytes mapped by an entry at each guard level (index 1 = PTE: 4 KiB .. 4 = PGD: 512 GiB). */
const SPANS: readonly number[] = [0, 2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39];

/** Bytes mapped by an entry at guard `level` (1 = PTE: 4 KiB). */
export function levelSpan(level: number): number {
  return SPANS[level];
}

/** The table index of `virtual` at guard `level`. */
export function indexAt(virtual: number, level: number): number {
  return Math.floor(virtual / levelSpan(level)) % ENTRIES;
}

function words(entry: { readonly lo: number; readonly hi: number }): EntryValue {
  return { lo: entry.lo >>> 0, hi: entry.hi >>> 0 };
}

function rightBits(without: EntryValue, withIt: EntryValue): RightBits {
  const whenGiven = { lo: (withIt.lo & ~without.lo) >>> 0, hi: (withIt.hi & ~without.hi) >>> 0 };
  const whenWithheld = { lo: (without.lo & ~withIt.lo) >>> 0, hi: (without.hi & ~withIt.hi) >>> 0 };
  return {
    whenGiven,
    whenWithheld,
    flip: { lo: (whenGiven.lo | whenWithheld.lo) >>> 0, hi: (whenGiven.hi | whenWithheld.hi) >>> 0 },
  };
}

function withRight(entry: EntryValue, bits: RightBits, given: boolean): EntryValue {
  const set = given ? bits.whenGiven : bits.whenWithheld;
  const clear = given ? bits.whenWithheld : bits.whenGiven;
  return { lo: ((entry.lo & ~clear.lo) | set.lo) >>> 0, hi: ((entry.hi & ~clear.hi) | set.hi) >>> 0 };
}

/** The fewest bits of `leaf` (a valid 4 KiB leaf) that keep it valid: its bits one by one, dropped while it stays valid. */
function minimalValid(codec: PageTableFormat, leaf: EntryValue): EntryValue {
  let { lo, hi } = leaf;
  for (let bit = 0; bit < 64; bit++) {
    const mask = 2 ** (bit % 32);
    if (bit < 32 && (lo & mask) !== 0 && codec.isValid((lo & ~mask) >>> 0, hi, 0)) lo = (lo & ~mask) >>> 0;
    if (bit >= 32 && (hi & mask) !== 0 && codec.isValid(lo, (hi & ~mask) >>> 0, 0)) hi = (hi & ~mask) >>> 0;
  }
  return { lo: lo >>> 0, hi: hi >>> 0 };
}
