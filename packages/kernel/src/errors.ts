import { isDomainError } from '@pkeysim/core';

/** Linux errno values the kernel API returns, negated as the kernel returns them (include/uapi/asm-generic/errno-base.h, errno.h). */
export const Errno = {
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EINVAL: 22,
  ENOSPC: 28,
  EOPNOTSUPP: 95,
} as const;
/** The name of an errno the kernel returns ("EINVAL"). */
export type ErrnoName = keyof typeof Errno;

/** "-EINVAL" for -22, for messages and reports. */
export function errnoName(negated: number): string {
  for (const [name, value] of Object.entries(Errno)) if (-value === negated) return `-${name}`;
  return String(negated);
}

/**
 * A misuse of a kernel interface that C would answer with a WARN or BUG (unbalanced kunmap, exit
 * without entry, scheduling while atomic). Thrown before any state changes, so the kernel is as it was.
 * The series' C-style functions (`pks_*`) return negated errnos instead, as the series did.
 */
export class KernelError extends Error {
  override readonly name = 'KernelError';
  constructor(
    readonly code: ErrnoName,
    message: string,
  ) {
    super(message);
  }
  get errno(): number {
    return -Errno[this.code];
  }
}

/** The negated errno a refused core operation corresponds to, for the C-style API. */
export function errnoOf(error: unknown): number {
  if (isDomainError(error)) return error.errno;
  if (error instanceof KernelError) return error.errno;
  throw error;
}
