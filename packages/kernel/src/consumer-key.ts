import { Deny, type Denials } from '@pkeysim/core';
import type { ExceptionFrame } from './entry/frame';
import { Errno, errnoName } from './errors';
import type { Kernel } from './kernel';

/** Why a consumer runs without its key: the CPU lacks supervisor keys, or no key could be had. */
export type KeyUnavailableReason = 'unsupported' | 'no-key';

/** A consumer's key, or why it has none (and so runs unprotected). */
export type ConsumerKey =
  | {
      readonly ok: true;
      readonly key: number;
      /** The denials the key rests at between windows (the static consumer's default, or AD when allocated). */
      readonly restDenials: Denials;
    }
  | {
      readonly ok: false;
      readonly reason: KeyUnavailableReason;
      /** The negated errno of the refusal (-EOPNOTSUPP, -ENOSPC, -EINVAL). */
      readonly errno: number;
      readonly message: string;
    };

/**
 * Get a consumer's key the way the series' consumers did: the static design's named key (V7..V10
 * PKS_KEY_*), or pks_key_alloc(owner) with the dynamic design (RFC..V6). "Callers must check and
 * work without PKS" (RFC cover letter, Jul 2020): a refusal is returned, never thrown.
 */
export function acquireConsumerKey(kernel: Kernel, staticName: string, owner: string): ConsumerKey {
  if (!kernel.supported) {
    return {
      ok: false,
      reason: 'unsupported',
      errno: -Errno.EOPNOTSUPP,
      message: `${owner}: supervisor keys are not supported on this machine (-EOPNOTSUPP)`,
    };
  }
  let key: number | undefined;
  if (kernel.config.keyDesign === 'static') {
    key = kernel.keyOf(staticName);
    if (key === undefined) {
      return {
        ok: false,
        reason: 'no-key',
        errno: -Errno.EINVAL,
        message: `${owner}: no static key ${staticName} is configured (-EINVAL)`,
      };
    }
  } else {
    const result = kernel.pks_key_alloc(owner);
    if (result < 0) {
      return {
        ok: false,
        reason: result === -Errno.EOPNOTSUPP ? 'unsupported' : 'no-key',
        errno: result,
        message: `${owner}: pks_key_alloc failed (${errnoName(result)})`,
      };
    }
    key = result;
  }
  return { ok: true, key, restDenials: kernel.keyDefault(key) ?? Deny.Access };
}

/**
 * For a consumer whose data is write-disabled at rest but whose key rests access-disabled (a key from
 * the dynamic allocator is AD until opened, V6 pks_key_alloc): a READ fault is handled by giving the
 * interrupted context WD for the key (pks_update_exception, V10), so reads proceed and writes still
 * fault. Returns true when it handled the fault.
 */
export function relaxReadFault(kernel: Kernel, frame: ExceptionFrame, key: number, write: boolean): boolean {
  if (write) return false;
  return kernel.pks_update_exception(frame, key, Deny.Write) === 0;
}
