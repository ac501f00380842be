import { formatAddress, KernelError } from '@pkeysim/kernel';
import { FUTEX_PRIVATE_FLAG, FUTEX_WAIT, UserErrno } from './abi';
import type { UserThread } from './thread';
import { copyFromUser, getUserPages } from './uaccess';
import type { UserEnv } from './world';

/** How get_futex_key() pinned the futex word's page, or why it could not. */
export type FutexKey =
  | { readonly ok: true; readonly shared: boolean; readonly readOnly: boolean }
  | { readonly ok: false; readonly errno: number };

/**
 * get_futex_key() (kernel/futex/core.c): a private futex is keyed by mm and address, no page
 * touched. A shared one pins the page with get_user_pages_fast(FOLL_WRITE) first, which honours the
 * caller's PKRU like any gup of its own memory; on -EFAULT a FUTEX_WAIT retries read-only ("If write
 * access is not required (eg. FUTEX_WAIT), try and get read-only access").
 */
export function getFutexKey(thread: UserThread, uaddr: number, shared: boolean): FutexKey {
  // "The futex address must be 'naturally' aligned."
  if (!Number.isSafeInteger(uaddr) || uaddr % 4 !== 0) return { ok: false, errno: -UserErrno.EINVAL };
  if (!shared) return { ok: true, shared, readOnly: false };
  if (getUserPages(thread, uaddr, 1, true) === 1) return { ok: true, shared, readOnly: false };
  const read = getUserPages(thread, uaddr, 1, false);
  return read === 1 ? { ok: true, shared, readOnly: true } : { ok: false, errno: read < 0 ? read : -UserErrno.EFAULT };
}

/**
 * futex(uaddr, FUTEX_WAIT[|FUTEX_PRIVATE_FLAG], val, timeout): -EAGAIN when the word no longer
 * holds `val` (futex_wait_setup), -EFAULT when it cannot be read under the caller's PKRU
 * (get_futex_value_locked is a copy_from_user). When it still holds `val` the thread would sleep:
 * with a timeout nothing in this model wakes it first, so -ETIMEDOUT; without one it would sleep
 * forever, which the model refuses with a KernelError (EINVAL) saying so.
 */
export function futexWait(
  w: UserEnv,
  thread: UserThread,
  uaddr: number,
  op: number,
  val: number,
  timeout: boolean,
): number {
  if (op !== FUTEX_WAIT && op !== (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)) return -UserErrno.EINVAL;
  const key = getFutexKey(thread, uaddr, (op & FUTEX_PRIVATE_FLAG) === 0);
  if (!key.ok) return key.errno;
  const word = copyFromUser(w, thread, uaddr, 4);
  if (typeof word === 'number') return word;
  const value = new DataView(word.buffer, word.byteOffset, 4).getUint32(0, true);
  if (value !== val >>> 0) return -UserErrno.EAGAIN;
  if (timeout) return -UserErrno.ETIMEDOUT;
  throw new KernelError(
    'EINVAL',
    `${thread.describe()}: FUTEX_WAIT on ${formatAddress(uaddr)} would sleep forever (the word holds ${val >>> 0} and nothing wakes it); pass a timeout`,
  );
}
