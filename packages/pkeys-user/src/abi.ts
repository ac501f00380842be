import { Errno } from '@pkeysim/kernel';

/**
 * The user-space ABI the pkey syscalls speak, with Linux's values: mman-common.h (PROT_*, MAP_*,
 * PKEY_*), asm-generic/signal.h and siginfo.h (signals, si_code), errno-base.h (errnos).
 */
export const PROT_NONE = 0x0;
/** Pages may be read. */
export const PROT_READ = 0x1;
/** Pages may be written. */
export const PROT_WRITE = 0x2;
/** Pages may be executed. */
export const PROT_EXEC = 0x4;
/** arch_validate_prot() (include/linux/mman.h): any other bit -> EINVAL. PROT_SEM is accepted and ignored. */
export const PROT_SEM = 0x8;
/** Every PROT_* bit mprotect and mmap accept. */
export const PROT_VALID_MASK = PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM;

/** mmap flag: share the mapping. */

export const MAP_SHARED = 0x01;
/** mmap flag: a private copy-on-write mapping. */
export const MAP_PRIVATE = 0x02;
/** mmap flag: map exactly at the given address. */
export const MAP_FIXED = 0x10;
/** mmap flag: memory not backed by a file. */
export const MAP_ANONYMOUS = 0x20;

/** pkey_alloc init_rights: no restriction. */

export const PKEY_UNRESTRICTED = 0x0;
/** pkey rights: deny all data access. */
export const PKEY_DISABLE_ACCESS = 0x1;
/** pkey rights: deny writes. */
export const PKEY_DISABLE_WRITE = 0x2;
/** init_rights outside this mask -> EINVAL (mm/mprotect.c pkey_alloc). */
export const PKEY_ACCESS_MASK = PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE;

/** User-defined signal 1. */

export const SIGUSR1 = 10;
/** Segmentation fault signal, delivered on a pkey fault. */
export const SIGSEGV = 11;
/** User-defined signal 2. */
export const SIGUSR2 = 12;
/** The signals the model delivers; every one terminates the process by default (signal(7)). */
export const MODELLED_SIGNALS: readonly number[] = [SIGUSR1, SIGSEGV, SIGUSR2];

/** sigaction flag: the handler takes siginfo and ucontext. */

export const SA_SIGINFO = 0x4;
/** sigaction flag: run the handler on the alternate signal stack. */
export const SA_ONSTACK = 0x08000000;
/** sigaction flag: do not block the signal while its handler runs. */
export const SA_NODEFER = 0x40000000;

/** si_code values (include/uapi/asm-generic/siginfo.h). */
export const SEGV_MAPERR = 1;
/** si_code: invalid permissions for a mapped object. */
export const SEGV_ACCERR = 2;
/** si_code: access denied by a protection key. */
export const SEGV_PKUERR = 4;
/** si_code: sent by kill(). */
export const SI_USER = 0;
/** si_code: sent by the kernel. */
export const SI_KERNEL = 0x80;
/** si_code: sent by tkill()/tgkill(). */
export const SI_TKILL = -6;

/** MINSIGSTKSZ on x86-64 (arch/x86/include/uapi/asm/signal.h): a smaller sigaltstack -> ENOMEM. */
export const MINSIGSTKSZ = 2048;
/** sigaltstack ss_flags: the thread is running on the alternate stack. */
export const SS_ONSTACK = 1;
/** sigaltstack ss_flags: the alternate stack is disabled. */
export const SS_DISABLE = 2;
/** sigaltstack ss_flags bit: disarm the stack while a handler runs on it (include/uapi/linux/signal.h, 4.7). */
export const SS_AUTODISARM = 0x80000000;

/** futex op: wait while the word still holds the expected value (include/uapi/linux/futex.h). */
export const FUTEX_WAIT = 0;
/** futex op flag: the futex is private to the process (no get_user_pages for its key). */
export const FUTEX_PRIVATE_FLAG = 128;

/** The errnos the user API returns, negated as syscalls return them (errno-base.h). */
export const UserErrno = {
  EPERM: 1,
  ESRCH: 3,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  ENODEV: 19,
  EFAULT: Errno.EFAULT,
  EINVAL: Errno.EINVAL,
  ENOSPC: Errno.ENOSPC,
  ETIMEDOUT: 110,
} as const;
/** The name of an errno the user API returns. */
export type UserErrnoName = keyof typeof UserErrno;

/** "-EINVAL" for -22 (also for errnos only the user API returns). */
export function userErrnoName(negated: number): string {
  for (const [name, value] of Object.entries(UserErrno)) if (-value === negated) return `-${name}`;
  return String(negated);
}

/** The name of a signal number ("SIGSEGV"), or "signal N" for one the model does not name. */

export function signalName(signo: number): string {
  return signo === SIGSEGV
    ? 'SIGSEGV'
    : signo === SIGUSR1
      ? 'SIGUSR1'
      : signo === SIGUSR2
        ? 'SIGUSR2'
        : `signal ${signo}`;
}

/** The name of a SIGSEGV si_code (or of SI_KERNEL/SI_TKILL), or the number for one it does not name. */
export function segvCodeName(code: number): string {
  return code === SEGV_MAPERR
    ? 'SEGV_MAPERR'
    : code === SEGV_ACCERR
      ? 'SEGV_ACCERR'
      : code === SEGV_PKUERR
        ? 'SEGV_PKUERR'
        : code === SI_KERNEL
          ? 'SI_KERNEL'
          : code === SI_TKILL
            ? 'SI_TKILL'
            : String(code);
}
