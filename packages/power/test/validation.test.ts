/** power's public entry points refuse bad arguments with DomainError('invalid') and change nothing. */
import { AccessKind, Privilege } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { PowerMachine, type PowerSpr } from '../src/index';

const VA = 0x10000000;

function machineWithPage() {
  const machine = new PowerMachine({ cpus: 2 });
  const pa = machine.allocatePhysical(0x1000);
  machine.map(0, VA, pa, 0x1000, { user: true, writable: true, executable: false, domain: 1 });
  machine.domainSpace(Privilege.User)!.enable(0);
  expect(machine.access(0, VA, AccessKind.Read)).toBe(0);
  return machine;
}

function state(machine: PowerMachine) {
  // Reading the rights registers counts RightsRead: the counts are taken first and put back after.
  const counts = Float64Array.from(machine.events.counts);
  const snapshot = {
    counts: Array.from(counts),
    tlb: Array.from(machine.tlb(0).tag),
    keys: machine.readKeyRegisters(0),
    fault: machine.lastFault(0),
  };
  machine.events.counts.set(counts);
  return snapshot;
}

function expectRefused(machine: PowerMachine, call: () => unknown): void {
  const before = state(machine);
  expect(call).toThrow(expect.objectContaining({ name: 'DomainError', code: 'invalid' }));
  expect(state(machine)).toEqual(before);
}

describe('power validation before mutation', () => {
  it('an invalid access kind, CPU or address throws and is never a not-present fault', () => {
    const machine = machineWithPage();
    for (const kind of [3, -1, 'write', null]) {
      expectRefused(machine, () => machine.access(0, VA, kind as AccessKind));
      expectRefused(machine, () => machine.access(0, VA + 0x10000, kind as AccessKind));
    }
    for (const address of [NaN, VA + 0.25, -Infinity]) expectRefused(machine, () => machine.access(0, address, 0));
    expectRefused(machine, () => machine.access(-1, VA, AccessKind.Read));
    expect(machine.lastFault(0)).toBeUndefined();
  });

  it('SPR and key-register writes with unknown names or bad values are refused before anything changes', () => {
    const machine = machineWithPage();
    expectRefused(machine, () => machine.mtspr(0, 'XER' as PowerSpr, 0));
    expectRefused(machine, () => machine.mtspr(0, 'AMR', NaN));
    expectRefused(machine, () => machine.mtspr(0, 'AMR', 2n ** 64n));
    expectRefused(machine, () => machine.mfspr(0, 'XER' as PowerSpr));
    expectRefused(machine, () => machine.writeKeyRegisters(0, 0, 0, 0, NaN));
    expectRefused(machine, () => machine.writeKeyRegisters(0, 2 ** 32, 0, 0, 0));
    expectRefused(machine, () => machine.writeKeyRegisters(3, 0, 0, 0, 0));
  });
});
