import { AccessKind, createMachine, Deny, DomainError, MachineEvent, Privilege } from '@pkeysim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Arm64Exception,
  Arm64PoeMachine,
  denialsOfOverlay,
  overlayField,
  POE_R,
  POE_W,
  POE_X,
  SCTLR_WXN,
} from '../src/index';

const KVA = -0x778000000000; // 0xffff888000000000 (TTBR1)
const UVA = 0x403000; // TTBR0, a TLB slot other than KVA's

function machineWith(attrs: { user: boolean; writable: boolean; executable: boolean }, index = 1) {
  const machine = new Arm64PoeMachine({ cpus: 2 });
  const pa = machine.allocatePhysical(0x1000);
  const va = attrs.user ? UVA : KVA;
  machine.map(0, va, pa, 0x1000, { ...attrs, domain: index });
  const el1 = machine.domainSpace(Privilege.Supervisor)!;
  const el0 = machine.domainSpace(Privilege.User)!;
  for (const space of [el0, el1]) {
    space.load(0, space.initialState());
    space.enable(0);
  }
  return { machine, va, pa, el0, el1 };
}

describe('POR_ELx rights states', () => {
  it('round-trips every denial set through the Perm<m> field, normalised as Linux arch_set_user_pkey_access builds it', () => {
    const { el1 } = machineWith({ user: false, writable: true, executable: false });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 15 }), (index, denials) => {
        const state = el1.withDenials(el1.initialState(), index, denials);
        const back = el1.denialsOf(state, index);
        // Access implies Write and Read; what is denied stays denied and nothing more.
        const data = denials & (Deny.Access | Deny.Write | Deny.Read);
        const expectedData = (denials & Deny.Access) !== 0 || data === (Deny.Write | Deny.Read) ? Deny.Access : data;
        expect(back).toBe(expectedData | (denials & Deny.Execute));
        for (let other = 0; other < 8; other++)
          if (other !== index) expect(el1.denialsOf(state, other)).toBe(el1.denialsOf(el1.initialState(), other));
      }),
    );
  });

  it('starts with index 0 RWX and every other index with no access (POR_EL0_INIT)', () => {
    const { el0 } = machineWith({ user: true, writable: true, executable: false });
    expect(el0.format(el0.initialState())).toBe('0x00000007');
    expect(el0.denialsOf(el0.initialState(), 0)).toBe(Deny.None);
    expect(el0.denialsOf(el0.initialState(), 5)).toBe(Deny.Access | Deny.Execute);
    expect(el0.info).toMatchObject({
      domains: 8,
      register: 'POR_EL0',
      governs: Privilege.User,
      contextSave: 'software',
      scope: 'thread',
    });
  });

  it('treats reserved field values 8..15 as no access', () => {
    for (let value = 8; value < 16; value++) expect(overlayField(value << 4, 1)).toBe(0);
    expect(denialsOfOverlay(POE_X)).toBe(Deny.Access);
    expect(denialsOfOverlay(POE_R | POE_W)).toBe(Deny.Execute);
  });

  it('refuses bad indices, flags and states before changing anything', () => {
    const { el1 } = machineWith({ user: false, writable: true, executable: false });
    expect(() => el1.withDenials(el1.initialState(), 8, Deny.Write)).toThrow(DomainError);
    // Reserved for allocation, not for the register: field 0 can still be written.
    expect(el1.denialsOf(el1.withDenials(el1.initialState(), 0, Deny.Write), 0)).toBe(Deny.Write);
    expect(el1.denialsOf(el1.initialState(), 0)).toBe(Deny.None);
    expect(() => el1.withDenials(el1.initialState(), 1, 0x10)).toThrow(/unknown flags/);
    expect(() => el1.denialsOf([1, 2], 1)).toThrow(/one unsigned 32-bit word/);
  });
});

