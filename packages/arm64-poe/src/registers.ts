/**
 * Register and descriptor bits of the arm64 Permission Overlay Extension (FEAT_S1POE) and the parts
 * of VMSAv8-64 the model uses. Names follow Linux arch/arm64/include/asm/{pgtable-hwdef.h,por.h,
 * esr.h} and arch/arm64/tools/sysreg.
 */

/** Overlay permission bits of a Perm<m> field (Linux por.h POE_R/POE_X/POE_W). */
export const POE_R = 0x1;
/** Overlay permission: execute (Linux por.h POE_X). */
export const POE_X = 0x2;
/** Overlay permission: write (Linux por.h POE_W). */
export const POE_W = 0x4;
/** Overlay permission: read, write and execute. */
export const POE_RWX = POE_R | POE_X | POE_W;
/** 8..15 are reserved and behave as no access (Arm ARM D8.4.1.3; KVM at.c compute_s1_overlay_permissions). */
export const POE_FIELD_MASK = 0xf;
/** Bits per Perm<m> field of POR_ELx (Perm<m> = bits 4m+3:4m). */
export const POR_BITS_PER_INDEX = 4;
/** POIndex is 3 bits with 64-bit descriptors: 8 overlays (Linux arch_max_pkey() = 8). */
export const POE_OVERLAYS = 8;
/** POR_EL0_INIT: index 0 RWX, every other index no access (Linux arch/arm64/include/asm/por.h). */
export const POR_INIT = POE_RWX;

/** TCR2_EL1.E0POE (bit 2) and TCR2_EL1.POE (bit 3) (Linux arch/arm64/tools/sysreg). */
export const TCR2_E0POE = 1 << 2;
/** TCR2_EL1.POE (bit 3): permission overlays apply to EL1 accesses. */
export const TCR2_POE = 1 << 3;
/** SCTLR_EL1.WXN (bit 19): writable implies execute-never. */
export const SCTLR_WXN = 1 << 19;
/** CPACR_EL1.E0POE (bit 29): EL0 may access POR_EL0 without trapping (Linux cpu_enable_poe). */
export const CPACR_E0POE = 1 << 29;

/** ESR_ELx exception classes (Linux esr.h ESR_ELx_EC_*). */
export const EC_IABT_LOW = 0x20;
/** Instruction abort taken without a change in EL (ESR_ELx_EC_IABT_CUR). */
export const EC_IABT_CUR = 0x21;
/** Data abort from a lower EL (ESR_ELx_EC_DABT_LOW). */
export const EC_DABT_LOW = 0x24;
/** Data abort taken without a change in EL (ESR_ELx_EC_DABT_CUR). */
export const EC_DABT_CUR = 0x25;
/** ESR_ELx.IL (bit 25): 32-bit instruction. */
export const ESR_IL = 2 ** 25;
/** ESR_ELx.WnR (ISS bit 6) of a data abort. */
export const ESR_WNR = 1 << 6;
/** ESR_ELx ISS2.Overlay: ISS2 bit 6 = ESR bit 38 (Linux esr.h ESR_ELx_Overlay). */
export const ESR_ISS2_OVERLAY = 2 ** 38;
/** Fault status codes: translation fault level n = 0b0001nn, permission fault level n = 0b0011nn (Linux ESR_ELx_FSC_FAULT/PERM). */
export const FSC_TRANSLATION = 0x04;
/** Permission fault, level 0 (add the level; Linux ESR_ELx_FSC_PERM). */
export const FSC_PERMISSION = 0x0c;

// Stage-1 descriptor bits, low word (Linux pgtable-hwdef.h).
/** Bit 0: the descriptor is valid (PTE_VALID). */
export const D_VALID = 1 << 0;
/** Bit 1: table (levels 0-2) or page (level 3); clear = block. */
export const D_TABLE_OR_PAGE = 1 << 1;
/** AP[1]: EL0 access (PTE_USER). */
export const D_AP_USER = 1 << 6;
/** AP[2]: read-only (PTE_RDONLY). */
export const D_AP_RDONLY = 1 << 7;
/** SH[1:0] = inner shareable (PTE_SHARED). */
export const D_SH_INNER = 3 << 8;
/** Access flag, set when mapping (Linux PROT_DEFAULT has PTE_AF): no access-flag faults are modelled. */
export const D_AF = 1 << 10;
/** Not global (PTE_NG). */
export const D_NG = 1 << 11;
// High word (bits 63:32).
/** Output address bits 47:32. */
export const D_OA_HI = 0xffff;
/** PXN, bit 53 (PTE_PXN). */
export const D_PXN_HI = 1 << 21;
/** UXN, bit 54 (PTE_UXN). */
export const D_UXN_HI = 1 << 22;
/** POIndex, bits 62:60 (Linux PTE_PO_IDX_MASK GENMASK_ULL(62, 60)). */
export const D_POINDEX_SHIFT_HI = 28;
/** POIndex field mask in the high word (bits 62:60 of the descriptor). */
export const D_POINDEX_HI = 7 << D_POINDEX_SHIFT_HI;
