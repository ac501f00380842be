/**
 * The x86 paging-structure entries of 4-level and 5-level paging (Intel SDM vol. 3, 4.5, tables 4-14
 * to 4-20) as a machine-kit descriptor codec: the kit's radix engine walks, maps, splits and re-keys
 * x86 page tables through it, and its TLB caches what `leafFlags` says. Kit levels count from the
 * leaf table: kit level 0 is the x86 PT (level 1), kit level 3 the PML4, kit level 4 the PML5.
 */
import {
  PAGE_INVALID,
  PAGE_RESERVED,
  TF_ARCH_SHIFT,
  TF_DIRTY,
  TF_DOMAIN_SHIFT,
  TF_GLOBAL,
  TF_PRIV_EXEC,
  TF_PRIV_READ,
  TF_PRIV_WRITE,
  TF_USER,
  TF_USER_EXEC,
  TF_USER_READ,
  TF_USER_WRITE,
  TWO_32,
  type DescriptorCodec,
  type EntryWords,
  type LeafRequest,
} from '@pkeysim/machine-kit';
import {
  E_A,
  E_ADDR_HI,
  E_ADDR_LO,
  E_D,
  E_G,
  E_P,
  E_PAT_LARGE,
  E_PCD,
  E_PKEY_HI,
  E_PKEY_SHIFT,
  E_PS,
  E_PWT,
  E_RW,
  E_US,
  E_XD_HI,
  pteReservedBits,
  reservedBits,
  type PagingLevel,
} from './entry';

/**
 * The x86 bits of a cached translation (kit TF_ARCH bits), the index of the per-mode check table:
 * U/S=1 at every level, R/W=1 at every level (both ANDed over the walk, SDM 4.6), and XD=0 at every
 * level (XD is ORed, so "executable" is ANDed).
 */
export const TF_X86_USER = 1 << TF_ARCH_SHIFT;
/** R/W=1 at every level of the walk. */
export const TF_X86_WRITE = 2 << TF_ARCH_SHIFT;
/** XD=0 at every level of the walk. */
export const TF_X86_EXEC = 4 << TF_ARCH_SHIFT;

/**
 * Walk-control word of an x86 CPU (KitMachine.walkControl): the reserved high-word bits for its
 * MAXPHYADDR and EFER.NXE (entry.ts reservedHighMask), with bit 0 standing for CR4.PGE. Bit 0 of
 * the high word is address bit 32, never reserved since MAXPHYADDR >= 36.
 */
export const CONTROL_PGE = 1;

const USER_BITS = TF_USER | TF_USER_READ | TF_USER_WRITE | TF_USER_EXEC | TF_X86_USER;
const WRITE_BITS = TF_PRIV_WRITE | TF_USER_WRITE | TF_X86_WRITE;
const EXEC_BITS = TF_PRIV_EXEC | TF_USER_EXEC | TF_X86_EXEC;

/** Non-leaf entries: present, writable, user (Linux _PAGE_TABLE without A/D: the walk sets A). */
const TABLE_FLAGS = E_P | E_RW | E_US;

/** Low-word address bits of a leaf at kit level `level` (PAT bit 12 of large leaves excluded). */
function leafAddressLow(level: number): number {
  return level === 0 ? E_ADDR_LO : level === 1 ? 0xffe00000 : 0xc0000000;
}

function addressOf(lo: number, hi: number, lowMask: number): number {
  return ((lo & lowMask) >>> 0) + (hi & E_ADDR_HI) * TWO_32;
}

/**
 * Base permissions of a leaf (SDM 4.6: U/S, R/W, XD of the leaf; the walk ANDs the tables' in) and
 * its key (SDM 4.6.2: from the leaf alone), as kit TF_* flags. Every TLB miss runs it, so it spells
 * its constants as literals (V8 folds no imported binding: see kit-machine.ts), each checked below.
 */
function leafPermissions(lo: number, hi: number, control: number): number {
  return (
    1 |
    8 | // TF_PRIV_READ | TF_USER_READ
    ((lo & 4) !== 0 ? 64 | 1024 : 0) | // U/S: TF_USER | TF_X86_USER
    ((lo & 2) !== 0 ? 2 | 16 | 2048 : 0) | // R/W: TF_PRIV_WRITE | TF_USER_WRITE | TF_X86_WRITE
    ((hi & 0x80000000) === 0 ? 4 | 32 | 4096 : 0) | // not XD: TF_PRIV_EXEC | TF_USER_EXEC | TF_X86_EXEC
    ((lo & 64) !== 0 ? 0x1000000 : 0) | // D: TF_DIRTY
    // G counts only with CR4.PGE=1 (SDM 4.10.2.4): TF_GLOBAL.
    ((lo & 256) !== 0 && (control & 1) !== 0 ? 128 : 0)
  );
}

/** The protection key of a leaf, bits 62:59 (SDM 4.6.2). */
function leafKey(hi: number): number {
  return (hi >>> 27) & 15;
}

