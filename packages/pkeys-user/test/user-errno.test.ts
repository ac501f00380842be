import { describe, expect, it } from 'vitest';
import { KernelError } from '@pkeysim/kernel';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PKEY_DISABLE_ACCESS,
  PKEY_DISABLE_WRITE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  type Ptrace,
  SIGUSR1,
  SS_DISABLE,
  TASK_SIZE,
  UserErrno,
} from '../src';
import { anon, userBoot } from './user-helpers';

const { EINVAL, ENOSPC, ENOMEM, EBADF, EFAULT, EPERM, ESRCH, EIO, ENODEV } = UserErrno;
const PRIV = MAP_PRIVATE | MAP_ANONYMOUS;

/** Everything a refused call could have changed. */
function state(t: ReturnType<typeof userBoot>['t']) {
  return JSON.stringify({ vmas: t.process.mm.vmas.all(), keys: t.process.mm.pkeys.allocated(), pkru: t.rdpkru() });
}

describe('mmap errnos', () => {
  it('mmap -EINVAL for length 0', () => expect(userBoot().t.mmap(0, 0, PROT_READ, PRIV)).toBe(-EINVAL));
  it('mmap -EINVAL without MAP_PRIVATE or MAP_SHARED', () =>
    expect(userBoot().t.mmap(0, 4096, PROT_READ, MAP_ANONYMOUS)).toBe(-EINVAL));
  it('mmap -EBADF for a file mapping (fd -1 without MAP_ANONYMOUS)', () =>
    expect(userBoot().t.mmap(0, 4096, PROT_READ, MAP_PRIVATE)).toBe(-EBADF));
  it('mmap -EINVAL for an unaligned MAP_FIXED address', () =>
    expect(userBoot().t.mmap(0x10000001, 4096, PROT_READ, PRIV | MAP_FIXED)).toBe(-EINVAL));
  it('mmap -ENOMEM for MAP_FIXED beyond TASK_SIZE', () =>
    expect(userBoot().t.mmap(TASK_SIZE, 4096, PROT_READ, PRIV | MAP_FIXED)).toBe(-ENOMEM));
  it('mmap -ENOMEM when the mmap area is full', () =>
    expect(userBoot().t.mmap(0, 2 ** 46, PROT_READ, PRIV)).toBe(-ENOMEM));
});

describe('munmap errnos', () => {
  it('munmap -EINVAL for an unaligned address', () => expect(userBoot().t.munmap(0x10000001, 4096)).toBe(-EINVAL));
  it('munmap -EINVAL for length 0', () => expect(userBoot().t.munmap(0x10000000, 0)).toBe(-EINVAL));
  it('munmap of nothing mapped succeeds', () => expect(userBoot().t.munmap(0x10000000, 4096)).toBe(0));
});

describe('mprotect and pkey_mprotect errnos', () => {
  it('mprotect -EINVAL for an unaligned start', () => {
    const { t } = userBoot();
    expect(t.mprotect(anon(t) + 1, 4096, PROT_READ)).toBe(-EINVAL);
  });
  it('mprotect -EINVAL for unknown PROT bits (arch_validate_prot)', () => {
    const { t } = userBoot();
    expect(t.mprotect(anon(t), 4096, 0x100)).toBe(-EINVAL);
  });
  it('mprotect -ENOMEM over a hole, and nothing changes', () => {
    const { t } = userBoot();
    const a = anon(t, 0x3000);
    t.munmap(a + 0x1000, 0x1000);
    const before = state(t);
    expect(t.mprotect(a, 0x3000, PROT_READ)).toBe(-ENOMEM);
    expect(state(t)).toBe(before);
  });
  it('pkey_mprotect -EINVAL for a key that is not allocated', () => {
    const { t } = userBoot();
    const a = anon(t);
    const before = state(t);
    expect(t.pkey_mprotect(a, 4096, PROT_READ, 5)).toBe(-EINVAL);
    expect(state(t)).toBe(before);
  });
  it('pkey_mprotect -EINVAL for a negative key other than -1', () => {
    const { t } = userBoot();
    expect(t.pkey_mprotect(anon(t), 4096, PROT_READ, -2)).toBe(-EINVAL);
  });
  it('pkey_mprotect -EINVAL for the execute-only key (allocated, but not to the user)', () => {
    const { t } = userBoot();
    const code = anon(t);
    expect(t.mprotect(code, 4096, PROT_EXEC)).toBe(0);
    const xo = t.process.mm.pkeys.executeOnlyKey;
    expect(xo).toBeGreaterThan(0);
    expect(t.pkey_mprotect(anon(t), 4096, PROT_READ, xo)).toBe(-EINVAL);
  });
  it('pkey_mprotect -EINVAL without pkeys for any key but 0', () => {
    const { t } = userBoot({ pku: false });
    const a = anon(t);
    expect(t.pkey_mprotect(a, 4096, PROT_READ, 1)).toBe(-EINVAL);
    expect(t.pkey_mprotect(a, 4096, PROT_READ, 0)).toBe(0);
  });
});

