/**
 * Paging-structure entries of 4-level and 5-level paging (SDM vol. 3, 4.5, tables 4-15 to 4-20).
 * On the hot path an entry is a pair of u32 words (lo = bits 31:0, hi = bits 63:32): no BigInt.
 * `decodeEntry`/`encodeEntry` give a field object for tests and tools.
 */
import { invalidArgument } from '@pkeysim/machine-kit';
import { TWO_32 } from './address';

/** Levels of the walk: 1 = PT (PTE), 2 = PD, 3 = PDPT, 4 = PML4, 5 = PML5. */
export type PagingLevel = 1 | 2 | 3 | 4 | 5;

// Low word (bits 31:0).
/** P (bit 0): the entry is present. */
export const E_P = 1 << 0;
/** R/W (bit 1): writes allowed (ANDed over the walk, SDM 4.6). */
export const E_RW = 1 << 1;
/** U/S (bit 2): user-mode accesses allowed (ANDed over the walk, SDM 4.6). */
export const E_US = 1 << 2;
/** PWT (bit 3): page-level write-through. */
export const E_PWT = 1 << 3;
/** PCD (bit 4): page-level cache disable. */
export const E_PCD = 1 << 4;
/** A (bit 5): accessed, set by the processor on a walk (SDM 4.8). */
export const E_A = 1 << 5;
/** D (bit 6): dirty, set by the processor on a write through a leaf (SDM 4.8). */
export const E_D = 1 << 6;
/** PS in PDPTE/PDE (and reserved in PML4E/PML5E); PAT in a PTE. */
export const E_PS = 1 << 7;
/** G (bit 8): global translation, kept across CR3 loads when CR4.PGE is set (SDM 4.10.2.4). */
export const E_G = 1 << 8;
/** Bits 11:9 are ignored by the processor (software-available). */
export const E_AVL_LO = 0xe00;
/** PAT of a 2 MiB / 1 GiB leaf (bit 12). */
export const E_PAT_LARGE = 1 << 12;
/** Address bits 31:12. */
export const E_ADDR_LO = 0xfffff000;
// High word (bits 63:32).
/** Address bits 51:32. */
export const E_ADDR_HI = 0x000fffff;
/** Bits 58:52: ignored in every entry. */
export const E_AVL_HI = 0x07f00000;
/** Protection key, bits 62:59 of a leaf (SDM 4.5, tables 4-18 to 4-20). */
export const E_PKEY_HI = 0x78000000;
/** Shift of the protection key within the high word (bit 59 of the entry). */
export const E_PKEY_SHIFT = 27;
/** Bits 62:52 of a non-leaf entry are ignored (SDM 4.5, tables 4-15 to 4-19). */
export const E_IGNORED_HI_NONLEAF = 0x7ff00000;
/** XD, bit 63 (execute-disable; reserved unless EFER.NXE=1). */
export const E_XD_HI = 0x80000000;

/** log2 of the size mapped by a leaf at `level`. */
export function leafShift(level: PagingLevel): number {
  return 12 + 9 * (level - 1);
}

/** The physical address held in bits 51:12 (the caller masks low bits for large leaves). */
export function entryAddress(lo: number, hi: number): number {
  return ((lo & E_ADDR_LO) >>> 0) + (hi & E_ADDR_HI) * TWO_32;
}

/** True when `lo` at `level` is a leaf: a PTE, or a PDPTE/PDE with PS=1. */
export function isLeaf(lo: number, level: PagingLevel): boolean {
  return level === 1 || ((level === 2 || level === 3) && (lo & E_PS) !== 0);
}

/**
 * The reserved bits of a present entry (SDM 4.5, tables 4-14 to 4-20): address bits at or above
 * MAXPHYADDR, PS in a PML5E/PML4E, bits 29:13 of a 1 GiB leaf, bits 20:13 of a 2 MiB leaf, and XD
 * when EFER.NXE=0. `reservedHi` is {@link reservedHighMask} for the CPU. Nonzero -> #PF with RSVD=1.
 */
export function reservedBits(lo: number, hi: number, level: PagingLevel, reservedHi: number): number {
  if (level === 1) return pteReservedBits(hi, reservedHi);
  let low = 0;
  if (level >= 4) low = lo & E_PS;
  else if ((lo & E_PS) !== 0) {
    if (level === 3) low = lo & 0x3fffe000;
    else if (level === 2) low = lo & 0x001fe000;
  }
  return low | (hi & reservedHi);
}

/** The reserved bits of a present PTE: only high-word ones (a PTE has no PS; bit 7 is PAT). */
export function pteReservedBits(hi: number, reservedHi: number): number {
  return hi & reservedHi;
}

/** Reserved high-word bits for a CPU: address bits 51:MAXPHYADDR, plus XD when EFER.NXE=0. */
export function reservedHighMask(maxPhysAddr: number, nxe: boolean): number {
  const addressReserved = E_ADDR_HI & ~((1 << (maxPhysAddr - 32)) - 1);
  return addressReserved | (nxe ? 0 : E_XD_HI) | 0;
}

