import { runVector, type X86AccessVector } from '../src/vectors';

export type AccessCase = Partial<Omit<X86AccessVector, 'page'>> & { page?: Partial<X86AccessVector['page']> };

/** An access vector with neutral defaults (CPL0, WP=1, keys off, writable user page, key 1). */
export function accessVector(c: AccessCase = {}): X86AccessVector {
  return {
    id: 'case',
    paging: 4,
    cpl: 0,
    cr0_wp: 1,
    cr4_pke: 0,
    cr4_pks: 0,
    cr4_smep: 0,
    cr4_smap: 0,
    eflags_ac: 0,
    pkru: 0,
    pkrs: 0,
    access: 'read',
    ...c,
    page: { user: 1, write: 1, nx: 0, pkey: 1, size: '4K', ...c.page },
  } as X86AccessVector;
}

/** Run the case FOR REAL (runVector) and return the error code, or null when no fault. */
export function errorCodeOf(c: AccessCase = {}): number | null {
  return runVector(accessVector(c)).error_code as number | null;
}

/** AD for key k. */
export const AD = (k: number): number => (1 << (2 * k)) >>> 0;
/** WD for key k. */
export const WD = (k: number): number => (2 << (2 * k)) >>> 0;