describe('pkey_alloc errnos', () => {
  it('pkey_alloc -EINVAL for non-zero flags', () => expect(userBoot().t.pkey_alloc(1, 0)).toBe(-EINVAL));
  it('pkey_alloc -EINVAL for init rights outside PKEY_ACCESS_MASK', () => {
    const { t } = userBoot();
    const before = state(t);
    expect(t.pkey_alloc(0, 4)).toBe(-EINVAL);
    expect(state(t)).toBe(before);
  });
  it('pkey_alloc -ENOSPC once keys 1..15 are taken', () => {
    const { t } = userBoot();
    const keys = Array.from({ length: 15 }, () => t.pkey_alloc(0, 0));
    expect(keys).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(t.pkey_alloc(0, 0)).toBe(-ENOSPC);
  });
  it('pkey_alloc -ENOSPC on a CPU without pkeys (only key 0 exists)', () =>
    expect(userBoot({ pku: false }).t.pkey_alloc(0, 0)).toBe(-ENOSPC));
});

describe('pkey_free errnos', () => {
  it('pkey_free -EINVAL for key 0', () => expect(userBoot().t.pkey_free(0)).toBe(-EINVAL));
  it('pkey_free -EINVAL for a key out of range', () => expect(userBoot().t.pkey_free(16)).toBe(-EINVAL));
  it('pkey_free -EINVAL for a key that is not allocated (and when freed twice)', () => {
    const { t } = userBoot();
    const k = t.pkey_alloc(0, 0);
    expect(t.pkey_free(k)).toBe(0);
    expect(t.pkey_free(k)).toBe(-EINVAL);
  });
  it('pkey_free -EINVAL for the execute-only key', () => {
    const { t } = userBoot();
    t.mprotect(anon(t), 4096, PROT_EXEC);
    expect(t.pkey_free(t.process.mm.pkeys.executeOnlyKey)).toBe(-EINVAL);
  });
});

describe('kernel accesses on behalf of the process', () => {
  it('read() -EFAULT into an access-disabled buffer, nothing written', () => {
    const { t, u } = userBoot();
    const k = t.pkey_alloc(0, 0);
    const a = anon(t);
    t.pkey_mprotect(a, 4096, PROT_READ | PROT_WRITE, k);
    t.pkey_set(k, PKEY_DISABLE_ACCESS);
    expect(t.read(a, new Uint8Array([9]))).toBe(-EFAULT);
    t.pkey_set(k, 0);
    const r = t.load(a, 1);
    expect(r.ok && r.value[0]).toBe(0);
    expect(u.kernel.panic).toBeUndefined();
  });
  it('read() -EFAULT into a write-disabled buffer (WD applies to supervisor writes with CR0.WP)', () => {
    const { t } = userBoot();
    const k = t.pkey_alloc(0, PKEY_DISABLE_WRITE);
    const a = anon(t);
    t.pkey_mprotect(a, 4096, PROT_READ | PROT_WRITE, k);
    expect(t.read(a, new Uint8Array([9]))).toBe(-EFAULT);
  });
  it('read() -EFAULT into unmapped memory', () => expect(userBoot().t.read(0x1000, new Uint8Array([1]))).toBe(-EFAULT));
  it('read() into allowed memory copies the bytes', () => {
    const { t } = userBoot();
    const a = anon(t, 0x2000);
    expect(t.read(a + 4094, new Uint8Array([1, 2, 3, 4]))).toBe(4);
    const r = t.load(a + 4094, 2);
    expect(r.ok && [...r.value]).toEqual([1, 2]);
  });
  it('write() -EFAULT from an access-disabled buffer', () => {
    const { t } = userBoot();
    const k = t.pkey_alloc(0, PKEY_DISABLE_ACCESS);
    const a = anon(t);
    t.pkey_mprotect(a, 4096, PROT_READ | PROT_WRITE, k);
    expect(t.write(a, 8)).toBe(-EFAULT);
  });
  it('get_user_pages -EFAULT for an access-disabled page', () => {
    const { t } = userBoot();
    const k = t.pkey_alloc(0, PKEY_DISABLE_ACCESS);
    const a = anon(t);
    t.pkey_mprotect(a, 4096, PROT_READ | PROT_WRITE, k);
    expect(t.get_user_pages(a, 1, false)).toBe(-EFAULT);
  });
  it('get_user_pages -EFAULT for a write to a read-only mapping', () => {
    const { t } = userBoot();
    expect(t.get_user_pages(anon(t, 4096, PROT_READ), 1, true)).toBe(-EFAULT);
  });
  it('get_user_pages -EFAULT for unmapped memory', () =>
    expect(userBoot().t.get_user_pages(0x1000, 1, false)).toBe(-EFAULT));
  it('get_user_pages -EINVAL for zero pages', () =>
    expect(userBoot().t.get_user_pages(0x1000, 0, false)).toBe(-EINVAL));
});

