import { AccessKind, createMachine, Deny, DomainError, MachineEvent, Privilege } from '@pkeysim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DSISR_AMR,
  DSISR_ISSTORE,
  DSISR_PROTFAULT,
  keyBits,
  keyShift,
  linuxDefaults,
  PowerException,
  PowerMachine,
  SRR1_IAMR,
  SRR1_NOEXEC_GUARD,
} from '../src/index';

const KVA = -0x778000000000;
const UVA = 0x403000;

function machineWith(
  attrs: { user: boolean; writable: boolean; executable: boolean },
  key = 5,
  linuxPageSize: 65536 | 4096 = 65536,
) {
  const machine = new PowerMachine({ cpus: 2, linuxPageSize });
  const pa = machine.allocatePhysical(0x1000);
  const va = attrs.user ? UVA : KVA;
  machine.map(0, va, pa, 0x1000, { ...attrs, domain: key });
  const space = machine.domainSpace(Privilege.Supervisor)!;
  space.load(0, space.initialState());
  space.enable(0);
  return { machine, va, space };
}

describe('AMR/IAMR/UAMOR layout', () => {
  it('puts key k at shift 2*(31-k): key 0 in the top two bits, key 31 in the bottom two', () => {
    expect(keyShift(0)).toBe(62);
    expect(keyShift(31)).toBe(0);
    expect(keyBits(0x80000000, 0, 0)).toBe(0x2);
    expect(keyBits(0, 0x1, 31)).toBe(0x1);
  });

  it('computes the Linux defaults: key 0 and the kernel key 3 open, execute-only key 2 R/W-denied but executable', () => {
    const d = linuxDefaults(32);
    expect(d.amr).toEqual([0x3cffffff, 0xffffffff]);
    expect(d.iamr).toEqual([0x10555555, 0x55555555]);
    expect(d.uamor).toEqual([0x00ffffff, 0xffffffff]);
    expect(linuxDefaults(8).uamor).toEqual([0x00ff0000, 0]);
  });

  it('round-trips every denial set for every key (property)', () => {
    const { space } = machineWith({ user: false, writable: true, executable: false });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 31 }).filter((k) => k < 1 || k > 3),
        fc.integer({ min: 0, max: 15 }),
        (key, denials) => {
          const state = space.withDenials(space.initialState(), key, denials);
          const data =
            (denials & Deny.Access) !== 0 || (denials & (Deny.Write | Deny.Read)) === (Deny.Write | Deny.Read)
              ? Deny.Access
              : denials & (Deny.Write | Deny.Read);
          expect(space.denialsOf(state, key)).toBe(data | (denials & Deny.Execute));
          const other = (key + 1) % 32;
          expect(space.denialsOf(state, other)).toBe(space.denialsOf(space.initialState(), other));
        },
      ),
    );
  });

  it('describes one shared, thread-scoped space with keys 1-3 reserved', () => {
    const { machine, space } = machineWith({ user: false, writable: true, executable: false });
    expect(machine.domainSpace(Privilege.User)).toBe(space);
    expect(space.info).toMatchObject({
      governs: 'shared',
      domains: 32,
      defaultDomain: 0,
      scope: 'thread',
      contextSave: 'software',
    });
    expect(space.info.reserved.map((r) => r.domain)).toEqual([1, 2, 3]);
    expect(() => space.withDenials(space.initialState(), 32, Deny.Write)).toThrow(DomainError);
    // Reserved for allocation, not for the register: their bits stay writable in privileged mode.
    for (const key of [1, 2, 3])
      expect(space.denialsOf(space.withDenials(space.initialState(), key, Deny.Write), key)).toBe(Deny.Write);
    // Reading a reserved key is fine: key 2 is execute-only (R/W denied, X allowed).
    expect(space.denialsOf(space.initialState(), 2)).toBe(Deny.Access);
    expect(() => space.load(0, [1, 2])).toThrow(/four u32 words/);
  });
});

