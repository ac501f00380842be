import { AccessKind, Deny, Privilege, createMachine } from '@pkeysim/core';
import { expect, it } from 'vitest';
import '../src';

it('runs the @pkeysim/core README example as written', () => {
  const { machine } = createMachine({ arch: 'x86', cpus: 2 });
  const pks = machine.domainSpace(Privilege.Supervisor)!;
  pks.enable(0);
  const readOnlyKey1 = pks.withDenials(pks.initialState(), 1, Deny.Write);
  pks.load(0, readOnlyKey1);
  const va = -0x778000000000;
  machine.map(0, va, machine.allocatePhysical(0x1000), 0x1000, {
    user: false,
    writable: true,
    executable: false,
    domain: 1,
  });
  expect(machine.access(0, va, AccessKind.Read)).toBe(0);
  expect(machine.access(0, va, AccessKind.Write)).not.toBe(0);
  expect(machine.lastFault(0)?.cause).toBe('domain');
});
