/**
 * Virtual addresses are JS numbers holding the SIGNED (sign-extended) value, exact for |a| < 2^53
 * (team rule). Shifts use Math.floor(a / 2^s), an exact arithmetic shift; `& mask` gives low bits.
 * 64-bit register values are two u32 words (splitU64, hex64). One copy for every architecture.
 */
import { invalidArgument } from './validate';

/** log2 of the base page size: a page number is an address shifted right by 12. */
export const PAGE_SHIFT = 12;
/** The base page size: 4 KiB. */
export const PAGE_SIZE = 0x1000;
/** 2^32, for splitting a number into two u32 words without bit operators. */
export const TWO_32 = 0x100000000;

const EXACT_LIMIT = 2 ** 53;

/** Convert a public-API address (number, or bigint signed or unsigned 64-bit) to the signed number form. */
export function toAddress(address: number | bigint, what = 'address'): number {
  if (typeof address === 'bigint') {
    let signed = address;
    if (signed >= 1n << 63n && signed < 1n << 64n) signed -= 1n << 64n; // unsigned spelling of a negative address
    if (signed <= -BigInt(EXACT_LIMIT) || signed >= BigInt(EXACT_LIMIT)) {
      throw new RangeError(
        `${what} 0x${address.toString(16)} cannot be represented exactly (|address| must be < 2^53)`,
      );
    }
    return Number(signed);
  }
  if (typeof address !== 'number' || !Number.isInteger(address))
    throw new RangeError(`${what} ${String(address)} is not an integer`);
  if (Math.abs(address) >= EXACT_LIMIT)
    throw new RangeError(`${what} ${address} cannot be represented exactly (|address| must be < 2^53)`);
  return address;
}

/** "0xffff888000000000" for a signed address. */
export function formatAddress(address: number): string {
  if (address >= 0) return '0x' + address.toString(16);
  return '0x' + BigInt.asUintN(64, BigInt(address)).toString(16);
}

/**
 * A 64-bit register value as its [hi, lo] u32 words: a number must be a non-negative integer below
 * 2^53 (exact), a bigint in [0, 2^64). Anything else throws DomainError('invalid') naming `what`.
 */
export function splitU64(value: number | bigint, what: string): [number, number] {
  if (typeof value === 'bigint') {
    if (value < 0n || value >= 1n << 64n)
      throw invalidArgument(`${what} 0x${value.toString(16)} does not fit in 64 bits`);
    return [Number(value >> 32n), Number(value & 0xffffffffn)];
  }
  if (!Number.isInteger(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
    throw invalidArgument(`${what} ${String(value)} must be a non-negative integer (use a bigint above 2^53)`);
  }
  return [Math.floor(value / TWO_32), value % TWO_32];
}

/** "0x0000000012345678" for a u32 word. */
export function hex32(word: number): string {
  return '0x' + (word >>> 0).toString(16).padStart(8, '0');
}

/** "0x3cffffffffffffff" for a 64-bit register held as two u32 words. */
export function hex64(hi: number, lo: number): string {
  return '0x' + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}
