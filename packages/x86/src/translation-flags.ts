/**
 * The check word of {@link checkAccess} (the combined U/S, R/W and XD of a translation and its KEY)
 * and the CPU's access-check mode word. The TLB itself is the machine kit's: its entries carry the
 * same bits as TF_X86_* (codec.ts) and the key as the kit's domain, never the rights (SDM vol. 3,
 * 4.10.2.2): the rights are read from PKRU/PKRS at every access.
 */

/** U/S=1 at every level: a user-mode address (SDM 4.6). */
export const T_USER = 1 << 0;
/** R/W=1 at every level (ANDed, SDM 4.6). */
export const T_WRITE = 1 << 1;
/** XD=1 at some level (ORed, SDM 4.6). */
export const T_XD = 1 << 2;
/** The protection key, bits 62:59 of the leaf. */
export const T_PKEY_SHIFT = 8;

/** Mode word: the CPU state the access check depends on, recomputed on every register change. */
export const M_USER = 1 << 0; // CPL = 3
/** Mode word bit: CR0.WP is set. */
export const M_WP = 1 << 1; // CR0.WP
/** Mode word bit: CR4.PKE is set (PKRU applies to user-mode addresses). */
export const M_PKE = 1 << 2; // CR4.PKE
/** Mode word bit: CR4.PKS is set (IA32_PKRS applies to supervisor-mode addresses). */
export const M_PKS = 1 << 3; // CR4.PKS
/** Mode word bit: CR4.SMEP is set. */
export const M_SMEP = 1 << 4; // CR4.SMEP
/** Mode word bit: CR4.SMAP is set. */
export const M_SMAP = 1 << 5; // CR4.SMAP
/** Mode word bit: EFLAGS.AC is set. */
export const M_AC = 1 << 6; // EFLAGS.AC
/** Mode word bit: EFER.NXE is set (XD is honoured). */
export const M_NXE = 1 << 7; // EFER.NXE
