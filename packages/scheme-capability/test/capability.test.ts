import '../src';
import { AccessKind, ACCESS_OK, CapPerm, createMachine, DomainError, Privilege, ROOT_CAPABILITY } from '@pkeysim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAPABILITY_FAULT, type CapabilityMachine } from '../src';

const SUPERVISOR = -0x778000000000;

function machine() {
  const m = createMachine({ arch: 'capability', cpus: 2 }).machine as CapabilityMachine;
  const space = m.createAddressSpace();
  const physical = m.allocatePhysical(0x4000);
  m.map(space, SUPERVISOR, physical, 0x4000, { user: false, writable: true, executable: false });
  for (let cpu = 0; cpu < m.cpuCount; cpu++) {
    m.activate(cpu, space);
    m.setMode(cpu, Privilege.Supervisor);
  }
  return { m, space, physical };
}

describe('capability scheme', () => {
  it('is a scheme with pointer authority and no domain space', () => {
    const { m } = machine();
    expect(m.authority).toBe(m);
    expect(m.domainSpace(Privilege.Supervisor)).toBeUndefined();
    expect(m.checksPerAccess).toBe(1);
  });

  it('a store inside the bounds through a store capability lands', () => {
    const { m, physical } = machine();
    const cap = m.derive(ROOT_CAPABILITY, SUPERVISOR, 0x1000, CapPerm.Load | CapPerm.Store, 'obj');
    expect(m.writeVia(0, cap, SUPERVISOR + 8, Uint8Array.of(1, 2))).toBe(ACCESS_OK);
    expect([...m.readPhysical(physical + 8, 2)]).toEqual([1, 2]);
  });

  it('a store past the bounds faults with cause capability (bounds) and writes nothing', () => {
    const { m, physical } = machine();
    const cap = m.derive(ROOT_CAPABILITY, SUPERVISOR, 0x1000, CapPerm.Load | CapPerm.Store, 'obj');
    expect(m.writeVia(1, cap, SUPERVISOR + 0xffc, new Uint8Array(8).fill(7))).toBe(CAPABILITY_FAULT);
    const fault = m.lastFault(1)!;
    expect(fault.cause).toBe('capability');
    expect(fault.detail.capability).toBe('bounds');
    expect(fault.summary).toMatch(/capability fault \(bounds\) on write/);
    expect(m.readPhysical(physical + 0xffc, 8).every((b) => b === 0)).toBe(true);
  });

  it('a store through a load-only capability faults (permission); a load through it works', () => {
    const { m } = machine();
    const cap = m.derive(ROOT_CAPABILITY, SUPERVISOR, 0x1000, CapPerm.Load, 'reader');
    expect(m.accessVia(0, cap, SUPERVISOR, AccessKind.Write)).toBe(CAPABILITY_FAULT);
    expect(m.lastFault(0)!.detail.capability).toBe('permission');
    expect(m.readVia(0, cap, SUPERVISOR, 4)).toEqual(new Uint8Array(4));
  });

  it('a cleared capability carries no authority (tag)', () => {
    const { m } = machine();
    const cap = m.derive(ROOT_CAPABILITY, SUPERVISOR, 0x1000, CapPerm.Load, 'gone');
    m.clear(cap);
    expect(m.readVia(0, cap, SUPERVISOR, 1)).toBeUndefined();
    expect(m.lastFault(0)!.detail.capability).toBe('tag');
    expect(() => m.clear(ROOT_CAPABILITY)).toThrow(DomainError);
  });

  it('derivation is monotonic: never wider bounds or more permissions than the parent', () => {
    const { m } = machine();
    const parent = m.derive(ROOT_CAPABILITY, SUPERVISOR, 0x1000, CapPerm.Load, 'p');
    expect(() => m.derive(parent, SUPERVISOR, 0x1001, CapPerm.Load, 'c')).toThrow(/exceed/);
    expect(() => m.derive(parent, SUPERVISOR, 0x10, CapPerm.Load | CapPerm.Store, 'c')).toThrow(/permissions exceed/);
    expect(() => m.derive(99, SUPERVISOR, 1, 0, 'c')).toThrow(/not a capability/);
    const before = m.describe(parent);
    expect(m.describe(parent)).toEqual(before);
  });

  it('property: an access through a capability is allowed exactly when it is inside the bounds with the permission', () => {
    const { m } = machine();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x3000 }),
        fc.integer({ min: 1, max: 0x1000 }),
        fc.integer({ min: 0, max: 0x3fff }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        (base, length, offset, perms, store) => {
          const cap = m.derive(ROOT_CAPABILITY, SUPERVISOR + base, length, perms, 'prop');
          const kind = store ? AccessKind.Write : AccessKind.Read;
          const inside = offset >= base && offset < base + length;
          const permitted = (perms & (store ? CapPerm.Store : CapPerm.Load)) !== 0;
          const code = m.accessVia(0, cap, SUPERVISOR + offset, kind);
          return (code === ACCESS_OK) === (inside && permitted);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('page tables still apply below the capability, and plain accesses go through the root (hybrid mode)', () => {
    const { m, space } = machine();
    const cap = m.derive(ROOT_CAPABILITY, SUPERVISOR + 0x4000, 0x1000, CapPerm.Store, 'unmapped');
    expect(m.accessVia(0, cap, SUPERVISOR + 0x4000, AccessKind.Write)).not.toBe(ACCESS_OK);
    expect(m.lastFault(0)!.cause).toBe('not-present');
    expect(m.access(0, SUPERVISOR + 0x10, AccessKind.Write)).toBe(ACCESS_OK);
    expect(m.translate(space, SUPERVISOR)).toBeDefined();
  });

  it('counts one check per access through a capability, and no rights switches', () => {
    const { m } = machine();
    const cap = m.derive(ROOT_CAPABILITY, SUPERVISOR, 0x1000, CapPerm.Load, 'c');
    m.readVia(1, cap, SUPERVISOR, 8);
    m.readVia(1, cap, SUPERVISOR + 0x2000, 8);
    expect(m.checks[1]).toBe(2);
    expect(m.events.summary().rights_write ?? 0).toBe(0);
  });
});
