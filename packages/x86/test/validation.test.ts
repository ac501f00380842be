/** x86's public entry points refuse bad arguments with DomainError('invalid') and change nothing. */
import { AccessKind, MachineEvent, Privilege, type RightsState } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { CR4, decodeEntry, encodeEntry, X86Machine } from '../src/index';

const KERNEL = -0x778000000000;

function machineWithPage() {
  const machine = new X86Machine({ cpus: 2 });
  const pa = machine.allocatePhysical(0x1000);
  machine.map(0, KERNEL, pa, 0x1000, { user: false, writable: true, executable: false, domain: 1 });
  expect(machine.access(0, KERNEL, AccessKind.Read)).toBe(0);
  return { machine, cpu: machine.cpu(0) };
}

function state(machine: X86Machine) {
  const cpu = machine.cpu(0);
  return {
    counts: Array.from(machine.events.counts),
    tlb: Array.from(machine.tlb(0).tag),
    registers: [cpu.cr0, cpu.cr4, cpu.cr2, cpu.pkru, cpu.pkrs, cpu.cpl, cpu.eflagsAc],
    fault: machine.lastFault(0),
  };
}

function expectRefused(machine: X86Machine, call: () => unknown): void {
  const before = state(machine);
  expect(call).toThrow(expect.objectContaining({ name: 'DomainError', code: 'invalid' }));
  expect(state(machine)).toEqual(before);
}

describe('x86 validation before mutation', () => {
  it('an invalid access kind throws instead of becoming a not-present #PF, and counts nothing', () => {
    const { machine, cpu } = machineWithPage();
    for (const kind of [3, -1, 'write', undefined])
      for (const address of [KERNEL, KERNEL + 0x7000]) {
        expectRefused(machine, () => machine.access(0, address, kind as AccessKind));
        expectRefused(machine, () => cpu.access(address, kind as AccessKind));
      }
    expect(machine.lastFault(0)).toBeUndefined();
    expect(machine.events.get(0, MachineEvent.Fault)).toBe(0);
  });

  it('NaN, fractional and unrepresentable addresses throw; a non-canonical integer is still #GP', () => {
    const { machine, cpu } = machineWithPage();
    for (const address of [NaN, KERNEL + 0.5, Infinity, 2 ** 53])
      expectRefused(machine, () => machine.access(0, address, AccessKind.Read));
    expectRefused(machine, () => cpu.invlpg(NaN));
    expect(machine.access(0, 2 ** 47, AccessKind.Read)).toBe(0x20000);
  });

  it('CPU indexes, modes and space numbers out of range are refused', () => {
    const { machine } = machineWithPage();
    for (const index of [2, -1, 0.5, NaN]) {
      expectRefused(machine, () => machine.cpu(index));
      expectRefused(machine, () => machine.access(index, KERNEL, AccessKind.Read));
      expectRefused(machine, () => machine.lastFault(index));
    }
    expectRefused(machine, () => machine.setMode(0, 7 as Privilege));
    expectRefused(machine, () => machine.activate(0, 3));
    expectRefused(machine, () => machine.map(0, 0x1000, 0x1000, 0x1000, { user: true } as never));
  });

  it('register writes with non-numbers are refused before any register or counter changes', () => {
    const { machine, cpu } = machineWithPage();
    cpu.movToCr4(cpu.cr4 | CR4.PKE);
    const writes = machine.events.get(0, MachineEvent.RightsWrite);
    expectRefused(machine, () => cpu.wrpkru(NaN));
    expectRefused(machine, () => cpu.wrpkru(2 ** 32));
    expectRefused(machine, () => cpu.setCpl(1 as 0 | 3));
    expectRefused(machine, () => machine.domainSpace(Privilege.User)!.load(0, [NaN] as unknown as RightsState));
    expect(machine.events.get(0, MachineEvent.RightsWrite)).toBe(writes);
  });

  it('encodeEntry refuses a field that does not fit with DomainError invalid', () => {
    expect(() => encodeEntry({ ...decodeEntry(1, 0, 1), pkey: 16 }, 1)).toThrow(
      expect.objectContaining({ code: 'invalid' }),
    );
    expect(() => X86Machine.fromConfig({ arch: 'x86', cpus: 1, options: { pagingLevels: 6 } })).toThrow(
      expect.objectContaining({ code: 'invalid' }),
    );
  });
});
