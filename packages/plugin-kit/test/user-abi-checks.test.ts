import {
  createMachine,
  Deny,
  type Machine,
  registerPlugin,
  TOKENS,
  USER_PKEY_ABI,
  type UserPkeyAbi,
} from '@pkeysim/core';
import { x86UserPkeyAbi } from '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { ForwardingMachine } from '../src';
import { checkConformance } from '../src/conformance';

/** x86 registered under another name with `abi` (or none) as its user-space pkey ABI. */
function x86With(name: string, abi: UserPkeyAbi | undefined): () => Machine {
  registerPlugin({
    name,
    kind: 'architecture',
    description: `x86 with an altered user pkey ABI (conformance test ${name})`,
    register(container) {
      container.register(TOKENS.Machine, { useFactory: () => createMachine({ arch: 'x86', cpus: 2 }).machine });
      if (abi) container.register(USER_PKEY_ABI, { useValue: { ...abi, arch: name } });
    },
  });
  return () => Object.assign(new ForwardingMachine(createMachine({ arch: 'x86', cpus: 2 }).machine), { arch: name });
}

const failing = (make: () => Machine): string[] =>
  checkConformance(make)
    .filter((f) => !f.expected && f.check.startsWith('user-abi-'))
    .map((f) => f.check);

describe('the conformance suite holds architectures with user keys to the pkey ABI contract', () => {
  it('catches a user key register whose plugin registers no USER_PKEY_ABI', () => {
    const failures = checkConformance(x86With('x86-no-user-abi', undefined));
    const found = failures.find((f) => f.check === 'user-abi-matches-space');
    expect(found?.message).toMatch(/registers no USER_PKEY_ABI: the pkey syscalls stay disabled/);
  });

  it('catches an ABI whose key count is not the hardware one', () => {
    expect(failing(x86With('x86-wrong-key-count', { ...x86UserPkeyAbi, keys: 8 }))).toContain('user-abi-matches-space');
  });

  it('catches pkey_set accepting a flag pkey_alloc refuses, and a flag the space cannot express', () => {
    expect(
      failing(x86With('x86-set-wider', { ...x86UserPkeyAbi, setRights: Deny.Access | Deny.Write | Deny.Read })),
    ).toContain('user-abi-rights');
    expect(
      failing(x86With('x86-exec-flag', { ...x86UserPkeyAbi, allocRights: Deny.Access | Deny.Write | Deny.Execute })),
    ).toContain('user-abi-rights');
  });

  it('catches a handler started at init whose rights sigreturn never gives back', () => {
    const abi = { ...x86UserPkeyAbi, signal: { ...x86UserPkeyAbi.signal, sigreturnRestores: false } };
    expect(failing(x86With('x86-lost-rights', abi))).toContain('user-abi-signal');
  });

  it('catches an ABI that claims keys govern fetches on hardware where they do not', () => {
    expect(failing(x86With('x86-fetch-claim', { ...x86UserPkeyAbi, keysGovernFetch: true }))).toContain(
      'user-abi-enforced',
    );
  });

  it('catches an initial value that leaves an allocatable key open', () => {
    const abi = { ...x86UserPkeyAbi, initialRights: () => [0] };
    expect(failing(x86With('x86-open-init', abi))).toContain('user-abi-initial-rights');
  });
});
