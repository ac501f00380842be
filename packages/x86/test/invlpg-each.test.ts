// X86Cpu.invlpgEach is a kernel's page-by-page flush loop: exactly as many INVLPGs as pages, with
// the same checks (SDM vol. 2, INVLPG: #GP(0) at CPL > 0), counted and invalidated the same way.
import { describe, expect, it } from 'vitest';
import { AccessKind, MachineEvent } from '@pkeysim/core';
import { X86Machine, X86Exception } from '../src/index';

const USER = 0x40000000;
const PAGES = [USER, USER + 0x1000, USER + 0x3000];

/** A machine whose CPU 0 has cached translations of four user pages. */
function warmMachine() {
  const machine = new X86Machine({ cpus: 1 });
  const cpu = machine.cpu(0);
  const pa = machine.allocatePhysical(0x4000);
  machine.map(0, USER, pa, 0x4000, { user: true, writable: true, executable: false, domain: 0 });
  for (let page = 0; page < 4; page++) expect(cpu.access(USER + page * 0x1000, AccessKind.Read)).toBe(0);
  return { machine, cpu };
}

function walksFor(machine: X86Machine, cpuIndex: number): number {
  const cpu = machine.cpu(cpuIndex);
  const before = machine.events.get(cpuIndex, MachineEvent.PageWalk);
  for (let page = 0; page < 4; page++) cpu.access(USER + page * 0x1000, AccessKind.Read);
  return machine.events.get(cpuIndex, MachineEvent.PageWalk) - before;
}

describe('X86Cpu.invlpgEach', () => {
  it('counts and invalidates exactly as one INVLPG per page does', () => {
    const one = warmMachine();
    one.cpu.asKernel((k) => {
      for (const page of PAGES) k.invlpg(page);
    });
    const each = warmMachine();
    each.cpu.asKernel((k) => k.invlpgEach(Float64Array.from(PAGES), PAGES.length));
    expect(each.machine.events.summary()).toEqual(one.machine.events.summary());
    expect(each.machine.events.get(0, MachineEvent.TlbFlushPage)).toBe(PAGES.length);
    // The three flushed pages walk again; the fourth (USER + 0x2000) is still cached.
    expect(walksFor(each.machine, 0)).toBe(3);
    expect(walksFor(one.machine, 0)).toBe(3);
  });

  it('flushes only the first `count` addresses of the list', () => {
    const { machine, cpu } = warmMachine();
    cpu.asKernel((k) => k.invlpgEach([USER, USER + 0x1000], 1));
    expect(machine.events.get(0, MachineEvent.TlbFlushPage)).toBe(1);
    expect(walksFor(machine, 0)).toBe(1);
  });

  it('raises #GP at CPL 3 and refuses a bad operand, invalidating and counting nothing', () => {
    const { machine, cpu } = warmMachine();
    cpu.setCpl(3);
    expect(() => cpu.invlpgEach(PAGES, PAGES.length)).toThrow(X86Exception);
    cpu.setCpl(0);
    expect(() => cpu.invlpgEach([USER, 0.5], 2)).toThrow(/INVLPG address 0.5/);
    expect(machine.events.get(0, MachineEvent.TlbFlushPage)).toBe(0);
    expect(walksFor(machine, 0)).toBe(0);
  });
});
