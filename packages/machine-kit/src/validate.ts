/**
 * Argument checks for the public entry points of the kit and of the architectures built on it. A
 * bad argument throws core's DomainError('invalid') (EINVAL) BEFORE anything changes: no state, no
 * event counter (issue 16: the library validates before it mutates).
 */
import { AccessKind, DomainError } from '@pkeysim/core';

/** A DomainError('invalid') with `message`. */
export function invalidArgument(message: string): DomainError {
  return new DomainError('invalid', message);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** `value` must be an integer in [min, max]; returns it. */
export function checkInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`${what} ${show(value)} must be an integer ${min}..${max}`);
  }
  return value;
}

/** `value` must be a finite number; returns it. */
export function checkFinite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidArgument(`${what} ${show(value)} must be a finite number`);
  }
  return value;
}

/** True for AccessKind.Read, Write or Fetch. Cheap enough for the access path. */
export function isAccessKind(kind: unknown): kind is AccessKind {
  return kind === AccessKind.Read || kind === AccessKind.Write || kind === AccessKind.Fetch;
}

/** An access kind must be AccessKind.Read, Write or Fetch: never taken as a not-present fault. */
export function checkAccessKind(kind: unknown): AccessKind {
  if (!isAccessKind(kind)) {
    throw invalidArgument(`access kind ${show(kind)} must be AccessKind.Read (0), Write (1) or Fetch (2)`);
  }
  return kind;
}

/** A virtual address of an access: an integer number with |address| < 2^53. */
export function checkAccessAddress(address: unknown): number {
  if (typeof address !== 'number' || !Number.isInteger(address) || Math.abs(address) >= 2 ** 53) {
    throw invalidArgument(`virtual address ${show(address)} must be an integer with |address| < 2^53`);
  }
  return address;
}

/** A byte buffer argument. */
export function checkBytes(bytes: unknown, what = 'bytes'): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument(`${what} must be a Uint8Array, got ${show(bytes)}`);
  return bytes;
}