describe('the storage-key access check', () => {
  it('raises a DSI with DSISR_AMR for a store-disabled key, in privileged state too', () => {
    const { machine, va, space } = machineWith({ user: false, writable: true, executable: false });
    space.load(0, space.withDenials(space.initialState(), 5, Deny.Write));
    expect(machine.access(0, va, AccessKind.Read)).toBe(0);
    expect(machine.access(0, va, AccessKind.Write)).not.toBe(0);
    expect(machine.lastFault(0)).toMatchObject({
      cause: 'domain',
      detail: { interrupt: 'DSI', dsisr: DSISR_AMR | DSISR_ISSTORE },
    });
  });

  it('applies the same AMR to problem-state accesses', () => {
    const { machine, va, space } = machineWith({ user: true, writable: true, executable: false });
    space.load(0, space.withDenials(space.initialState(), 5, Deny.Read));
    machine.setMode(0, Privilege.User);
    expect(machine.access(0, va, AccessKind.Write)).toBe(0);
    expect(machine.access(0, va, AccessKind.Read)).not.toBe(0);
    expect(machine.lastFault(0)).toMatchObject({ cause: 'domain', mode: Privilege.User, detail: { dsisr: DSISR_AMR } });
  });

  it('raises an ISI with SRR1_IAMR for an execute-disabled key, and NOEXEC_GUARD for a no-execute page', () => {
    const { machine, va, space } = machineWith({ user: false, writable: false, executable: true });
    space.load(0, space.withDenials(space.initialState(), 5, Deny.Execute));
    expect(machine.access(0, va, AccessKind.Read)).toBe(0);
    expect(machine.access(0, va, AccessKind.Fetch)).not.toBe(0);
    expect(machine.lastFault(0)).toMatchObject({ cause: 'domain', detail: { interrupt: 'ISI', srr1: SRR1_IAMR } });
    const other = machineWith({ user: false, writable: true, executable: false });
    expect(other.machine.access(0, other.va, AccessKind.Fetch)).not.toBe(0);
    expect(other.machine.lastFault(0)).toMatchObject({
      cause: 'permission',
      detail: { srr1: SRR1_NOEXEC_GUARD | SRR1_IAMR },
    });
  });

  it('reports both bits when page protection and the key deny, as QEMU does, with cause permission', () => {
    const { machine, va, space } = machineWith({ user: false, writable: false, executable: false });
    space.load(0, space.withDenials(space.initialState(), 5, Deny.Write));
    expect(machine.access(0, va, AccessKind.Write)).not.toBe(0);
    expect(machine.lastFault(0)).toMatchObject({
      cause: 'permission',
      detail: { dsisr: DSISR_PROTFAULT | DSISR_ISSTORE | DSISR_AMR },
    });
  });

  it('needs no TLB maintenance on AMR writes', () => {
    const { machine, va, space } = machineWith({ user: false, writable: true, executable: false });
    space.load(0, space.withDenials(space.initialState(), 5, Deny.None));
    expect(machine.access(0, va, AccessKind.Write)).toBe(0);
    const walks = machine.events.get(0, MachineEvent.PageWalk);
    space.load(0, space.withDenials(space.initialState(), 5, Deny.Access));
    expect(machine.access(0, va, AccessKind.Write)).not.toBe(0);
    expect(machine.events.get(0, MachineEvent.PageWalk)).toBe(walks);
    expect(machine.events.total(MachineEvent.TlbFlushPage)).toBe(0);
  });

  it('keeps only 3 key bits in the PTE with 4 KiB Linux pages: keys 8..31 cannot be attached', () => {
    const { machine, va } = machineWith({ user: false, writable: true, executable: false }, 7, 4096);
    expect(machine.translate(0, va)?.domain).toBe(7);
    expect(() => machine.attach(0, va, 0x1000, 8)).toThrow(/domain 8 must be 0..7/);
    expect(machine.domainSpace(Privilege.User)!.info.domains).toBe(8);
  });
});

describe('SPR instructions', () => {
  it('masks a problem-state AMR write with UAMOR (only user-modifiable keys change)', () => {
    const { machine } = machineWith({ user: true, writable: true, executable: false });
    machine.setMode(0, Privilege.User);
    machine.mtspr(0, 'AMR', 0n);
    // Keys 0..3 are not in UAMOR: they keep their default bits; keys 4..31 are cleared.
    expect(machine.mfspr(0, 'AMR')).toBe(0x3c00000000000000n);
  });

  it('raises a privileged-instruction Program interrupt for IAMR and UAMOR in problem state, changing nothing', () => {
    const { machine } = machineWith({ user: true, writable: true, executable: false });
    machine.setMode(0, Privilege.User);
    expect(() => machine.mtspr(0, 'IAMR', 0n)).toThrow(PowerException);
    expect(() => machine.mtspr(0, 'UAMOR', ~0n & 0xffffffffffffffffn)).toThrow(/problem state/);
    expect(() => machine.mfspr(0, 'IAMR')).toThrow(PowerException);
    machine.setMode(0, Privilege.Supervisor);
    expect(machine.mfspr(0, 'IAMR')).toBe(0x1055555555555555n);
  });

  it('is selectable as the power plugin and rejects unknown options', () => {
    const { machine } = createMachine({ arch: 'power', cpus: 1 });
    expect(machine.arch).toBe('power');
    expect(() => createMachine({ arch: 'power', cpus: 1, options: { radix: true } })).toThrow(/unknown power option/);
    expect(() => new PowerMachine({ linuxPageSize: 16384 as 4096 })).toThrow(/65536 or 4096/);
  });
});
