/**
 * VMSAv8-64 stage-1 descriptors, 4 KiB granule, 48-bit VA (four levels, Arm ARM D8.3), with the
 * POIndex of FEAT_S1POE in bits 62:60. Kit levels count from the leaf: kit level 0 = Arm level 3.
 * Base permissions follow AArch64.S1DirectBasePermissions as KVM's at.c
 * compute_s1_direct_permissions transcribes it. Hierarchical table attributes (APTable, PXNTable,
 * UXNTable) are written as zero, so the leaf alone decides.
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
  D_AF,
  D_AP_RDONLY,
  D_AP_USER,
  D_NG,
  D_OA_HI,
  D_POINDEX_HI,
  D_POINDEX_SHIFT_HI,
  D_PXN_HI,
  D_SH_INNER,
  D_TABLE_OR_PAGE,
  D_UXN_HI,
  D_VALID,
  POE_OVERLAYS,
} from './registers';

const LEVELS = 4;
const OA_LO = 0xfffff000;

function span(level: number): number {
  return 2 ** (12 + 9 * level);
}

function address(lo: number, hi: number): number {
  return ((lo & OA_LO) >>> 0) + (hi & D_OA_HI) * TWO_32;
}

/** The Arm level (0 = root) of a kit level. */
export function armLevel(kitLevel: number): number {
  return LEVELS - 1 - kitLevel;
}

/** The VMSAv8-64 stage-1 descriptor codec (4 KiB granule, 48-bit VA, FEAT_S1POE POIndex). */
export const arm64Descriptors: DescriptorCodec = Object.freeze({
  name: 'VMSAv8-64 stage 1, 4 KiB granule, 48-bit VA, FEAT_S1POE',
  levels: LEVELS,
  bitsPerLevel: 9,
  pageShift: 12,
  // Blocks at Arm levels 1 (1 GiB) and 2 (2 MiB), pages at level 3 (Arm ARM D8.3.1).
  leafLevels: Object.freeze([0, 1, 2]),
  domainCount: POE_OVERLAYS,
  domainField: 'POIndex, descriptor bits 62:60',

  isValid(lo: number, _hi: number, level: number): boolean {
    // 0b01 at level 3, or at level 0 without FEAT_LPA2, is reserved and faults as invalid (Arm ARM D8.3.1).
    if (level === 0 || level === LEVELS - 1) return (lo & 3) === 3;
    return (lo & D_VALID) !== 0;
  },
  isLeaf(lo: number, _hi: number, level: number): boolean {
    return level === 0 || (lo & D_TABLE_OR_PAGE) === 0;
  },
  outputAddress(lo: number, hi: number, level: number): number {
    const oa = address(lo, hi);
    return level > 0 && (lo & D_TABLE_OR_PAGE) === 0 ? oa - (oa % span(level)) : oa;
  },
  leafFlags(lo: number, hi: number): number {
    const user = (lo & D_AP_USER) !== 0;
    const readOnly = (lo & D_AP_RDONLY) !== 0;
    const userWrite = user && !readOnly;
    // AP[2:1]: 00 EL1 RW; 01 EL1+EL0 RW; 10 EL1 RO; 11 EL1+EL0 RO (KVM compute_s1_direct_permissions).
    // Privileged execute: not PXN and not EL0-writable (Arm ARM R_RHPXM; KVM: px = !(PXN || uw)).
    const privExec = (hi & D_PXN_HI) === 0 && !userWrite;
    const userExec = (hi & D_UXN_HI) === 0;
    return (
      TF_PRIV_READ |
      (readOnly ? 0 : TF_PRIV_WRITE) |
      (privExec ? TF_PRIV_EXEC : 0) |
      (user ? TF_USER | TF_USER_READ : 0) |
      (userWrite ? TF_USER_WRITE : 0) |
      (userExec ? TF_USER_EXEC : 0) |
      ((lo & D_NG) === 0 ? TF_GLOBAL : 0)
    );
  },
  domainOf(_lo: number, hi: number): number {
    return (hi & D_POINDEX_HI) >>> D_POINDEX_SHIFT_HI;
  },
  encodeTable(table: number): EntryWords {
    return { lo: (D_VALID | D_TABLE_OR_PAGE | (table % TWO_32)) >>> 0, hi: Math.floor(table / TWO_32) };
  },
  encodeLeaf(physical: number, level: number, r: LeafRequest): EntryWords {
    // Linux gives kernel text PTE_UXN and user text PTE_PXN (PAGE_KERNEL_EXEC, PAGE_READONLY_EXEC).
    const lo =
      D_VALID |
      (level === 0 ? D_TABLE_OR_PAGE : 0) |
      D_SH_INNER |
      D_AF |
      (r.user ? D_AP_USER : 0) |
      (r.writable ? 0 : D_AP_RDONLY) |
      (r.global ? 0 : D_NG) |
      (physical % TWO_32);
    const hi =
      Math.floor(physical / TWO_32) |
      (r.executable && !r.user ? 0 : D_PXN_HI) |
      (r.executable && r.user ? 0 : D_UXN_HI) |
      (r.domain << D_POINDEX_SHIFT_HI);
    return { lo: lo >>> 0, hi: hi >>> 0 };
  },
  withDomain(lo: number, hi: number, _level: number, domain: number): EntryWords {
    return { lo, hi: ((hi & ~D_POINDEX_HI) | (domain << D_POINDEX_SHIFT_HI)) >>> 0 };
  },
  splitLeaf(lo: number, hi: number, level: number, physical: number): EntryWords {
    const child = level - 1;
    // Keep the attributes (bits 11:2 and the upper attributes); the child is a page at level 3, else a block.
    const attrsLo = lo & 0xffc;
    return {
      lo: (D_VALID | (child === 0 ? D_TABLE_OR_PAGE : 0) | attrsLo | (physical % TWO_32)) >>> 0,
      hi: ((hi & ~D_OA_HI) | Math.floor(physical / TWO_32)) >>> 0,
    };
  },
});
