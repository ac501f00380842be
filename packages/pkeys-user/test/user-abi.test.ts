import { registerPlugin, TOKENS, USER_PKEY_ABI } from '@pkeysim/core';
import { X86Machine, x86UserPkeyAbi } from '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { createKernel } from '@pkeysim/kernel';
import { registeredUserPkeyAbi, UserErrno, UserKernel } from '../src';

registerPlugin({
  name: 'x86-without-pkey-abi',
  kind: 'architecture',
  description: 'x86 hardware whose plugin registers no user-space pkey ABI (test)',
  register(container, config) {
    container.register(TOKENS.Machine, { useFactory: () => X86Machine.fromConfig({ ...config, arch: 'x86' }) });
  },
});

describe('the user layer takes its pkey ABI from the architecture plugin', () => {
  it('resolves the ABI x86 registers, and the kernel behaves as before with it', () => {
    const kernel = createKernel({ cpus: 1 });
    expect(registeredUserPkeyAbi(kernel)).toBe(x86UserPkeyAbi);
    const u = new UserKernel(kernel);
    expect(u.abi).toBe(x86UserPkeyAbi);
    expect(u.keys!.format(u.initPkru!)).toBe('0x55555554');
  });

  it('turns pkeys off, and says why, when the plugin registers no ABI for its user key register', () => {
    const kernel = createKernel({ arch: 'x86-without-pkey-abi', cpus: 1 });
    const u = new UserKernel(kernel);
    expect(u.supported).toBe(false);
    expect(kernel.log.lines().some((l) => l.includes('registers no user-space pkey ABI; pkeys disabled'))).toBe(true);
    const p = u.spawn('app', 0);
    u.switchTo(p.main);
    expect(p.main.pkey_alloc(0, 0)).toBe(-UserErrno.ENOSPC);
  });

  it('ignores an ABI that speaks for another register', () => {
    const kernel = createKernel({ cpus: 1 });
    const u = new UserKernel(kernel, { abi: { ...x86UserPkeyAbi, spaceId: 'x86.pks' } });
    expect(u.supported).toBe(false);
    expect(kernel.log.lines().some((l) => l.includes('speaks for x86.pks, not x86.pku'))).toBe(true);
  });

  it('x86 keeps refusing the arm64/POWER flags: PKEY_DISABLE_EXECUTE and _READ are -EINVAL', () => {
    const u = new UserKernel(createKernel({ cpus: 1 }));
    const p = u.spawn('app', 0);
    u.switchTo(p.main);
    expect(p.main.pkey_alloc(0, 0x4)).toBe(-UserErrno.EINVAL);
    expect(p.main.pkey_alloc(0, 0x8)).toBe(-UserErrno.EINVAL);
    const k = p.main.pkey_alloc(0, 0);
    expect(p.main.pkey_set(k, 0x4)).toBe(-UserErrno.EINVAL);
    expect(USER_PKEY_ABI).toBe(Symbol.for('pkeysim.UserPkeyAbi'));
  });
});
