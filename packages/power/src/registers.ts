/**
 * POWER storage-key registers, interrupt status bits and the (simplified) Linux book3s64 PTE.
 * Sources: Power ISA v3.1 Book III (Virtual Page Class Key Protection, AMR/IAMR/UAMOR); Linux
 * arch/powerpc/include/asm/{reg.h,book3s/64/pgtable.h,book3s/64/hash-4k.h,hash-64k.h} and
 * arch/powerpc/mm/book3s64/pkeys.c; QEMU target/ppc/cpu.h.
 */

/** SPR numbers (Linux reg.h SPRN_AMR 0xd, SPRN_IAMR 0x3d, SPRN_UAMOR 0x9d). */
export const SPR = { AMR: 13, IAMR: 61, UAMOR: 157 } as const;
/** The name of a modelled SPR (a key of {@link SPR}). */
export type PowerSpr = keyof typeof SPR;

/** 32 keys in AMR/IAMR/UAMOR, two bits each (Power ISA: AMR bits 2n:2n+1 = key n, big-endian). */
export const POWER_KEYS = 32;
/** AMR_RD_BIT / AMR_WR_BIT / IAMR_EX_BIT (Linux pkeys.c): load-disable 0x1, store-disable 0x2, execute-disable 0x1. */
export const AMR_RD = 0x1;
/** AMR store-disable bit of a key's two-bit field (AMR_WR_BIT). */
export const AMR_WR = 0x2;
/** IAMR execute-disable bit of a key's two-bit field (IAMR_EX_BIT). */
export const IAMR_EX = 0x1;

/** Keys Linux reserves (pkey_early_init_devtree). */
export const KEY_DEFAULT = 0;
/** "key 1 is recommended not to be used. PowerISA(3.0) page 1015, programming note." */
export const KEY_RESERVED_ISA = 1;
/** execute_only_key = 2: PROT_EXEC-only mappings (AMR denies R/W, IAMR allows X). */
export const KEY_EXECUTE_ONLY = 2;
/** Key 3: the kernel's KUAP/KUEP key on hash (Linux v5.11+, HASH_DEFAULT_KERNEL_KEY). */
export const KEY_KERNEL = 3;

/** DSISR bits (Linux reg.h; QEMU cpu.h). */
export const DSISR_NOHPTE = 0x40000000;
/** DSISR: the access was refused by page protection (DSISR_PROTFAULT). */
export const DSISR_PROTFAULT = 0x08000000;
/** DSISR: the faulting access was a store (DSISR_ISSTORE). */
export const DSISR_ISSTORE = 0x02000000;
/** "Access not permitted by virtual page class key protection" (QEMU DSISR_AMR; Linux DSISR_KEYFAULT). */
export const DSISR_AMR = 0x00200000;
/** SRR1 bits of an ISI (QEMU cpu.h: SRR1_NOPTE, SRR1_NOEXEC_GUARD, SRR1_PROTFAULT, SRR1_IAMR = DSISR_AMR). */
export const SRR1_NOPTE = 0x40000000;
/** SRR1 of an ISI: fetch from a no-execute or guarded page (SRR1_NOEXEC_GUARD). */
export const SRR1_NOEXEC_GUARD = 0x10000000;
/** SRR1 of an ISI: the fetch was refused by page protection (SRR1_PROTFAULT). */
export const SRR1_PROTFAULT = 0x08000000;
/** SRR1 of an ISI: the fetch was refused by the IAMR (SRR1_IAMR). */
export const SRR1_IAMR = 0x00200000;
/** Interrupt vectors: Data Storage 0x300, Instruction Storage 0x400. */
export const VECTOR_DSI = 0x300;
/** The Instruction Storage interrupt vector. */
export const VECTOR_ISI = 0x400;

// Linux book3s64 PTE bits (pgtable.h), low word.
/** _PAGE_EXEC: execute allowed. */
export const PTE_EXEC = 0x1;
/** _PAGE_WRITE: write allowed. */
export const PTE_WRITE = 0x2;
/** _PAGE_READ: read allowed. */
export const PTE_READ = 0x4;
/** _PAGE_PRIVILEGED: kernel-only page. */
export const PTE_PRIVILEGED = 0x8;
/** _PAGE_DIRTY: the page has been written. */
export const PTE_DIRTY = 0x80;
/** _PAGE_ACCESSED: the page has been accessed. */
export const PTE_ACCESSED = 0x100;
/** _RPAGE_SW3: the model marks global (kernel-segment) translations with it. */
export const PTE_MODEL_GLOBAL = 0x200;
// High word (bits 63:32).
/** _PAGE_PRESENT, bit 63. */
export const PTE_PRESENT_HI = 0x80000000;
/** _PAGE_PTE, bit 62: a leaf, not a pointer to the next table. */
export const PTE_LEAF_HI = 0x40000000;
/** RPN bits 55:32. */
export const PTE_RPN_HI = 0x00ffffff;
