import { createMachine, MachineEvent } from '@pkeysim/core';
import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import '../src';
import type { VirtualKeyMachine } from '../src';

const USER = 0x40000000;
const PAGE = 0x1000;

/** Pages 0, 1, 2 and 5 of USER in address spaces 1 and 2, mapped with hardware key 0. */
function machineWithTwoSpaces(): VirtualKeyMachine {
  const machine = createMachine({ arch: 'vkeys', cpus: 3 }).machine as VirtualKeyMachine;
  for (const space of [machine.createAddressSpace(), machine.createAddressSpace()])
    for (const page of [0, 1, 2, 5])
      machine.map(space, USER + page * PAGE, machine.allocatePhysical(PAGE), PAGE, {
        user: true,
        writable: true,
        executable: false,
        domain: 0,
      });
  return machine;
}

describe('VirtualKeyMachine.retag', () => {
  it('moves contiguous pages of one space in one range, whatever order the pages come in', () => {
    const sorted = machineWithTwoSpaces();
    const shuffled = machineWithTwoSpaces();
    const pages = (order: number[][]) => order.map(([space, page]) => ({ space, virtual: USER + page * PAGE }));
    sorted.retag(
      pages([
        [1, 0],
        [1, 1],
        [1, 2],
        [1, 5],
        [2, 1],
        [2, 2],
      ]),
      4,
      0,
    );
    shuffled.retag(
      pages([
        [2, 2],
        [1, 5],
        [1, 1],
        [2, 1],
        [1, 0],
        [1, 2],
      ]),
      4,
      0,
    );
    // Three ranges (space 1: pages 0-2 and page 5; space 2: pages 1-2), each shot down on 2 other CPUs.
    expect(sorted.events.total(MachineEvent.Shootdown)).toBe(3 * 2);
    expect(shuffled.events.summary()).toEqual(sorted.events.summary());
    for (const machine of [sorted, shuffled]) {
      expect(machine.x86.translate(1, USER + 5 * PAGE)?.domain).toBe(4);
      expect(machine.x86.translate(2, USER)?.domain).toBe(0); // not in the list
      expect(machine.x86.translate(2, USER + 2 * PAGE)?.domain).toBe(4);
    }
  });
});
