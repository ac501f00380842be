/**
 * The cached form of a translation (one Int32 per TLB entry) and the CPU's access-check mode word.
 * A TLB entry caches the translation with the combined U/S and R/W, XD and the KEY, never the
 * rights (SDM vol. 3, 4.10.2.2): the rights are read from PKRU/PKRS at every access.
 */

/** U/S=1 at every level: a user-mode address (SDM 4.6). */
export const T_USER = 1 << 0;
/** R/W=1 at every level (ANDed, SDM 4.6). */
export const T_WRITE = 1 << 1;
/** XD=1 at some level (ORed, SDM 4.6). */
export const T_XD = 1 << 2;
/** The leaf's D bit as cached; a write through an entry with D=0 re-walks to set it (SDM 4.8). */
export const T_DIRTY = 1 << 3;
/** A global translation (leaf G=1 with CR4.PGE=1): survives CR3 writes (SDM 4.10.2.4). */
export const T_GLOBAL = 1 << 4;
/** Leaf size: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB (each step 9 more bits of the VPN). */
export const T_SIZE_SHIFT = 5;
export const T_SIZE_MASK = 3 << T_SIZE_SHIFT;
/** The protection key, bits 62:59 of the leaf. */
export const T_PKEY_SHIFT = 8;

export function translationPkey(flags: number): number {
  return (flags >>> T_PKEY_SHIFT) & 15;
}

export function translationSizeCode(flags: number): number {
  return (flags & T_SIZE_MASK) >>> T_SIZE_SHIFT;
}

/** Mode word: the CPU state the access check depends on, recomputed on every register change. */
export const M_USER = 1 << 0; // CPL = 3
export const M_WP = 1 << 1; // CR0.WP
export const M_PKE = 1 << 2; // CR4.PKE
export const M_PKS = 1 << 3; // CR4.PKS
export const M_SMEP = 1 << 4; // CR4.SMEP
export const M_SMAP = 1 << 5; // CR4.SMAP
export const M_AC = 1 << 6; // EFLAGS.AC
export const M_NXE = 1 << 7; // EFER.NXE
