/**
 * The access-rights check of SDM vol. 3, 4.6 (with 4.6.2 protection keys) and the #PF error code of
 * 4.7: every rule in one function. Where QEMU and a literal reading of the SDM differ, the model
 * follows QEMU 7.2 (target/i386/tcg/sysemu/excp_helper.c, mmu_translate), which produced the
 * reference vectors; each such place says so.
 */
import { AccessKind } from '@pkeysim/core';
import { ModeCheckTables } from '@pkeysim/machine-kit';
import { FAULT_PF, PF } from './exception';
import {
  M_AC,
  M_NXE,
  M_PKE,
  M_PKS,
  M_SMAP,
  M_SMEP,
  M_USER,
  M_WP,
  T_PKEY_SHIFT,
  T_USER,
  T_WRITE,
  T_XD,
} from './translation-flags';

/** Internal marker on a check result: the fault came from SMEP or SMAP (stripped before reporting). */
export const CHECK_GUARD = 1 << 12;

/** W/R, U/S and I/D of the error code: they describe the access, whatever the cause (SDM 4.7). */
export function accessErrorBits(kind: AccessKind, mode: number): number {
  return (
    (kind === AccessKind.Write ? PF.WR : 0) |
    ((mode & M_USER) !== 0 ? PF.US : 0) | // U/S = 1 for an access at CPL 3 (SDM 4.7)
    // I/D = 1 for a fetch only when EFER.NXE=1 or CR4.SMEP=1 (SDM 4.7; QEMU mmu_translate do_fault).
    (kind === AccessKind.Fetch && (mode & (M_NXE | M_SMEP)) !== 0 ? PF.ID : 0)
  );
}

/**
 * Check one access against a cached translation. Returns 0 when allowed, else the #PF error code
 * (possibly with `CHECK_GUARD`). `flags` is the TLB word, `mode` the CPU's mode word.
 */
export function checkAccess(flags: number, kind: AccessKind, mode: number, pkru: number, pkrs: number): number {
  const userMode = (mode & M_USER) !== 0;
  const userPage = (flags & T_USER) !== 0;
  const write = kind === AccessKind.Write;
  // A CPL3 access to a supervisor-mode address is a plain U/S violation: PK is not set whatever
  // PKRS says (QEMU mmu_translate checks U/S before keys; vectors.md rule 9).
  if (userMode && !userPage) return accessErrorBits(kind, mode) | PF.P;
  if (kind === AccessKind.Fetch) {
    // XD: no fetch from a page with XD=1 at any level when EFER.NXE=1 (SDM 4.6.1).
    if ((flags & T_XD) !== 0 && (mode & M_NXE) !== 0) return accessErrorBits(kind, mode) | PF.P;
    // SMEP: no supervisor-mode fetch from a user-mode address, whatever NX, keys, SMAP or AC (SDM 4.6.1).
    if (!userMode && userPage && (mode & M_SMEP) !== 0) return accessErrorBits(kind, mode) | PF.P | CHECK_GUARD;
    // Instruction fetches are never checked against protection keys (SDM 4.6.2).
    return 0;
  }
  // The register is chosen by the ADDRESS's mode: user-mode address -> PKRU if CR4.PKE=1,
  // supervisor-mode address -> PKRS if CR4.PKS=1 (SDM 4.6.2); a disabled register denies nothing.
  const rights = userPage ? ((mode & M_PKE) !== 0 ? pkru : 0) : (mode & M_PKS) !== 0 ? pkrs : 0;
  // Key i: AD = bit 2i, WD = bit 2i+1 (SDM 4.6.2).
  const keyBits = rights >>> (((flags >>> T_PKEY_SHIFT) & 15) << 1);
  // AD blocks every data read and write; WD blocks user-mode writes always and supervisor-mode
  // writes only when CR0.WP=1 (SDM 4.6.2). A key violation reports PK, even when an R/W or SMAP
  // violation coincides (QEMU mmu_translate tests keys before the R/W prot bits; rules 8 and 13).
  if ((keyBits & 1) !== 0 || (write && (keyBits & 2) !== 0 && (userMode || (mode & M_WP) !== 0))) {
    return accessErrorBits(kind, mode) | PF.P | PF.PK;
  }
  // SMAP: no supervisor-mode data access to a user-mode address unless EFLAGS.AC=1 (SDM 4.6.1).
  if (!userMode && userPage && (mode & M_SMAP) !== 0 && (mode & M_AC) === 0) {
    return accessErrorBits(kind, mode) | PF.P | CHECK_GUARD;
  }
  // R/W: user-mode writes need R/W=1; supervisor-mode writes need it only with CR0.WP=1 (SDM 4.6.1).
  if (write && (flags & T_WRITE) === 0 && (userMode || (mode & M_WP) !== 0)) return accessErrorBits(kind, mode) | PF.P;
  return 0;
}

/**
 * The check of one access for ONE key register's two bits, given the T_USER/T_WRITE/T_XD bits of the
 * translation: the register is chosen by the page's U/S bit, as the lookup does (SDM 4.6.2). Probing
 * both registers verifies that the rules never read the register the page's mode does not select.
 */
function checkWithKeyBits(tBits: number, kind: AccessKind, mode: number, keyBits: number): number {
  const userPage = (tBits & T_USER) !== 0;
  const viaPkru = checkAccess(tBits, kind, mode, keyBits, 0);
  const viaPkrs = checkAccess(tBits, kind, mode, 0, keyBits);
  const base = checkAccess(tBits, kind, mode, 0, 0);
  if ((userPage && viaPkrs !== base) || (!userPage && viaPkru !== base)) {
    throw new Error('internal: the access check reads a key register the page mode does not select');
  }
  return userPage ? viaPkru : viaPkrs;
}

/**
 * {@link checkAccess} memoized per mode word (machine-kit ModeCheckTables), in the T_* layout:
 * code = table[(((flags & 7) | (kind << 3)) << 2) | keyBits], keyBits being the page key's AD/WD in
 * PKRU for a user-mode address, in PKRS otherwise.
 */
const checkTables = new ModeCheckTables({
  indexBits: 3,
  rightsBits: 2,
  modes: 256,
  check: checkWithKeyBits,
});

/** The memoized access-check table for a CPU mode word. */
export function checkTableFor(mode: number): Int32Array {
  return checkTables.tableFor(mode);
}

/** The hot-path form of {@link checkAccess}: the same result, from the mode's table. */
export function lookupCheck(table: Int32Array, flags: number, kind: AccessKind, pkru: number, pkrs: number): number {
  const index = (flags & 7) | (kind << 3);
  const rights = (flags & T_USER) !== 0 ? pkru : pkrs;
  return table[(index << 2) | ((rights >>> (((flags >>> T_PKEY_SHIFT) & 15) << 1)) & 3)];
}

/**
 * The tables the machine's access path reads: indexed by the TF_X86_* bits of a kit translation
 * (user, write, EXECUTABLE: bit 2 is XD inverted), holding the whole access result, FAULT_PF | error
 * code (with CHECK_GUARD for SMEP/SMAP), or 0.
 */
export const machineCheckTables = new ModeCheckTables({
  indexBits: 3,
  rightsBits: 2,
  modes: 256,
  check: (index, kind, mode, keyBits) => {
    const code = checkWithKeyBits(index ^ T_XD, kind, mode, keyBits);
    return code === 0 ? 0 : FAULT_PF | code;
  },
});
