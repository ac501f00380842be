import { InvalidArgumentError } from 'commander';

/** The largest seed: the kernel's scheduler PRNG takes a 32-bit seed (`demo` and `campaign` share the range). */
export const SEED_MAX = 0xffffffff;

/** A `--seed` value: a whole number 0..{@link SEED_MAX}. */
export function parseSeed(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > SEED_MAX)
    throw new InvalidArgumentError(`must be a whole number from 0 to ${SEED_MAX}`);
  return n;
}
