import type { AddressSpaceId, Machine } from './machine';

/**
 * Page tables that kernel code builds in physical memory and the machine's MMU walks in place: an
 * optional capability of a {@link Machine}. Kernel code that keeps its own page tables (PKS
 * write-protected page tables, Edgecombe's RFC) writes entries in the machine's own format into
 * pages of its choosing, adopts the root as an address space, and invalidates what it changed, as
 * Linux does with set_pte and flush_tlb_kernel_range/invlpg. Nothing is mirrored or re-walked.
 */

/** One 8-byte descriptor as two u32 words (lo = bits 31:0, hi = bits 63:32). */
export interface PageTableEntryWords {
  readonly lo: number;
  readonly hi: number;
}

/** What a new leaf says, whatever the architecture's bits for it. */
export interface PageTableLeafRequest {
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly global: boolean;
  readonly domain: number;
}

/**
 * An architecture's page-table entry format, as kernel code needs it to build and read tables.
 * Levels count from the leaf table up: level 0 maps base pages, level `levels - 1` is the root.
 * (machine-kit's DescriptorCodec is one; every kit architecture's codec is its format.)
 */
export interface PageTableFormat {
  /** For messages, e.g. "VMSAv8-64 stage 1, 4 KiB granule". */
  readonly name: string;
  readonly levels: number;
  /** Address bits each level resolves (9 for 512-entry tables of 8-byte entries). */
  readonly bitsPerLevel: number;
  /** log2 of the base page size (12). */
  readonly pageShift: number;
  /** Levels at which a leaf may sit. */
  readonly leafLevels: readonly number[];
  /** The entry translates or points to a table. */
  isValid(lo: number, hi: number, level: number): boolean;
  /** A valid entry that maps memory rather than pointing to a table. */
  isLeaf(lo: number, hi: number, level: number): boolean;
  /** The next table's address (non-leaf), or the page/block base (leaf). */
  outputAddress(lo: number, hi: number, level: number): number;
  /** A valid table entry pointing to the table at physical address `table`. */
  encodeTable(table: number): PageTableEntryWords;
  /** A leaf at `level` mapping `physical` with the attributes of `request`. */
  encodeLeaf(physical: number, level: number, request: PageTableLeafRequest): PageTableEntryWords;
  /** Optional: the low word with the accessed flag set (and dirty for a leaf written to), when the format has them. */
  markAccessed?(lo: number, hi: number, level: number, leaf: boolean, write: boolean): number;
}

/** What a machine whose MMU walks software-built tables in place offers kernel code. */
export interface InPlacePageTables {
  /** The format of the tables the MMU walks. */
  readonly codec: PageTableFormat;
  /** Adopt the tables rooted at physical `root` as a new address space (the walker reads them as they are). */
  adoptAddressSpace(root: number): AddressSpaceId;
  /** Release a space whose tables software freed (Linux pgd_free): its root is walked and written no more. */
  releaseAddressSpace(space: AddressSpaceId): void;
  /** Physical roots of a space: its own (CR3/TTBR0) and the one of the upper half (the same when shared in each root). */
  rootsOf(space: AddressSpaceId): { readonly lower: number; readonly upper: number };
  /** Invalidate one page's cached translations on one CPU (INVLPG, TLBI VAE1, tlbiel): counted. */
  invalidatePage(cpu: number, virtual: number): void;
  /** Invalidate a CPU's whole TLB: counted. */
  flushTlb(cpu: number): void;
}

/** A machine that says where its in-place tables are (a wrapper forwards its inner machine's). */
interface InPlaceProvider {
  inPlacePageTables(): InPlacePageTables | undefined;
}

/**
 * The machine's in-place page tables, or undefined when its MMU cannot walk software-built tables.
 * A machine (or a wrapper of one) may say so with an `inPlacePageTables()` method; otherwise one
 * that has the capability's members (every machine-kit architecture) is taken as it is.
 */
export function inPlacePageTables(machine: Machine): InPlacePageTables | undefined {
  const provider = machine as Partial<InPlaceProvider>;
  if (typeof provider.inPlacePageTables === 'function') return provider.inPlacePageTables();
  const m = machine as Partial<InPlacePageTables>;
  return typeof m.codec === 'object' &&
    m.codec !== null &&
    typeof m.adoptAddressSpace === 'function' &&
    typeof m.releaseAddressSpace === 'function' &&
    typeof m.rootsOf === 'function' &&
    typeof m.invalidatePage === 'function' &&
    typeof m.flushTlb === 'function'
    ? (machine as unknown as InPlacePageTables)
    : undefined;
}
