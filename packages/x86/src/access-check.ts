/**
 * The access-rights check of SDM vol. 3, 4.6 (with 4.6.2 protection keys) and the #PF error code of
 * 4.7: every rule in one function. Where QEMU and a literal reading of the SDM differ, the model
 * follows QEMU 7.2 (target/i386/tcg/sysemu/excp_helper.c, mmu_translate), which produced the
 * reference vectors; each such place says so.
 */
import { AccessKind } from '@pkeysim/core';
import { PF } from './exception';
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

// Module-local copies of the imported constants: test runners (vitest) rewrite every use of an
// imported binding into a property read on a module object, which would cost more than the check.
const WRITE = AccessKind.Write;
const FETCH = AccessKind.Fetch;
const P = PF.P;
const WR = PF.WR;
const US = PF.US;
const ID = PF.ID;
const PK = PF.PK;
const USER = M_USER;
const WP = M_WP;
const PKE = M_PKE;
const PKS = M_PKS;
const SMEP = M_SMEP;
const SMAP = M_SMAP;
const AC = M_AC;
const NXE = M_NXE;
const PAGE_USER = T_USER;
const PAGE_WRITE = T_WRITE;
const PAGE_XD = T_XD;
const PKEY_SHIFT = T_PKEY_SHIFT;

/** Internal marker on a check result: the fault came from SMEP or SMAP (stripped before reporting). */
export const CHECK_GUARD = 1 << 12;

/** W/R, U/S and I/D of the error code: they describe the access, whatever the cause (SDM 4.7). */
export function accessErrorBits(kind: AccessKind, mode: number): number {
  return (
    (kind === WRITE ? WR : 0) |
    ((mode & USER) !== 0 ? US : 0) | // U/S = 1 for an access at CPL 3 (SDM 4.7)
    // I/D = 1 for a fetch only when EFER.NXE=1 or CR4.SMEP=1 (SDM 4.7; QEMU mmu_translate do_fault).
    (kind === FETCH && (mode & (NXE | SMEP)) !== 0 ? ID : 0)
  );
}

/**
 * Check one access against a cached translation. Returns 0 when allowed, else the #PF error code
 * (possibly with {@link CHECK_GUARD}). `flags` is the TLB word, `mode` the CPU's mode word.
 */
export function checkAccess(flags: number, kind: AccessKind, mode: number, pkru: number, pkrs: number): number {
  const userMode = (mode & USER) !== 0;
  const userPage = (flags & PAGE_USER) !== 0;
  const write = kind === WRITE;
  // A CPL3 access to a supervisor-mode address is a plain U/S violation: PK is not set whatever
  // PKRS says (QEMU mmu_translate checks U/S before keys; vectors.md rule 9).
  if (userMode && !userPage) return accessErrorBits(kind, mode) | P;
  if (kind === FETCH) {
    // XD: no fetch from a page with XD=1 at any level when EFER.NXE=1 (SDM 4.6.1).
    if ((flags & PAGE_XD) !== 0 && (mode & NXE) !== 0) return accessErrorBits(kind, mode) | P;
    // SMEP: no supervisor-mode fetch from a user-mode address, whatever NX, keys, SMAP or AC (SDM 4.6.1).
    if (!userMode && userPage && (mode & SMEP) !== 0) return accessErrorBits(kind, mode) | P | CHECK_GUARD;
    // Instruction fetches are never checked against protection keys (SDM 4.6.2).
    return 0;
  }
  // The register is chosen by the ADDRESS's mode: user-mode address -> PKRU if CR4.PKE=1,
  // supervisor-mode address -> PKRS if CR4.PKS=1 (SDM 4.6.2); a disabled register denies nothing.
  const rights = userPage ? ((mode & PKE) !== 0 ? pkru : 0) : (mode & PKS) !== 0 ? pkrs : 0;
  // Key i: AD = bit 2i, WD = bit 2i+1 (SDM 4.6.2).
  const keyBits = rights >>> (((flags >>> PKEY_SHIFT) & 15) << 1);
  // AD blocks every data read and write; WD blocks user-mode writes always and supervisor-mode
  // writes only when CR0.WP=1 (SDM 4.6.2). A key violation reports PK, even when an R/W or SMAP
  // violation coincides (QEMU mmu_translate tests keys before the R/W prot bits; rules 8 and 13).
  if ((keyBits & 1) !== 0 || (write && (keyBits & 2) !== 0 && (userMode || (mode & WP) !== 0))) {
    return accessErrorBits(kind, mode) | P | PK;
  }
  // SMAP: no supervisor-mode data access to a user-mode address unless EFLAGS.AC=1 (SDM 4.6.1).
  if (!userMode && userPage && (mode & SMAP) !== 0 && (mode & AC) === 0) {
    return accessErrorBits(kind, mode) | P | CHECK_GUARD;
  }
  // R/W: user-mode writes need R/W=1; supervisor-mode writes need it only with CR0.WP=1 (SDM 4.6.1).
  if (write && (flags & PAGE_WRITE) === 0 && (userMode || (mode & WP) !== 0)) return accessErrorBits(kind, mode) | P;
  return 0;
}

/**
 * {@link checkAccess} memoized per mode word, for the hot path. For a given mode the outcome depends
 * only on the translation's U/S, R/W and XD bits, the access kind, and the two key bits (AD, WD) of
 * ONE register; the table is filled by probing checkAccess itself, so the rules stay in one place.
 * Layout: code = table[(index << 2) | keyBits] for index = (flags & 7) | (kind << 3), keyBits being
 * the page key's AD/WD in PKRU for a user-mode address, in PKRS otherwise.
 */
const checkTables: (Int32Array | undefined)[] = [];

export function checkTableFor(mode: number): Int32Array {
  let table = checkTables[mode];
  if (table !== undefined) return table;
  table = new Int32Array(96);
  for (let index = 0; index < 24; index++) {
    const kind = index >>> 3;
    if (kind > 2) continue;
    const flags = index & 7; // key 0: its bits are bits 1:0 of the register
    let pkrsMatters = false;
    let pkruMatters = false;
    for (let bits = 1; bits < 4; bits++) {
      const base = checkAccess(flags, kind as AccessKind, mode, 0, 0);
      if (checkAccess(flags, kind as AccessKind, mode, bits, 0) !== base) pkruMatters = true;
      if (checkAccess(flags, kind as AccessKind, mode, 0, bits) !== base) pkrsMatters = true;
    }
    // The lookup picks the register by the page's U/S bit: check the rules agree (SDM 4.6.2).
    if ((pkruMatters && (flags & PAGE_USER) === 0) || (pkrsMatters && (flags & PAGE_USER) !== 0)) {
      throw new Error('internal: the access check reads a key register the page mode does not select');
    }
    for (let bits = 0; bits < 4; bits++) {
      table[(index << 2) | bits] = pkrsMatters
        ? checkAccess(flags, kind as AccessKind, mode, 0, bits)
        : checkAccess(flags, kind as AccessKind, mode, bits, 0);
    }
  }
  checkTables[mode] = table;
  return table;
}

/** The hot-path form of {@link checkAccess}: the same result, from the mode's table. */
export function lookupCheck(table: Int32Array, flags: number, kind: AccessKind, pkru: number, pkrs: number): number {
  const index = (flags & 7) | (kind << 3);
  const rights = (flags & PAGE_USER) !== 0 ? pkru : pkrs;
  return table[(index << 2) | ((rights >>> (((flags >>> PKEY_SHIFT) & 15) << 1)) & 3)];
}