describe('the POE access check', () => {
  it('removes rights only: RWX overlay on a read-only page still faults the write as a base permission fault', () => {
    const { machine, va, el1 } = machineWith({ user: false, writable: false, executable: false });
    el1.load(0, el1.withDenials(el1.initialState(), 1, Deny.None));
    expect(machine.access(0, va, AccessKind.Read)).toBe(0);
    expect(machine.access(0, va, AccessKind.Write)).not.toBe(0);
    expect(machine.lastFault(0)).toMatchObject({ cause: 'permission', detail: { overlay: false } });
  });

  it('reports an overlay violation as a permission fault with ISS2.Overlay (ESR bit 38)', () => {
    const { machine, va, el1 } = machineWith({ user: false, writable: true, executable: false });
    el1.load(0, el1.withDenials(el1.initialState(), 1, Deny.Write));
    expect(machine.access(0, va, AccessKind.Read)).toBe(0);
    expect(machine.access(0, va, AccessKind.Write)).not.toBe(0);
    const fault = machine.lastFault(0)!;
    // EC 0x25 (data abort, same EL), IL, WnR, FSC 0b001111 (permission, level 3), ISS2.Overlay.
    expect(fault.detail.esr).toBe(0x9600004f + 2 ** 38);
    expect(fault).toMatchObject({ cause: 'domain', detail: { overlay: true, level: 3, wnr: true } });
    expect(fault.domain).toBeUndefined();
  });

  it('can deny reads while allowing writes (PKEY_DISABLE_READ) and deny execute (PKEY_DISABLE_EXECUTE)', () => {
    const { machine, va, el1 } = machineWith({ user: false, writable: true, executable: true });
    el1.load(0, el1.withDenials(el1.initialState(), 1, Deny.Read | Deny.Execute));
    expect(machine.access(0, va, AccessKind.Write)).toBe(0);
    expect(machine.access(0, va, AccessKind.Read)).not.toBe(0);
    expect(machine.access(0, va, AccessKind.Fetch)).not.toBe(0);
    expect(machine.lastFault(0)).toMatchObject({
      cause: 'domain',
      detail: { exception: 'Instruction Abort', ec: 0x21 },
    });
  });

  it('ignores POR_EL1 until TCR2_EL1.POE is set', () => {
    const machine = new Arm64PoeMachine();
    const pa = machine.allocatePhysical(0x1000);
    machine.map(0, KVA, pa, 0x1000, { user: false, writable: true, executable: false, domain: 3 });
    const el1 = machine.domainSpace(Privilege.Supervisor)!;
    el1.load(0, el1.initialState()); // index 3: no access
    expect(el1.enabled(0)).toBe(false);
    expect(machine.access(0, KVA, AccessKind.Write)).toBe(0);
    el1.enable(0);
    expect(machine.access(0, KVA, AccessKind.Write)).not.toBe(0);
  });

  it('checks EL0 accesses against POR_EL0 and EL1 accesses against POR_EL1', () => {
    const { machine, va, el0, el1 } = machineWith({ user: true, writable: true, executable: false });
    el0.load(0, el0.withDenials(el0.initialState(), 1, Deny.Access));
    el1.load(0, el1.withDenials(el1.initialState(), 1, Deny.None));
    expect(machine.access(0, va, AccessKind.Read)).toBe(0); // EL1, PAN off
    machine.setMode(0, Privilege.User);
    expect(machine.access(0, va, AccessKind.Read)).not.toBe(0);
    expect(machine.lastFault(0)).toMatchObject({ cause: 'domain', detail: { ec: 0x24, overlay: true } });
  });

  it('applies WXN after the overlay: an overlay granting X drops W; without an overlay W drops X', () => {
    const { machine, va, el1 } = machineWith({ user: false, writable: true, executable: true });
    el1.load(0, el1.withDenials(el1.initialState(), 1, Deny.None));
    machine.msr(0, 'SCTLR_EL1', SCTLR_WXN);
    expect(machine.access(0, va, AccessKind.Fetch)).toBe(0);
    expect(machine.access(0, va, AccessKind.Write)).not.toBe(0);
    expect(machine.lastFault(0)?.cause).toBe('domain');
    el1.load(0, el1.withDenials(el1.initialState(), 1, Deny.Execute)); // overlay RW: no X, W stays
    expect(machine.access(0, va, AccessKind.Write)).toBe(0);
    machine.msr(0, 'TCR2_EL1', 0); // overlays off: plain WXN
    expect(machine.access(0, va, AccessKind.Write)).toBe(0);
    expect(machine.access(0, va, AccessKind.Fetch)).not.toBe(0);
    expect(machine.lastFault(0)?.cause).toBe('permission');
  });

  it('applies PAN after the EL0 overlay: EL1 may touch a user page EL0 can no longer read or write', () => {
    const { machine, va, el0, el1 } = machineWith({ user: true, writable: true, executable: false });
    el1.load(0, el1.withDenials(el1.initialState(), 1, Deny.None));
    el0.load(0, el0.withDenials(el0.initialState(), 1, Deny.None));
    machine.setPan(0, true);
    expect(machine.access(0, va, AccessKind.Read)).not.toBe(0);
    expect(machine.lastFault(0)).toMatchObject({ cause: 'privilege-guard', detail: { pan: true, overlay: false } });
    el0.load(0, el0.withDenials(el0.initialState(), 1, Deny.Access));
    expect(machine.access(0, va, AccessKind.Read)).toBe(0);
  });

  it('needs no TLB maintenance on POR writes: the overlay is read at every access', () => {
    const { machine, va, el1 } = machineWith({ user: false, writable: true, executable: false });
    el1.load(0, el1.withDenials(el1.initialState(), 1, Deny.None));
    expect(machine.access(0, va, AccessKind.Write)).toBe(0);
    const walks = machine.events.get(0, MachineEvent.PageWalk);
    const flushes = machine.events.total(MachineEvent.TlbFlushPage) + machine.events.total(MachineEvent.TlbFlushAll);
    el1.load(0, el1.withDenials(el1.initialState(), 1, Deny.Write));
    expect(machine.access(0, va, AccessKind.Write)).not.toBe(0);
    expect(machine.events.get(0, MachineEvent.PageWalk)).toBe(walks);
    expect(machine.events.total(MachineEvent.TlbFlushPage) + machine.events.total(MachineEvent.TlbFlushAll)).toBe(
      flushes,
    );
    expect(machine.events.get(0, MachineEvent.RightsWrite)).toBeGreaterThan(0);
  });

  it('reports a translation fault with its level and the EL0 data-abort class', () => {
    const machine = new Arm64PoeMachine();
    machine.setMode(0, Privilege.User);
    expect(machine.access(0, UVA, AccessKind.Read)).not.toBe(0);
    // The lower-half root table is empty: the walk stops at level 0.
    expect(machine.lastFault(0)).toMatchObject({ cause: 'not-present', detail: { ec: 0x24, fsc: 0x04, level: 0 } });
  });
});