if (
  E_P !== 1 ||
  E_RW !== 2 ||
  E_US !== 4 ||
  E_D !== 64 ||
  E_G !== 256 ||
  E_XD_HI !== 0x80000000 ||
  E_PKEY_HI !== 15 << 27 ||
  E_PKEY_SHIFT !== 27 ||
  CONTROL_PGE !== 1 ||
  TF_PRIV_READ !== 1 ||
  TF_PRIV_WRITE !== 2 ||
  TF_PRIV_EXEC !== 4 ||
  TF_USER_READ !== 8 ||
  TF_USER_WRITE !== 16 ||
  TF_USER_EXEC !== 32 ||
  TF_USER !== 64 ||
  TF_GLOBAL !== 128 ||
  TF_X86_USER !== 1024 ||
  TF_X86_WRITE !== 2048 ||
  TF_X86_EXEC !== 4096 ||
  TF_DIRTY !== 0x1000000 ||
  TF_DOMAIN_SHIFT !== 16
)
  throw new Error('internal: a literal of the x86 leaf decoding no longer matches the constant it spells');

function isLeafEntry(lo: number, level: number): boolean {
  return level === 0 || ((level === 1 || level === 2) && (lo & E_PS) !== 0);
}

/**
 * The codec for 4-level (CR4.LA57=0) or 5-level paging: one frozen object per paging mode, shared by
 * every machine, so the walk's calls into it see one function each (V8 inlines them).
 */
export function x86Descriptors(levels: 4 | 5): DescriptorCodec {
  return levels === 5 ? (fiveLevel ??= makeDescriptors(5)) : (fourLevel ??= makeDescriptors(4));
}

let fourLevel: DescriptorCodec | undefined;
let fiveLevel: DescriptorCodec | undefined;

function makeDescriptors(levels: 4 | 5): DescriptorCodec {
  return Object.freeze<DescriptorCodec>({
    name: `x86 ${levels}-level paging`,
    levels,
    bitsPerLevel: 9,
    pageShift: 12,
    leafLevels: [0, 1, 2],
    domainCount: 16,
    domainField: 'leaf bits 62:59 (protection key)',

    isValid: (lo) => (lo & E_P) !== 0,
    isLeaf: (lo, _hi, level) => isLeafEntry(lo, level),
    outputAddress: (lo, hi, level) => addressOf(lo, hi, isLeafEntry(lo, level) ? leafAddressLow(level) : E_ADDR_LO),

    leafFlags: (lo, hi, _level, control) => leafPermissions(lo, hi, control),
    domainOf: (_lo, hi) => leafKey(hi),
    // A PTE: P, then the reserved bits of a PTE (SDM table 4-20: address bits at or above
    // MAXPHYADDR, XD without EFER.NXE; a PTE has no PS), then its permissions and key.
    pageFlags: (lo, hi, control) =>
      (lo & 1) === 0 // not P
        ? PAGE_INVALID
        : pteReservedBits(hi, control & ~1) !== 0 // ~CONTROL_PGE
          ? PAGE_RESERVED
          : leafPermissions(lo, hi, control) | (leafKey(hi) << 16), // TF_DOMAIN_SHIFT

    // U/S and R/W are ANDed over the levels, XD ORed (SDM 4.6; table 4-20 notes).
    tablePermissions: (lo, hi) =>
      ~(
        ((lo & E_US) === 0 ? USER_BITS : 0) |
        ((lo & E_RW) === 0 ? WRITE_BITS : 0) |
        ((hi & E_XD_HI) !== 0 ? EXEC_BITS : 0)
      ),
    reservedBits: (lo, hi, level, control) => reservedBits(lo, hi, (level + 1) as PagingLevel, control & ~CONTROL_PGE),
    // A on every entry used, D on the leaf of a write (SDM 4.8).
    markAccessed: (lo, _hi, _level, leaf, write) => lo | E_A | (leaf && write ? E_D : 0),

    encodeTable: (table): EntryWords => ({
      lo: (TABLE_FLAGS | (table % TWO_32)) >>> 0,
      hi: Math.floor(table / TWO_32),
    }),
    encodeLeaf: (physical, level, request: LeafRequest): EntryWords => ({
      lo:
        (E_P |
          (request.writable ? E_RW : 0) |
          (request.user ? E_US : 0) |
          (request.global ? E_G : 0) |
          (level > 0 ? E_PS : 0) |
          (physical % TWO_32)) >>>
        0,
      hi: (Math.floor(physical / TWO_32) | (request.domain << E_PKEY_SHIFT) | (request.executable ? 0 : E_XD_HI)) >>> 0,
    }),
    withDomain: (lo, hi, _level, domain) => ({
      lo: lo >>> 0,
      hi: ((hi & ~E_PKEY_HI) | (domain << E_PKEY_SHIFT)) >>> 0,
    }),
    // Linux split_large_page: keep P, R/W, U/S, PWT, PCD, A, D, G, the ignored bits and the high
    // word's attributes; PAT moves from bit 12 of a large leaf to bit 7 of a PTE.
    splitLeaf: (lo, hi, level, physical): EntryWords => {
      const childLevel = level - 1;
      const pat = (lo & E_PAT_LARGE) !== 0;
      const keepLo = (E_P | E_RW | E_US | E_PWT | E_PCD | E_A | E_D | E_G | 0xe00) & lo;
      const formatLo = childLevel === 0 ? (pat ? E_PS : 0) : E_PS | (pat ? E_PAT_LARGE : 0);
      return {
        lo: (keepLo | formatLo | ((physical % TWO_32) & E_ADDR_LO)) >>> 0,
        hi: ((hi & ~E_ADDR_HI) | Math.floor(physical / TWO_32)) >>> 0,
      };
    },
  });
}
