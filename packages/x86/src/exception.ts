/**
 * Exceptions the model raises. Instructions throw {@link X86Exception}; the access hot path returns
 * a number instead (0 = allowed) so that it never allocates: {@link FAULT_PF} | error code for a
 * page fault, {@link FAULT_GP} for a non-canonical address.
 */
import { formatAddress } from './address';

/** #PF error-code bits (SDM vol. 3, 4.7, figure 4-12). */
export const PF = {
  /** 0: not present; 1: protection violation (including RSVD). */
  P: 1 << 0,
  /** The access was a write. */
  WR: 1 << 1,
  /** The access was a user-mode access (CPL 3). */
  US: 1 << 2,
  /** A reserved bit was set in a paging-structure entry. */
  RSVD: 1 << 3,
  /** Instruction fetch (reported only with EFER.NXE=1 or CR4.SMEP=1). */
  ID: 1 << 4,
  /** Protection-key violation. */
  PK: 1 << 5,
} as const;

/** Returned by an access that raised #PF: `FAULT_PF | errorCode`. */
export const FAULT_PF = 0x10000;
/** Returned by an access to a non-canonical address: #GP(0) (SDM 3.3.7.1). */
export const FAULT_GP = 0x20000;

/** The exception vectors the model raises: invalid opcode, general protection, page fault. */
export type X86ExceptionVector = '#UD' | '#GP' | '#PF';

/** An exception raised by an instruction or an access (raised before any register changes). */
export class X86Exception extends Error {
  override readonly name = 'X86Exception';
  constructor(
    readonly vector: X86ExceptionVector,
    readonly errorCode: number,
    message: string,
    /** The faulting linear address, for #PF. */
    readonly cr2?: number,
  ) {
    super(`${vector}${vector === '#UD' ? '' : `(${errorCode.toString(16)})`}: ${message}`);
  }
}

/** True when `error` is an {@link X86Exception} (with `vector`, when given). */
export function isX86Exception(error: unknown, vector?: X86ExceptionVector): error is X86Exception {
  return error instanceof X86Exception && (vector === undefined || error.vector === vector);
}

/** "P W U PK" style names of the set error-code bits. */
export function describeErrorCode(errorCode: number): string {
  const names: string[] = [];
  names.push(errorCode & PF.P ? 'P' : 'NP');
  if (errorCode & PF.WR) names.push('W');
  if (errorCode & PF.US) names.push('U');
  if (errorCode & PF.RSVD) names.push('RSVD');
  if (errorCode & PF.ID) names.push('I/D');
  if (errorCode & PF.PK) names.push('PK');
  return names.join(' ');
}

/** "#PF error code 0x23 (P W PK) at 0x..." */
export function describeFault(code: number, address: number): string {
  if ((code & FAULT_GP) !== 0) return `#GP(0) non-canonical address ${formatAddress(address)}`;
  const errorCode = code & 0xffff;
  return `#PF error code 0x${errorCode.toString(16)} (${describeErrorCode(errorCode)}) at ${formatAddress(address)}`;
}
