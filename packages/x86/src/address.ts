/**
 * Linear addresses are JS numbers holding the SIGNED (sign-extended canonical) value, exact for
 * |address| < 2^53 (team rule). Shifts use Math.floor(a / 2^s), which is an exact arithmetic shift.
 */
import { invalidArgument } from '@pkeysim/machine-kit';

// The page size, 2^32 and the address format are the machine kit's (one copy for every architecture).
export { PAGE_SHIFT, PAGE_SIZE, TWO_32, formatAddress } from '@pkeysim/machine-kit';

/** The largest magnitude a number can hold exactly. */
const EXACT_LIMIT = 2 ** 53;

/** Convert a public-API address (number or bigint, signed or unsigned 64-bit) to the signed number form. */
export function toLinearAddress(address: number | bigint, what = 'address'): number {
  if (typeof address === 'bigint') {
    let signed = address;
    if (signed >= 1n << 63n) signed -= 1n << 64n; // unsigned 64-bit spelling of a negative address
    if (signed < -(1n << 63n) || signed >= 1n << 63n) {
      throw invalidArgument(`${what} 0x${address.toString(16)} does not fit in 64 bits`);
    }
    if (signed <= -BigInt(EXACT_LIMIT) || signed >= BigInt(EXACT_LIMIT)) {
      throw invalidArgument(
        `${what} 0x${BigInt.asUintN(64, address).toString(16)} cannot be represented exactly (|address| must be < 2^53)`,
      );
    }
    return Number(signed);
  }
  if (!Number.isInteger(address)) throw invalidArgument(`${what} ${String(address)} is not an integer`);
  if (Math.abs(address) >= EXACT_LIMIT)
    throw invalidArgument(`${what} ${address} cannot be represented exactly (|address| must be < 2^53)`);
  return address;
}

/** Canonical: bits 63:47 (4-level) or 63:56 (5-level) all equal (SDM 3.3.7.1, 4.5). */
export function isCanonical(address: number, pagingLevels: 4 | 5): boolean {
  const half = pagingLevels === 5 ? 2 ** 56 : 2 ** 47;
  return address >= -half && address < half;
}

/** The 9-bit table index of `address` at `level` (1 = PT ... 5 = PML5). */
const LEVEL_SPAN = [0, 2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39, 2 ** 48];

/** The 9-bit table index of `address` at `level` (1 = PT ... 5 = PML5). */
export function tableIndex(address: number, level: number): number {
  return Math.floor(address / LEVEL_SPAN[level]) & 511;
}

/** Validate a physical address: a non-negative integer below 2^maxPhysAddr. */
export function checkPhysical(physical: number, maxPhysAddr: number, what = 'physical address'): void {
  if (!Number.isInteger(physical) || physical < 0 || physical >= 2 ** maxPhysAddr) {
    throw invalidArgument(`${what} ${String(physical)} must be an integer in [0, 2^${maxPhysAddr})`);
  }
}
