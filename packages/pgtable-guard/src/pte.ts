/**
 * The kernel's view of a paging-structure entry (pte_t, pmd_t, ...): 64 bits kept as two unsigned
 * 32-bit words, since the NX bit (63) does not fit a JS number's exact integers. The bit layout is
 * Linux x86-64's (arch/x86/include/asm/pgtable_types.h): the guard is Edgecombe's x86 patch, and the
 * machine is programmed only through core's neutral `map`/`unmap` (see mirror.ts).
 */
export interface EntryValue {
  readonly lo: number;
  readonly hi: number;
}

/** _PAGE_PRESENT (bit 0). */
export const PAGE_PRESENT = 0x1;
/** _PAGE_RW (bit 1). */
export const PAGE_RW = 0x2;
/** _PAGE_USER (bit 2). */
export const PAGE_USER = 0x4;
/** _PAGE_ACCESSED (bit 5): what ptep_test_and_clear_young clears. */
export const PAGE_ACCESSED = 0x20;
/** _PAGE_DIRTY (bit 6). */
export const PAGE_DIRTY = 0x40;
/** _PAGE_PSE (bit 7): a large leaf in a PMD or PUD. */
export const PAGE_PSE = 0x80;
/** _PAGE_NX (bit 63), in the high word. */
export const PAGE_NX_HI = 0x80000000;
/** _PAGE_PKEY_BIT0..3 (bits 59..62), in the high word. */
export const PKEY_SHIFT_HI = 27;
/** The four key bits (59..62) as a mask of the high word. */
export const PKEY_MASK_HI = 0xf << PKEY_SHIFT_HI;
/** Physical address bits 12..51. */
const ADDR_LO = 0xfffff000;
const ADDR_HI = 0xfffff;
const TWO_32 = 0x100000000;

/** _PAGE_TABLE (arch/x86/include/asm/pgtable_types.h): what a populated pgd/pud/pmd entry holds. */
export const PAGE_TABLE_FLAGS = PAGE_PRESENT | PAGE_RW | PAGE_USER | PAGE_ACCESSED | PAGE_DIRTY;

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

/** pfn_pte(): a present 4 KiB leaf. */
export function leafEntry(physical: number, prot: PageProt): EntryValue {
  const lo =
    PAGE_PRESENT | (prot.writable ? PAGE_RW : 0) | (prot.user ? PAGE_USER : 0) | ((physical % TWO_32) & ADDR_LO);
  const hi =
    (Math.floor(physical / TWO_32) & ADDR_HI) | ((prot.key ?? 0) << PKEY_SHIFT_HI) | (prot.executable ? 0 : PAGE_NX_HI);
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

/** __pmd(__pa(table) | _PAGE_TABLE): an entry pointing at a lower table. */
export function tableEntry(tablePhysical: number): EntryValue {
  return {
    lo: (PAGE_TABLE_FLAGS | ((tablePhysical % TWO_32) & ADDR_LO)) >>> 0,
    hi: Math.floor(tablePhysical / TWO_32) & ADDR_HI,
  };
}

/** The physical address (bits 12..51) an entry points at. */
export function entryAddress(entry: EntryValue): number {
  return (entry.hi & ADDR_HI) * TWO_32 + ((entry.lo & ADDR_LO) >>> 0);
}

/** pte_present(): whether _PAGE_PRESENT is set. */
export function isPresent(entry: EntryValue): boolean {
  return (entry.lo & PAGE_PRESENT) !== 0;
}

/** The protection key (bits 59..62) of an entry. */
export function entryKey(entry: EntryValue): number {
  return (entry.hi & PKEY_MASK_HI) >>> PKEY_SHIFT_HI;
}

/** The entry as the 8 little-endian bytes stored in the table. */
export function entryBytes(entry: EntryValue): Uint8Array {
  const bytes = new Uint8Array(ENTRY_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, entry.lo >>> 0, true);
  view.setUint32(4, entry.hi >>> 0, true);
  return bytes;
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
