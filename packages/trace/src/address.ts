/**
 * Addresses are JS numbers holding the signed (sign-extended canonical) linear address, as everywhere
 * in pkeysim: exact for |address| < 2^53. These helpers convert text and bigints with a range check.
 */

const TWO_64 = 1n << 64n;
const TWO_63 = 1n << 63n;
const MAX_EXACT = 1n << 53n;

/**
 * A 64-bit unsigned value (what a trace or a policy writes) as the signed address number. Throws a
 * RangeError when the value does not fit 64 bits or is not exactly representable.
 */
export function addressFromUnsigned64(value: bigint): number {
  if (value < 0n || value >= TWO_64) throw new RangeError(`0x${value.toString(16)} does not fit in 64 bits`);
  const signed = value >= TWO_63 ? value - TWO_64 : value;
  if (signed >= MAX_EXACT || signed <= -MAX_EXACT) {
    throw new RangeError(`0x${value.toString(16)} is outside the exactly representable range (|address| < 2^53)`);
  }
  return Number(signed);
}

/** "0x1ffefffd18"; a negative (kernel-half) address prints as its 64-bit two's complement. */
export function formatAddress(address: number): string {
  const unsigned = address < 0 ? TWO_64 + BigInt(address) : BigInt(address);
  return '0x' + unsigned.toString(16);
}
