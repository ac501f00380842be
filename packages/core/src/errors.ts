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
 * Marks DomainErrors under a process-wide key, so an error thrown by another copy of core (a plugin
 * loaded through `require` while the CLI runs on the ESM build) is still recognised.
 */
const DOMAIN_ERROR_BRAND = Symbol.for('pkeysim.DomainError');

/**
 * The one error type every scheme throws for a refused domain operation. It is thrown before any
 * state changes, so a caller that catches it finds the machine as it was.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly [DOMAIN_ERROR_BRAND] = true;
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

/** True for a {@link DomainError} from any copy of core (optionally with the given code). */
export function isDomainError(error: unknown, code?: DomainErrorCode): error is DomainError {
  const branded =
    typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[DOMAIN_ERROR_BRAND] === true;
  return branded && (code === undefined || (error as DomainError).code === code);
}
