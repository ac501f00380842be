import { AccessKind, createMachine, Deny, Privilege } from '@pkeysim/core';
import { createKernel, runPksSelftest } from '@pkeysim/kernel';
import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { HARDWARE_SLOTS, PARKING_KEY, type VirtualKeyMachine } from '../src';

const BASE = -0x778000000000; // 0xffff888000000000

function machineWithPages(cpus: number, vkeys: number): { machine: VirtualKeyMachine; page: (v: number) => number } {
  const machine = createMachine({ arch: 'vkeys', cpus }).machine as VirtualKeyMachine;
  const space = machine.domainSpace(Privilege.Supervisor);
  for (let cpu = 0; cpu < cpus; cpu++) space.enable(cpu);
  const page = (v: number): number => BASE + v * 0x1000;
  for (let v = 1; v <= vkeys; v++)
    machine.map(0, page(v), machine.allocatePhysical(0x1000), 0x1000, {
      user: false,
      writable: true,
      executable: false,
      domain: v,
    });
  return { machine, page };
}

describe('vkeys scheme', () => {
  it('runs the kernel PKS selftest unchanged: every test OK, with more keys than the hardware has', () => {
    for (const keyDesign of ['dynamic', 'static'] as const) {
      const kernel = createKernel({ arch: 'vkeys', cpus: 2, keyDesign });
      const results = runPksSelftest(kernel);
      const bad = results.filter((r) => r.status === 'FAIL');
      expect(bad).toEqual([]);
      expect(results.filter((r) => r.status === 'SKIP').map((r) => r.name)).toEqual(
        keyDesign === 'static' ? ['KEY_EXHAUSTION'] : [],
      );
      if (keyDesign === 'dynamic') {
        expect(results.find((r) => r.name === 'RUN_ALL_KEYS')!.detail).toMatch(/^63 keys/);
        expect((kernel.machine as VirtualKeyMachine).stats().supervisor.evictions).toBeGreaterThan(0);
      }
    }
  });

  it('gives 40 virtual keys their rights through 14 hardware keys, evicting and re-tagging pages', () => {
    const { machine, page } = machineWithPages(2, 40);
    const space = machine.domainSpace(Privilege.Supervisor);
    for (let v = 1; v <= 40; v++) {
      space.load(0, space.withDenials(space.initialState(), v, v % 2 === 0 ? Deny.None : Deny.Write));
      expect(machine.access(0, page(v), AccessKind.Read)).toBe(0);
      expect(machine.access(0, page(v), AccessKind.Write) !== 0).toBe(v % 2 === 1);
      expect(machine.translate(0, page(v))?.domain).toBe(v);
    }
    const stats = machine.stats().supervisor;
    expect(stats.hardwareKeysInUse).toBe(HARDWARE_SLOTS);
    expect(stats.evictions).toBe(40 - HARDWARE_SLOTS);
    expect(stats.retagPteWrites).toBeGreaterThanOrEqual(40 + stats.evictions);
    expect(stats.retagShootdowns).toBeGreaterThan(0);
  });

  it("never lets a hardware key carry an evicted key's rights: another CPU holding the old key open cannot reach the new owner's pages", () => {
    const { machine, page } = machineWithPages(2, 16);
    const space = machine.domainSpace(Privilege.Supervisor);
    // CPU 1 runs a thread that has only virtual key 1 open, and uses it (key 1 gets hardware key 1).
    space.load(1, space.withDenials(space.initialState(), 1, Deny.None));
    expect(machine.access(1, page(1), AccessKind.Read)).toBe(0);
    const slot = machine.x86.translate(0, page(1))!.domain;
    // CPU 0 opens keys 2..16 in turn: key 1 is evicted and its hardware key goes to another virtual key.
    let state = space.initialState();
    for (let v = 2; v <= 16; v++) {
      state = space.withDenials(state, v, Deny.None);
      space.load(0, state);
      expect(machine.access(0, page(v), AccessKind.Read)).toBe(0);
    }
    expect(machine.x86.translate(0, page(1))!.domain).toBe(PARKING_KEY);
    const newOwner = space.ownerOf(slot)!;
    expect(newOwner).not.toBe(1);
    expect(machine.access(1, page(newOwner), AccessKind.Read)).not.toBe(0);
    expect(machine.lastFault(1)?.cause).toBe('domain');
    // Key 1 itself is still usable by CPU 1: the miss re-assigns it.
    expect(machine.access(1, page(1), AccessKind.Read)).toBe(0);
  });

  it('synchronises other threads lazily: only a running CPU whose register must change is written', () => {
    const { machine, page } = machineWithPages(3, 20);
    const space = machine.domainSpace(Privilege.Supervisor);
    let state = space.initialState();
    for (let v = 1; v <= 20; v++) {
      state = space.withDenials(state, v, Deny.None);
      space.load(0, state);
      machine.access(0, page(v), AccessKind.Read);
    }
    // CPUs 1 and 2 deny every key, so no key move ever changes their registers.
    const stats = machine.stats().supervisor;
    expect(stats.remoteSyncs).toBe(0);
    expect(stats.syncsAvoided).toBe(2 * stats.misses);
  });

  it('protects against key use-after-free: a freed virtual key is not handed out again while pages carry it', () => {
    // On plain x86 the hardware reuses the key: the new owner opens it and reaches the old owner's page.
    const x86 = createMachine({ arch: 'x86', cpus: 1 }).machine;
    const pks = x86.domainSpace(Privilege.Supervisor)!;
    pks.enable(0);
    x86.map(0, BASE, x86.allocatePhysical(0x1000), 0x1000, {
      user: false,
      writable: true,
      executable: false,
      domain: 5,
    });
    pks.load(0, pks.withDenials(pks.initialState(), 5, Deny.None)); // "new owner" of the freed key 5
    expect(x86.access(0, BASE, AccessKind.Read)).toBe(0);

    const { machine, page } = machineWithPages(1, 0);
    const space = machine.domainSpace(Privilege.Supervisor);
    const old = space.allocate();
    machine.map(0, page(1), machine.allocatePhysical(0x1000), 0x1000, {
      user: false,
      writable: true,
      executable: false,
      domain: old,
    });
    space.free(old);
    expect(space.quarantined()).toEqual([old]);
    const fresh = space.allocate();
    expect(fresh).not.toBe(old);
    space.load(0, space.withDenials(space.initialState(), fresh, Deny.None));
    expect(machine.access(0, page(1), AccessKind.Read)).not.toBe(0);
    // Once the pages leave the key, the number may be reused.
    machine.attach(0, page(1), 0x1000, 0);
    expect(space.quarantined()).toEqual([]);
    expect(space.allocate()).toBe(old);
  });

  it('refuses execute and read-only denials as the hardware keys below do', () => {
    const { machine } = machineWithPages(1, 0);
    const space = machine.domainSpace(Privilege.User);
    expect(() => space.withDenials(space.initialState(), 3, Deny.Execute)).toThrow(/execute/);
    expect(space.info.domains).toBe(Infinity);
    expect(space.info.id).toBe('vkeys.x86.pku');
  });
});
