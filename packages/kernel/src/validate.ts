import { AccessKind, echoValue } from '@pkeysim/core';
import { type ErrnoName, KernelError } from './errors';

/**
 * Argument checks for the kernel's public entry points, run before anything changes: a refused
 * call throws {@link KernelError} with the errno Linux would give and leaves state and event
 * counters as they were. Values from callers are echoed escaped and cut short.
 */

/** A whole number in [min, max]; anything else (NaN, 1.5, "3", Infinity) is refused. */
export function requireInteger(
  value: unknown,
  what: string,
  min: number,
  max: number,
  code: ErrnoName = 'EINVAL',
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new KernelError(code, `${what} must be a whole number from ${min} to ${max}, got ${echoValue(value)}`);
}

/**
 * An address: a safe integer (kernel addresses are negative, sign-extended as on x86-64); NaN,
 * fractions, strings and values past 2^53 get -EFAULT, as a bad pointer does.
 */
export function requireAddress(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new KernelError('EFAULT', `${what} must be an integer address, got ${echoValue(value)}`);
}

/** One of core's {@link AccessKind} values (read, write, fetch). */
export function requireAccessKind(kind: unknown, what: string): asserts kind is AccessKind {
  if (kind !== AccessKind.Read && kind !== AccessKind.Write && kind !== AccessKind.Fetch)
    throw new KernelError(
      'EINVAL',
      `${what}: unknown access kind ${echoValue(kind)} (AccessKind.Read, Write or Fetch)`,
    );
}

/** One of a fixed set of strings. */
export function requireOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  what: string,
): asserts value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new KernelError('EINVAL', `${what} must be one of ${allowed.join(', ')}, got ${echoValue(value)}`);
}
