/** Why a protection-domain operation was refused. */
export type DomainErrorCode =
  /** No free domain is left (Linux: -ENOSPC). */
  | 'exhausted'
  /** The machine or scheme cannot do this (Linux: -EOPNOTSUPP). */
  | 'unsupported'
  /** A bad argument: a reserved, unallocated or out-of-range domain, or bad rights (Linux: -EINVAL). */
  | 'invalid';

const ERRNO: Record<DomainErrorCode, { name: string; value: number }> = {
  exhausted: { name: 'ENOSPC', value: 28 },
  unsupported: { name: 'EOPNOTSUPP', value: 95 },
  invalid: { name: 'EINVAL', value: 22 },
};

/**
 * The one error type every scheme throws for a refused domain operation. It is thrown before any
 * state changes, so a caller that catches it finds the machine as it was.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
  }
  /** The Linux errno this refusal corresponds to, negated as the kernel returns it (-28, -95, -22). */
  get errno(): number {
    return -ERRNO[this.code].value;
  }
  get errnoName(): string {
    return ERRNO[this.code].name;
  }
}

export function isDomainError(error: unknown, code?: DomainErrorCode): error is DomainError {
  return error instanceof DomainError && (code === undefined || error.code === code);
}
