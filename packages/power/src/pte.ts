/**
 * The page table the model walks: Linux book3s64 PTEs (pgtable.h) in a 4-level radix tree of
 * 512-entry tables, 48-bit halves. SIMPLIFICATION: the hashed page table is not modelled. A TLB miss
 * stands for the whole hash-fault path (hash_page inserting an HPTE built from the Linux PTE); the
 * key is taken from the PTE as pte_to_hpte_pkey_bits copies it into HPTE_R_KEY. With 64 KiB Linux
 * pages the PTE holds 5 key bits (bits 60:56, _RPAGE_PKEY_BIT0..4); with 4 KiB pages only 3
 * (bits 59:57, hash-4k.h H_PTE_PKEY_BIT0..2), which is why Linux uses only 8 keys there.
 */
import {
  type DescriptorCodec,
  type EntryWords,
  type LeafRequest,
  TF_GLOBAL,
  TF_PRIV_EXEC,
  TF_PRIV_READ,
  TF_PRIV_WRITE,
  TF_USER,
  TF_USER_EXEC,
  TF_USER_READ,
  TF_USER_WRITE,
  TWO_32,
} from '@pkeysim/machine-kit';
import {
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_EXEC,
  PTE_LEAF_HI,
  PTE_MODEL_GLOBAL,
  PTE_PRESENT_HI,
  PTE_PRIVILEGED,
  PTE_READ,
  PTE_RPN_HI,
  PTE_WRITE,
} from './registers';

/** Linux base page size: 65536 (default on ppc64, 5 key bits) or 4096 (CONFIG_PPC_4K_PAGES, 3 key bits). */
export type LinuxPageSize = 65536 | 4096;

function span(level: number): number {
  return 2 ** (12 + 9 * level);
}

/** The descriptor codec for Linux book3s64 PTEs (walked as a 4-level radix tree), with the key bits the base page size allows (5 for 64 KiB, 3 for 4 KiB). */
export function powerPteCodec(linuxPageSize: LinuxPageSize): DescriptorCodec {
  // One frozen codec per page size, shared by every machine: the walk's calls into it see one
  // function each, which V8 inlines.
  const cached = codecs.get(linuxPageSize);
  if (cached !== undefined) return cached;
  const codec = makePteCodec(linuxPageSize);
  codecs.set(linuxPageSize, codec);
  return codec;
}

const codecs = new Map<LinuxPageSize, DescriptorCodec>();

function makePteCodec(linuxPageSize: LinuxPageSize): DescriptorCodec {
  const keyBits = linuxPageSize === 4096 ? 3 : 5;
  // Bit 56 + i holds key bit i (64K); bit 57 + i (4K, H_PTE_PKEY_BIT0 = _RPAGE_PKEY_BIT1).
  const keyShiftHi = linuxPageSize === 4096 ? 25 : 24;
  const keyMask = (2 ** keyBits - 1) << keyShiftHi;
  const address = (lo: number, hi: number): number => ((lo & 0xfffff000) >>> 0) + (hi & PTE_RPN_HI) * TWO_32;
  return Object.freeze({
    name: `Linux book3s64 PTE (hash MMU, ${linuxPageSize === 4096 ? '4 KiB' : '64 KiB'} Linux pages), 4-level radix tree`,
    levels: 4,
    bitsPerLevel: 9,
    pageShift: 12,
    leafLevels: Object.freeze([0, 1, 2]),
    domainCount: 2 ** keyBits,
    domainField: linuxPageSize === 4096 ? 'PTE bits 59:57 (H_PTE_PKEY_BIT0..2)' : 'PTE bits 60:56 (H_PTE_PKEY_BIT0..4)',
    isValid: (_lo: number, hi: number): boolean => (hi & PTE_PRESENT_HI) !== 0,
    isLeaf: (_lo: number, hi: number, level: number): boolean => level === 0 || (hi & PTE_LEAF_HI) !== 0,
    outputAddress(lo: number, hi: number, level: number): number {
      const a = address(lo, hi);
      return level > 0 && (hi & PTE_LEAF_HI) !== 0 ? a - (a % span(level)) : a;
    },
    leafFlags(lo: number): number {
      const r = (lo & PTE_READ) !== 0;
      const w = (lo & PTE_WRITE) !== 0;
      const x = (lo & PTE_EXEC) !== 0;
      // _PAGE_PRIVILEGED: problem state has no access (htab_convert_pte_flags gives PP for kernel-only).
      const user = (lo & PTE_PRIVILEGED) === 0;
      return (
        (r ? TF_PRIV_READ : 0) |
        (w ? TF_PRIV_WRITE : 0) |
        (x ? TF_PRIV_EXEC : 0) |
        (user ? TF_USER | (r ? TF_USER_READ : 0) | (w ? TF_USER_WRITE : 0) | (x ? TF_USER_EXEC : 0) : 0) |
        ((lo & PTE_MODEL_GLOBAL) !== 0 ? TF_GLOBAL : 0)
      );
    },
    domainOf: (_lo: number, hi: number): number => (hi & keyMask) >>> keyShiftHi,
    encodeTable: (table: number): EntryWords => ({
      lo: (table % TWO_32) >>> 0,
      hi: (PTE_PRESENT_HI | Math.floor(table / TWO_32)) >>> 0,
    }),
    encodeLeaf(physical: number, _level: number, r: LeafRequest): EntryWords {
      const lo =
        PTE_READ |
        (r.writable ? PTE_WRITE | PTE_DIRTY : 0) |
        (r.executable ? PTE_EXEC : 0) |
        (r.user ? 0 : PTE_PRIVILEGED) |
        PTE_ACCESSED |
        (r.global ? PTE_MODEL_GLOBAL : 0) |
        (physical % TWO_32);
      const hi = PTE_PRESENT_HI | PTE_LEAF_HI | Math.floor(physical / TWO_32) | (r.domain << keyShiftHi);
      return { lo: lo >>> 0, hi: hi >>> 0 };
    },
    withDomain: (lo: number, hi: number, _level: number, domain: number): EntryWords => ({
      lo,
      hi: ((hi & ~keyMask) | (domain << keyShiftHi)) >>> 0,
    }),
    splitLeaf: (lo: number, hi: number, _level: number, physical: number): EntryWords => ({
      lo: ((lo & 0xfff) | (physical % TWO_32)) >>> 0,
      hi: ((hi & ~PTE_RPN_HI) | Math.floor(physical / TWO_32)) >>> 0,
    }),
  });
}
