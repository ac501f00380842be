/**
 * The kernel's view of a paging-structure entry (pte_t, pmd_t, ...): 64 bits kept as two unsigned
 * 32-bit words, since bit 63 does not fit a JS number's exact integers. The bit layout is the
 * machine's own (x86, arm64 VMSAv8-64, POWER book3s64): the guard builds entries with the
 * architecture's codec (entry-format.ts), and the MMU walks them where they are.
 */
export interface EntryValue {
  readonly lo: number;
  readonly hi: number;
}

/** Size of one paging-structure entry in bytes. */
export const ENTRY_BYTES = 8;
/** Entries in one 4 KiB page table (PTRS_PER_PTE). */
export const ENTRIES_PER_TABLE = 512;

/** The empty (not present) entry, all bits clear. */
export const NONE: EntryValue = Object.freeze({ lo: 0, hi: 0 });

/** The protection of a leaf (pgprot_t reduced to what the campaign varies). */
export interface PageProt {
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  /** The key of the mapped page (0 unless a consumer keys user memory). */
  readonly key?: number;
}

/** The entry as the 8 little-endian bytes stored in the table. */
export function entryBytes(entry: EntryValue): Uint8Array {
  return putEntry(new Uint8Array(ENTRY_BYTES), entry);
}

/** Store the entry's 8 little-endian bytes into `bytes[0..7]`; returns `bytes`. */
export function putEntry(bytes: Uint8Array, entry: EntryValue): Uint8Array {
  // Little-endian words stored by hand: no DataView per entry.
  const lo = entry.lo >>> 0;
  const hi = entry.hi >>> 0;
  bytes[0] = lo;
  bytes[1] = lo >>> 8;
  bytes[2] = lo >>> 16;
  bytes[3] = lo >>> 24;
  bytes[4] = hi;
  bytes[5] = hi >>> 8;
  bytes[6] = hi >>> 16;
  bytes[7] = hi >>> 24;
  return bytes;
}

/** The little-endian unsigned 32-bit word at `offset` of `bytes` (in range: the caller checks). */
export function wordAt(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

/** Decode entry `index` of a table page's bytes (at `offset` in `bytes`). */
export function decodeEntry(bytes: Uint8Array, offset = 0): EntryValue {
  // Little-endian words assembled by hand: no DataView per entry.
  if (offset < 0 || offset + ENTRY_BYTES > bytes.length) throw new RangeError(`no entry at offset ${offset}`);
  const lo = (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
  const hi =
    (bytes[offset + 4] | (bytes[offset + 5] << 8) | (bytes[offset + 6] << 16) | (bytes[offset + 7] << 24)) >>> 0;
  return { lo, hi };
}

/** Whether two entries hold the same 64 bits. */
export function sameEntry(a: EntryValue, b: EntryValue): boolean {
  return a.lo >>> 0 === b.lo >>> 0 && a.hi >>> 0 === b.hi >>> 0;
}

/** "0x8000000012345067" for reports. */
export function formatEntry(entry: EntryValue): string {
  return '0x' + (entry.hi >>> 0).toString(16).padStart(8, '0') + (entry.lo >>> 0).toString(16).padStart(8, '0');
}
