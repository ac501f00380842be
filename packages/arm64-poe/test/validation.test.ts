/** arm64-poe's public entry points refuse bad arguments with DomainError('invalid') and change nothing. */
import { AccessKind, Privilege } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { Arm64PoeMachine, type Arm64SysReg } from '../src/index';

const UVA = 0x403000;

function machineWithPage() {
  const machine = new Arm64PoeMachine({ cpus: 2 });
  const pa = machine.allocatePhysical(0x1000);
  machine.map(0, UVA, pa, 0x1000, { user: true, writable: true, executable: false, domain: 1 });
  machine.domainSpace(Privilege.User)!.enable(0);
  expect(machine.access(0, UVA, AccessKind.Read)).toBe(0);
  return machine;
}

function state(machine: Arm64PoeMachine) {
  // Reading the rights registers counts RightsRead: the counts are taken first and put back after.
  const counts = Float64Array.from(machine.events.counts);
  const snapshot = {
    counts: Array.from(counts),
    tlb: Array.from(machine.tlb(0).tag),
    registers: (['POR_EL0', 'POR_EL1', 'TCR2_EL1', 'SCTLR_EL1', 'CPACR_EL1'] as const).map((r) => machine.mrs(0, r)),
    pan: machine.pstatePan(0),
    fault: machine.lastFault(0),
  };
  machine.events.counts.set(counts);
  return snapshot;
}

function expectRefused(machine: Arm64PoeMachine, call: () => unknown): void {
  const before = state(machine);
  expect(call).toThrow(expect.objectContaining({ name: 'DomainError', code: 'invalid' }));
  expect(state(machine)).toEqual(before);
}

describe('arm64-poe validation before mutation', () => {
  it('an invalid access kind, CPU or address throws and is never a translation fault', () => {
    const machine = machineWithPage();
    for (const kind of [3, -1, 'read', undefined]) {
      expectRefused(machine, () => machine.access(0, UVA, kind as AccessKind));
      expectRefused(machine, () => machine.access(0, UVA + 0x10000, kind as AccessKind));
    }
    for (const address of [NaN, UVA + 0.5, Infinity]) expectRefused(machine, () => machine.access(0, address, 0));
    expectRefused(machine, () => machine.access(2, UVA, AccessKind.Read));
    expect(machine.lastFault(0)).toBeUndefined();
  });

  it('system-register writes with unknown names or bad values are refused before anything changes', () => {
    const machine = machineWithPage();
    expectRefused(machine, () => machine.msr(0, 'POR_EL2' as Arm64SysReg, 0));
    expectRefused(machine, () => machine.msr(0, 'POR_EL0', NaN));
    expectRefused(machine, () => machine.msr(0, 'POR_EL0', -1n));
    expectRefused(machine, () => machine.msr(0, 'POR_EL0', 2n ** 64n));
    expectRefused(machine, () => machine.msr(5, 'POR_EL0', 0));
    expectRefused(machine, () => machine.mrs(0, 'TTBR0_EL1' as Arm64SysReg));
    expectRefused(machine, () => machine.setPan(0, 1 as unknown as boolean));
    expectRefused(machine, () => machine.writePor(0, 2 as 0 | 1, 0));
  });
});
