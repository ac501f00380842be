/** A synchronous exception raised by a system-register instruction, before any register changes. */
export type Arm64ExceptionKind =
  /** UNDEFINED: the register does not exist at this EL or without the feature (EC 0x00). */
  | 'undefined'
  /** Trapped to EL1 by a CPACR_EL1 control (POR_EL0 at EL0 with CPACR_EL1.E0POE = 0). */
  | 'trap';

/** A synchronous exception raised by a system-register instruction (see {@link Arm64ExceptionKind}). */
export class Arm64Exception extends Error {
  override readonly name = 'Arm64Exception';
  constructor(
    readonly kind: Arm64ExceptionKind,
    message: string,
  ) {
    super(message);
  }
}

/** True when `error` is an {@link Arm64Exception}. */
export function isArm64Exception(error: unknown): error is Arm64Exception {
  return error instanceof Arm64Exception;
}
