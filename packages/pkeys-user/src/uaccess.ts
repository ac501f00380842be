import { ACCESS_OK, AccessKind, Privilege } from '@pkeysim/core';
import { PROT_EXEC, PROT_READ, PROT_WRITE, UserErrno } from './abi';
import { USER_PAGE_SIZE, userPageStart } from './layout';
import type { UserThread } from './thread';
import type { UserEnv } from './world';

/** More than this many pages faulted in by one copy means a bug, not a big buffer. */
const MAX_FAULTED_PAGES = 4096;

/**
 * copy_to_user()/copy_from_user() for the thread running on its CPU: a kernel-mode access to the
 * user address with the thread's live rights register, so the hardware applies its PKRU (SDM 4.6.2:
 * the register is chosen by the page's mode, not the CPL). A not-present page the VMA allows is
 * faulted in; any other fault is fixed up to -EFAULT (exception table), never an oops.
 */
function kernelCopy<T>(
  w: UserEnv,
  thread: UserThread,
  address: number,
  kind: AccessKind,
  attempt: (cpu: number) => T | undefined,
): T | number {
  const cpu = thread.cpu;
  // arm64 copies with LDTR/STTR: checked as EL0 accesses, against POR_EL0 (asm/uaccess.h).
  const unprivileged = w.abi?.uaccess === 'unprivileged';
  const run = (): T | undefined => {
    if (!unprivileged) return attempt(cpu);
    const mode = w.machine.mode(cpu);
    w.machine.setMode(cpu, Privilege.User);
    try {
      return attempt(cpu);
    } finally {
      w.machine.setMode(cpu, mode);
    }
  };
  for (let faulted = 0; faulted <= MAX_FAULTED_PAGES; faulted++) {
    const value = run();
    if (value !== undefined) return value;
    const fault = w.machine.lastFault(cpu);
    if (!fault || fault.cause !== 'not-present') return -UserErrno.EFAULT;
    const decision = thread.process.mm.resolveFault(fault.address, kind, false, false, undefined, thread.liveRights());
    if (!decision.populated) return -UserErrno.EFAULT;
  }
  return -UserErrno.EFAULT;
}

/** copy_to_user(): 0 or -EFAULT. */
export function copyToUser(w: UserEnv, thread: UserThread, address: number, bytes: Uint8Array): number {
  return kernelCopy(w, thread, address, AccessKind.Write, (cpu) =>
    w.machine.write(cpu, address, bytes) === ACCESS_OK ? 0 : undefined,
  );
}

/** copy_from_user(): the bytes or -EFAULT. */
export function copyFromUser(w: UserEnv, thread: UserThread, address: number, length: number): Uint8Array | number {
  return kernelCopy(w, thread, address, AccessKind.Read, (cpu) => w.machine.read(cpu, address, length));
}

/**
 * get_user_pages() on the caller's own memory (vmsplice, O_DIRECT): each page needs a VMA that
 * allows the access (check_vma_flags) and, because the access is not foreign, rights that allow its
 * key (arch_vma_access_permitted). All pages or -EFAULT; pages are faulted in.
 */
export function getUserPages(thread: UserThread, address: number, pages: number, write: boolean): number {
  const mm = thread.process.mm;
  if (!Number.isInteger(pages) || pages < 1) return -UserErrno.EINVAL;
  const first = userPageStart(address);
  const rights = thread.liveRights();
  for (let i = 0; i < pages; i++) {
    const vma = mm.vmas.find(first + i * USER_PAGE_SIZE);
    if (!vma) return -UserErrno.EFAULT;
    if (write ? (vma.prot & PROT_WRITE) === 0 : (vma.prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) === 0)
      return -UserErrno.EFAULT;
    if (!mm.keyPermits(vma, write ? AccessKind.Write : AccessKind.Read, rights)) return -UserErrno.EFAULT;
  }
  for (let i = 0; i < pages; i++) mm.frameFor(first + i * USER_PAGE_SIZE);
  return pages;
}