/** An entry as a field object (every bit of the entry is represented). */
export interface PagingEntry {
  readonly present: boolean;
  readonly writable: boolean;
  readonly user: boolean;
  readonly writeThrough: boolean;
  readonly cacheDisable: boolean;
  readonly accessed: boolean;
  /** D in a leaf; ignored (but kept) in a non-leaf entry. */
  readonly dirty: boolean;
  /** PS (bit 7) in PDPTE/PDE/PML4E/PML5E; always false for a PTE. */
  readonly pageSize: boolean;
  /** PAT: bit 7 of a PTE, bit 12 of a large leaf; false in non-leaf entries. */
  readonly pat: boolean;
  /** G in a leaf; ignored (but kept) in a non-leaf entry. */
  readonly global: boolean;
  /** Physical address: of the next table, or of the page (aligned to the leaf size). */
  readonly address: number;
  /** Bits 62:59 of a leaf; 0 for non-leaf entries (their bits 62:52 are in `ignoredHigh`). */
  readonly pkey: number;
  readonly executeDisable: boolean;
  /** Bits 11:9. */
  readonly ignoredLow: number;
  /** Bits 58:52 of a leaf, bits 62:52 of a non-leaf entry. */
  readonly ignoredHigh: number;
}

/** The two words of an entry. */
export interface EntryWords {
  readonly lo: number;
  readonly hi: number;
}

function leafFormat(level: PagingLevel, pageSize: boolean): 'pte' | 'large' | 'table' {
  if (level === 1) return 'pte';
  if ((level === 2 || level === 3) && pageSize) return 'large';
  return 'table';
}

/** Decode an entry of the given level. Reserved bits 20:13 / 29:13 of large leaves are not represented. */
export function decodeEntry(lo: number, hi: number, level: PagingLevel): PagingEntry {
  const format = leafFormat(level, (lo & E_PS) !== 0);
  const leaf = format !== 'table';
  const addressLowMask = format === 'large' ? (level === 3 ? 0xc0000000 : 0xffe00000) : E_ADDR_LO;
  return {
    present: (lo & E_P) !== 0,
    writable: (lo & E_RW) !== 0,
    user: (lo & E_US) !== 0,
    writeThrough: (lo & E_PWT) !== 0,
    cacheDisable: (lo & E_PCD) !== 0,
    accessed: (lo & E_A) !== 0,
    dirty: (lo & E_D) !== 0,
    pageSize: format !== 'pte' && (lo & E_PS) !== 0,
    pat: format === 'pte' ? (lo & E_PS) !== 0 : format === 'large' ? (lo & E_PAT_LARGE) !== 0 : false,
    global: (lo & E_G) !== 0,
    address: ((lo & addressLowMask) >>> 0) + (hi & E_ADDR_HI) * TWO_32,
    pkey: leaf ? (hi & E_PKEY_HI) >>> E_PKEY_SHIFT : 0,
    executeDisable: (hi & E_XD_HI) !== 0,
    ignoredLow: (lo & E_AVL_LO) >>> 9,
    ignoredHigh: leaf ? (hi & E_AVL_HI) >>> 20 : (hi & E_IGNORED_HI_NONLEAF) >>> 20,
  };
}

/** Encode a field object; throws DomainError('invalid') for a field that does not fit its bits at this level. */
export function encodeEntry(entry: PagingEntry, level: PagingLevel): EntryWords {
  const format = leafFormat(level, entry.pageSize);
  const leaf = format !== 'table';
  if (level === 1 && entry.pageSize) throw invalidArgument('a PTE has no PS bit (bit 7 is PAT)');
  const align = format === 'large' ? 2 ** leafShift(level) : 0x1000;
  if (
    !Number.isInteger(entry.address) ||
    entry.address < 0 ||
    entry.address >= 2 ** 52 ||
    entry.address % align !== 0
  ) {
    throw invalidArgument(`entry address ${entry.address} must be a multiple of 0x${align.toString(16)} below 2^52`);
  }
  if (!Number.isInteger(entry.pkey) || entry.pkey < 0 || entry.pkey > 15)
    throw invalidArgument(`pkey ${entry.pkey} must be 0..15`);
  if (!leaf && entry.pkey !== 0) throw invalidArgument('only a leaf entry holds a protection key (bits 62:59)');
  if (!leaf && entry.pat) throw invalidArgument('a non-leaf entry has no PAT bit');
  if (!Number.isInteger(entry.ignoredLow) || entry.ignoredLow < 0 || entry.ignoredLow > 7)
    throw invalidArgument('ignoredLow must be 0..7');
  const highMax = leaf ? 0x7f : 0x7ff;
  if (!Number.isInteger(entry.ignoredHigh) || entry.ignoredHigh < 0 || entry.ignoredHigh > highMax) {
    throw invalidArgument(`ignoredHigh must be 0..${highMax} at this level`);
  }
  let lo =
    (entry.present ? E_P : 0) |
    (entry.writable ? E_RW : 0) |
    (entry.user ? E_US : 0) |
    (entry.writeThrough ? E_PWT : 0) |
    (entry.cacheDisable ? E_PCD : 0) |
    (entry.accessed ? E_A : 0) |
    (entry.dirty ? E_D : 0) |
    (entry.global ? E_G : 0) |
    (entry.ignoredLow << 9);
  if (format === 'pte') lo |= entry.pat ? E_PS : 0;
  else lo |= entry.pageSize ? E_PS : 0;
  if (format === 'large' && entry.pat) lo |= E_PAT_LARGE;
  lo |= entry.address % TWO_32;
  const hi =
    Math.floor(entry.address / TWO_32) |
    (entry.ignoredHigh << 20) |
    (leaf ? entry.pkey << E_PKEY_SHIFT : 0) |
    (entry.executeDisable ? E_XD_HI : 0);
  return { lo: lo >>> 0, hi: hi >>> 0 };
}
