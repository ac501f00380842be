/**
 * What an architecture tells the radix page-table engine about its descriptors. Entries are 8 bytes,
 * handled as two u32 words (lo = bits 31:0, hi = bits 63:32) so nothing on the walk needs BigInt.
 * Levels are numbered from the leaf table up: level 0 maps base pages, level `levels - 1` is the root.
 */
import { TF_DOMAIN_SHIFT } from './translation-flags';

/** The two words of a descriptor. */
export interface EntryWords {
  readonly lo: number;
  readonly hi: number;
}

/** What a new leaf must say. */
export interface LeafRequest {
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly global: boolean;
  readonly domain: number;
}

/** An architecture's descriptor format, as the radix page-table engine reads and writes it. */
export interface DescriptorCodec {
  /** For messages and docs, e.g. "VMSAv8-64 stage 1, 4 KiB granule". */
  readonly name: string;
  /** Number of table levels of a walk (4 for a 48-bit space with 4 KiB pages and 9-bit indices). */
  readonly levels: number;
  /** Address bits each level resolves (9 for 512-entry tables of 8-byte entries). */
  readonly bitsPerLevel: number;
  /** log2 of the base page size (12). */
  readonly pageShift: number;
  /** Levels at which a leaf may sit; always includes 0. */
  readonly leafLevels: readonly number[];
  /** How many distinct domain tags the descriptor can hold (2^bits of its tag field, <= 256). */
  readonly domainCount: number;
  /** Where the tag lives, for reports: "descriptor bits 62:60". */
  readonly domainField: string;

  /** The entry translates (or points to a table): not an invalid/absent entry. */
  isValid(lo: number, hi: number, level: number): boolean;
  /** A valid entry that maps memory (a page or block) rather than pointing to a table. */
  isLeaf(lo: number, hi: number, level: number): boolean;
  /** The next table's address (non-leaf), or the page/block base (leaf, aligned to its size). */
  outputAddress(lo: number, hi: number, level: number): number;
  /**
   * Base permissions of a leaf as TF_* bits (translation-flags.ts): the six permission bits, TF_USER,
   * TF_GLOBAL and any TF_ARCH bits; TF_DIRTY when the codec manages accessed/dirty bits and the
   * leaf's dirty bit is set. The engine adds the level and the domain. `control` is the walking
   * CPU's walk-control word (KitMachine.walkControl: architecture-defined, e.g. x86 CR4.PGE).
   */
  leafFlags(lo: number, hi: number, level: number, control: number): number;
  /** The domain tag of a leaf (x86 protection key, arm64 POIndex, ...). */
  domainOf(lo: number, hi: number, level: number): number;

  /**
   * Optional hierarchical permissions: the TF_* bits a valid table (non-leaf) entry lets through
   * (only the six permission bits, TF_USER and the TF_ARCH bits can be removed this way).
   * The walk ANDs them over every table entry it uses and ANDs the result into the leaf's flags, so
   * a table entry can only remove rights (x86 U/S and R/W ANDed and XD ORed over the levels, Intel
   * SDM 4.6; Arm APTable/XNTable, Arm ARM D8.4.2). Absent: tables restrict nothing.
   */
  tablePermissions?(lo: number, hi: number, level: number): number;
  /**
   * Optional reserved-bit check of a valid entry, leaf or table: nonzero stops the walk with a
   * reserved-bit fault (x86 #PF with RSVD=1, Intel SDM 4.5 tables 4-14 to 4-20). `control` is the
   * walking CPU's walk-control word.
   */
  reservedBits?(lo: number, hi: number, level: number, control: number): number;
  /**
   * Optional accessed/dirty management: the low word with the accessed flag set, and for a leaf
   * written to also the dirty flag. With it, the hardware walk sets accessed in every table entry it
   * uses, and the leaf's accessed (and dirty on a write) once the access is allowed (Intel SDM 4.8;
   * QEMU mmu_translate does the same). The codec then reports TF_DIRTY from leafFlags.
   */
  markAccessed?(lo: number, hi: number, level: number, leaf: boolean, write: boolean): number;
  /**
   * Optional: what the walk learns from a level-0 descriptor, in one call (the TLB-miss path through
   * a cached leaf table calls it once instead of five methods): PAGE_INVALID when !isValid,
   * PAGE_RESERVED when reservedBits is nonzero, else leafFlags | domainOf << TF_DOMAIN_SHIFT. It
   * must be built from the same rules as those methods (a conformance test compares them); absent,
   * the engine composes them.
   */
  pageFlags?(lo: number, hi: number, control: number): number;

  /** A valid table (non-leaf) entry pointing to the table at physical address `table`. */
  encodeTable(table: number): EntryWords;
  /** A leaf at `level` mapping `physical` with the attributes of `request`. */
  encodeLeaf(physical: number, level: number, request: LeafRequest): EntryWords;
  /** The leaf with its domain tag replaced by `domain`, other attributes unchanged. */
  withDomain(lo: number, hi: number, level: number, domain: number): EntryWords;
  /**
   * One of the leaves that replace a large leaf at `level`: at `level - 1`, mapping `physical`, with
   * every attribute of the parent (so translations of untouched pages do not change).
   */
  splitLeaf(lo: number, hi: number, level: number, physical: number): EntryWords;
}

/** DescriptorCodec.pageFlags of an invalid descriptor. */
export const PAGE_INVALID = -1;
/** DescriptorCodec.pageFlags of a valid descriptor with a reserved bit set. */
export const PAGE_RESERVED = -2;

/** DescriptorCodec.pageFlags from the codec's separate methods (the default, and what a codec's own must equal). */
export function composedPageFlags(codec: DescriptorCodec, lo: number, hi: number, control: number): number {
  if (!codec.isValid(lo, hi, 0)) return PAGE_INVALID;
  if (codec.reservedBits !== undefined && codec.reservedBits(lo, hi, 0, control) !== 0) return PAGE_RESERVED;
  return codec.leafFlags(lo, hi, 0, control) | (codec.domainOf(lo, hi, 0) << TF_DOMAIN_SHIFT);
}

/** Bytes mapped by a leaf at `level`. */
export function levelSpan(codec: DescriptorCodec, level: number): number {
  return 2 ** (codec.pageShift + codec.bitsPerLevel * level);
}