describe('system-register instructions', () => {
  it('makes POR_EL1 UNDEFINED at EL0 and traps POR_EL0 until CPACR_EL1.E0POE, changing nothing', () => {
    const machine = new Arm64PoeMachine();
    machine.setMode(0, Privilege.User);
    expect(() => machine.msr(0, 'POR_EL1', 0)).toThrow(Arm64Exception);
    expect(() => machine.msr(0, 'POR_EL0', 0x77)).toThrow(/traps to EL1/);
    machine.setMode(0, Privilege.Supervisor);
    expect(machine.mrs(0, 'POR_EL0')).toBe(0n);
    machine.domainSpace(Privilege.User)!.enable(0);
    machine.setMode(0, Privilege.User);
    machine.msr(0, 'POR_EL0', 0x77n);
    expect(machine.mrs(0, 'POR_EL0')).toBe(0x77n);
  });

  it('has no POR registers and refuses to enable without the feature', () => {
    const machine = new Arm64PoeMachine({ features: { el1Overlay: false } });
    expect(() => machine.msr(0, 'POR_EL1', 7)).toThrow(/UNDEFINED/);
    expect(() => machine.domainSpace(Privilege.Supervisor)!.enable(0)).toThrow(DomainError);
    machine.msr(0, 'TCR2_EL1', 0xc);
    expect(machine.mrs(0, 'TCR2_EL1')).toBe(0x4n); // POE is RES0 without the feature
  });

  it('is selectable as the arm64-poe plugin and rejects unknown options', () => {
    const { machine } = createMachine({ arch: 'arm64-poe', cpus: 2, features: { userDomains: false } });
    expect(machine.arch).toBe('arm64-poe');
    expect(machine.domainSpace(Privilege.User)!.available(0)).toBe(false);
    expect(() => createMachine({ arch: 'arm64-poe', cpus: 1, options: { pagingLevels: 5 } })).toThrow(
      /unknown arm64-poe option/,
    );
  });
});
