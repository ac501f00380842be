/** A Program interrupt raised by an instruction, before any register changes. */
export class PowerException extends Error {
  override readonly name = 'PowerException';
  constructor(
    /** 'privileged': a privileged instruction in problem state (Program interrupt, SRR1 bit 49 / PRIV). */
    readonly kind: 'privileged',
    message: string,
  ) {
    super(message);
  }
}

/** True when `error` is a {@link PowerException}. */
export function isPowerException(error: unknown): error is PowerException {
  return error instanceof PowerException;
}
