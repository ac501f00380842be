import { describe, expect, it } from 'vitest';
import { AccessKind, createMachine, PageSize, Privilege } from '@pkeysim/core';
import { X86Machine, CR4 } from '../src/index';

describe('X86Machine basics', () => {
  it('createMachine({arch: "x86", cpus: 2}) returns a working x86 machine', () => {
    const { machine } = createMachine({ arch: 'x86', cpus: 2 });
    expect(machine).toBeInstanceOf(X86Machine);
    expect(machine.cpuCount).toBe(2);
    const pa = machine.allocatePhysical(0x2000);
    const va = -0x778000000000;
    machine.map(0, va, pa, 0x2000, { user: false, writable: true, executable: false, domain: 3 });
    expect(machine.access(0, va, AccessKind.Write)).toBe(0);
    const pks = machine.domainSpace(Privilege.Supervisor)!;
    pks.enable(0);
    pks.load(0, pks.initialState());
    expect(machine.access(0, va, AccessKind.Read)).toBe(0x10000 | 0x21);
    expect(machine.lastFault(0)?.cause).toBe('domain');
    expect((machine as X86Machine).cpu(0).cr4 & CR4.PKS).toBe(CR4.PKS);
    expect(machine.translate(0, va + 5)).toMatchObject({ physical: pa + 5, domain: 3, pageSize: PageSize.Size4K });
  });
});