describe('signal syscall errnos', () => {
  it('sigaction -EINVAL for a signal the model does not deliver', () =>
    expect(userBoot().t.sigaction(9, { handler: 'default' })).toBe(-EINVAL));
  it('sigaltstack -ENOMEM below MINSIGSTKSZ', () =>
    expect(userBoot().t.sigaltstack({ sp: 0x10000000, size: 1024 })).toBe(-ENOMEM));
  it('sigaltstack -EINVAL for unknown flags', () =>
    expect(userBoot().t.sigaltstack({ sp: 0x10000000, size: 8192, flags: 4 })).toBe(-EINVAL));
  it('sigaltstack -EPERM while running on it', () => {
    const { t } = userBoot();
    const alt = anon(t, 0x4000);
    expect(t.sigaltstack({ sp: alt, size: 0x4000 })).toBe(0);
    let inside = 0;
    t.sigaction(SIGUSR1, {
      handler: (ctx) => (inside = ctx.thread.sigaltstack({ sp: 0, size: 0, flags: SS_DISABLE })),
      flags: 0x08000000,
    });
    expect(t.raise(SIGUSR1).ok).toBe(true);
    expect(inside).toBe(-EPERM);
  });
  it('tkill -EINVAL for a bad signal', () => {
    const { t } = userBoot();
    expect(t.tkill(t, 64)).toBe(-EINVAL);
  });
  it('tkill -ESRCH for a dead thread', () => {
    const { t, u } = userBoot();
    const other = u.spawn('other', 1);
    u.switchTo(other.main);
    other.main.exit();
    expect(t.tkill(other.main, SIGUSR1)).toBe(-ESRCH);
  });
});

describe('ptrace errnos', () => {
  it('ptrace -EPERM on a thread of the same process', () => {
    const { t, u } = userBoot();
    const sibling = t.clone('sibling', { stack: anon(t) + 4096, cpu: 1 });
    expect(u.ptraceAttach(t, sibling)).toBe(-EPERM);
  });
  it('ptrace -ESRCH while the tracee runs, -EIO for unmapped memory, -EINVAL for a bad PKRU', () => {
    const { t, u } = userBoot();
    const child = u.fork(t, 'child', 1).main;
    const tracer = u.ptraceAttach(t, child) as Ptrace;
    u.switchTo(child);
    expect(tracer.peekData(0x10000)).toBe(-ESRCH);
    expect(tracer.getPkru()).toBe(-ESRCH);
    u.kernel.cpu(1).switchTo(u.kernel.idle(1));
    expect(tracer.peekData(0x10000)).toBe(-EIO);
    expect(tracer.setPkru([1, 2])).toBe(-EINVAL);
  });
  it('ptrace -ENODEV for PKRU without pkeys', () => {
    const { t, u } = userBoot({ pku: false });
    const child = u.fork(t, 'child', 1).main;
    const tracer = u.ptraceAttach(t, child) as Ptrace;
    expect(tracer.getPkru()).toBe(-ENODEV);
    expect(tracer.setPkru([0])).toBe(-ENODEV);
  });
});

describe('init PKRU', () => {
  it('setInitPkru -EINVAL for rights on key 0, and the value stays', () => {
    const { u } = userBoot();
    expect(u.setInitPkru([0x55555555])).toBe(-EINVAL);
    expect(u.initPkru).toEqual([0x55555554]);
    expect(u.setInitPkru([0x55555550])).toBe(0);
    expect(u.initPkru).toEqual([0x55555550]);
  });
  it('refuses an initPkru option with rights on key 0 (KernelError EINVAL)', () => {
    expect(() => userBoot({ initPkru: [0x55555556] })).toThrow(KernelError);
    expect(() => userBoot({ initPkru: [0x55555556] })).toThrow(/key 0/);
  });
});
