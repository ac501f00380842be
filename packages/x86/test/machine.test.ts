import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  createMachine,
  Deny,
  DomainError,
  MachineEvent,
  PageSize,
  Privilege,
  rightsState,
} from '@pkeysim/core';
import { X86_INIT_RIGHTS, X86Machine } from '../src/index';
import { parseVector } from '../src/vectors';

const KERNEL = -0x778000000000;

describe('X86Machine', () => {
  it('map refuses an unaligned range, a range mapped twice and an unrepresentable bigint, changing nothing', () => {
    const machine = new X86Machine();
    const pa = machine.allocatePhysical(0x4000);
    expect(() => machine.map(0, KERNEL + 1, pa, 0x1000, { user: false, writable: true, executable: false })).toThrow(
      /aligned/,
    );
    machine.map(0, KERNEL, pa, 0x2000, { user: false, writable: true, executable: false });
    const pteWrites = machine.events.total(MachineEvent.PteWrite);
    expect(() =>
      machine.map(0, KERNEL + 0x1000, pa, 0x2000, { user: false, writable: true, executable: false }),
    ).toThrow(/already mapped/);
    expect(machine.events.total(MachineEvent.PteWrite)).toBe(pteWrites);
    expect(machine.translate(0, KERNEL + 0x2000)).toBeUndefined();
    expect(() =>
      machine.map(0, 0xfffffffffff000n as unknown as number, pa, 0x1000, {
        user: true,
        writable: true,
        executable: false,
      }),
    ).toThrow(/represented exactly/);
    expect(() =>
      machine.map(0, 0x1000, pa, 0x1000, { user: true, writable: true, executable: false, domain: 16 }),
    ).toThrow(DomainError);
  });
  it('attach re-keys, splits a 2 MiB page, INVLPGs locally and counts a shootdown per other CPU', () => {
    const machine = new X86Machine({ cpus: 3 });
    const pa = machine.allocatePhysical(PageSize.Size2M, { align: PageSize.Size2M });
    machine.map(0, KERNEL, pa, PageSize.Size2M, {
      user: false,
      writable: true,
      executable: false,
      pageSize: PageSize.Size2M,
    });
    machine.access(1, KERNEL + 0x3000, AccessKind.Read);
    machine.attach(0, KERNEL + 0x3000, 0x1000, 5);
    expect(machine.translate(0, KERNEL + 0x3000)).toMatchObject({
      domain: 5,
      pageSize: PageSize.Size4K,
      physical: pa + 0x3000,
    });
    expect(machine.translate(0, KERNEL + 0x4000)).toMatchObject({
      domain: 0,
      pageSize: PageSize.Size4K,
      physical: pa + 0x4000,
    });
    expect(machine.events.get(0, MachineEvent.Shootdown)).toBe(2);
    expect(machine.events.get(0, MachineEvent.TlbFlushPage)).toBe(1);
    expect(machine.cpu(1).cachedFrame(KERNEL + 0x3000)).toBe(-1);
  });
  it('write checks every page first and writes nothing if any page faults', () => {
    const machine = new X86Machine();
    const pa = machine.allocatePhysical(0x2000);
    machine.map(0, KERNEL, pa, 0x1000, { user: false, writable: true, executable: false });
    machine.map(0, KERNEL + 0x1000, pa + 0x1000, 0x1000, { user: false, writable: true, executable: false, domain: 2 });
    const pks = machine.domainSpace(Privilege.Supervisor)!;
    pks.enable(0);
    pks.load(0, pks.withDenials(rightsState(0), 2, Deny.Write));
    const code = machine.write(0, KERNEL + 0xff0, new Uint8Array(32).fill(0xaa));
    expect(code).toBe(0x10000 | 0x23);
    expect(machine.readPhysical(pa + 0xff0, 16)).toEqual(new Uint8Array(16));
    expect(machine.lastFault(0)).toMatchObject({
      cause: 'domain',
      detail: { vector: '#PF', errorCode: 0x23, cr2: KERNEL + 0x1000 },
    });
    expect(machine.write(0, KERNEL + 0x10, new Uint8Array([1, 2, 3]))).toBe(0);
    expect(machine.read(0, KERNEL + 0x10, 3)).toEqual(new Uint8Array([1, 2, 3]));
  });
  it('cpu.accessBatch returns the fault count and each result', () => {
    const machine = new X86Machine();
    const pa = machine.allocatePhysical(0x1000);
    machine.map(0, 0x400000, pa, 0x1000, { user: true, writable: false, executable: false });
    const out = new Int32Array(3);
    const faults = machine.cpu(0).accessBatch(new Float64Array([0x400000, 0x400008, 0x500000]), AccessKind.Read, out);
    expect(faults).toBe(1);
    expect(Array.from(out)).toEqual([0, 0, 0x10000]);
  });
  it('SMEP or SMAP faults are reported with cause privilege-guard', () => {
    const machine = new X86Machine();
    const pa = machine.allocatePhysical(0x1000);
    machine.map(0, 0x400000, pa, 0x1000, { user: true, writable: true, executable: true });
    const cpu = machine.cpu(0);
    cpu.movToCr4(cpu.cr4 | (1 << 21));
    expect(machine.access(0, 0x400000, AccessKind.Read)).toBe(0x10001);
    expect(machine.lastFault(0)?.cause).toBe('privilege-guard');
  });
});

describe('domain spaces', () => {
  it('PKS and PKU describe themselves and start at 0x55555554 (Linux INIT_PKRU / INIT_PKRS)', () => {
    const machine = new X86Machine();
    const pks = machine.domainSpace(Privilege.Supervisor)!;
    const pku = machine.domainSpace(Privilege.User)!;
    expect(pks.info).toMatchObject({
      id: 'x86.pks',
      register: 'PKRS',
      domains: 16,
      defaultDomain: 0,
      contextSave: 'software',
      scope: 'thread',
    });
    expect(pku.info).toMatchObject({ id: 'x86.pku', register: 'PKRU', contextSave: 'extended-state' });
    expect(pks.initialState()).toEqual([X86_INIT_RIGHTS]);
    expect(pks.denialsOf(pks.initialState(), 0)).toBe(Deny.None);
    expect(pks.denialsOf(pks.initialState(), 1)).toBe(Deny.Access);
  });
  it('withDenials rejects an out-of-range key (invalid) and execute/read denials (unsupported) without mutating', () => {
    const pks = new X86Machine().domainSpace(Privilege.Supervisor)!;
    const state = pks.initialState();
    expect(() => pks.withDenials(state, 16, Deny.Access)).toThrow(expect.objectContaining({ code: 'invalid' }));
    expect(() => pks.withDenials(state, 1, Deny.Execute)).toThrow(expect.objectContaining({ code: 'unsupported' }));
    expect(() => pks.withDenials(state, 1, Deny.Read)).toThrow(expect.objectContaining({ code: 'unsupported' }));
    expect(pks.withDenials(state, 1, Deny.Write)).toEqual([0x55555558]);
    expect(state).toEqual([0x55555554]);
  });
  it('load and read go through WRMSR/RDMSR at CPL0 semantics, even from CPL3', () => {
    const machine = new X86Machine();
    const pks = machine.domainSpace(Privilege.Supervisor)!;
    machine.setMode(0, Privilege.User);
    pks.load(0, [0x1234]);
    expect(pks.read(0)).toEqual([0x1234]);
    expect(machine.mode(0)).toBe(Privilege.User);
  });
  it('without PKS the space is unavailable and enable/load report unsupported', () => {
    const machine = new X86Machine({ features: { pks: false } });
    const pks = machine.domainSpace(Privilege.Supervisor)!;
    expect(pks.available(0)).toBe(false);
    expect(() => pks.enable(0)).toThrow(expect.objectContaining({ code: 'unsupported' }));
    expect(() => pks.load(0, [0])).toThrow(expect.objectContaining({ code: 'unsupported' }));
  });
});

describe('plugin and vectors API', () => {
  it('createMachine maps features.supervisorDomains and options.pagingLevels onto the x86 machine', () => {
    const { machine } = createMachine({
      arch: 'x86',
      cpus: 2,
      features: { supervisorDomains: false },
      options: { pagingLevels: 5 },
    });
    const x86 = machine as X86Machine;
    expect(x86.pagingLevels).toBe(5);
    expect(x86.domainSpace(Privilege.Supervisor)!.available(1)).toBe(false);
    expect(() => createMachine({ arch: 'x86', cpus: 1, options: { levels: 5 } })).toThrow(/unknown x86 option/);
  });
  it('parseVector names the bad field: JSON, range, unknown field, unknown insn', () => {
    expect(parseVector('{')).toMatchObject({ ok: false, issue: { field: '(json)' } });
    const good = JSON.parse(
      '{"id":"a","paging":4,"cpl":0,"cr0_wp":1,"cr4_pke":0,"cr4_pks":0,"page":{"user":1,"write":1,"nx":0,"pkey":1,"size":"4K"},"pkru":0,"pkrs":0,"access":"read"}',
    );
    const parsed = parseVector(JSON.stringify(good));
    expect(parsed).toMatchObject({ ok: true, vector: { cr4_smep: 0, cr4_smap: 0, eflags_ac: 0 } });
    expect(parseVector(JSON.stringify({ ...good, page: { ...good.page, pkey: 16 } }))).toMatchObject({
      ok: false,
      issue: { field: 'page.pkey' },
    });
    expect(parseVector(JSON.stringify({ ...good, cr4_smpe: 1 }))).toMatchObject({
      ok: false,
      issue: { field: 'cr4_smpe' },
    });
    expect(
      parseVector(
        JSON.stringify({ kind: 'insn', id: 'x', cpl: 0, cr4_pke: 0, cr4_pks: 0, pkru: 0, pkrs: 0, insn: 'xsave' }),
      ),
    ).toMatchObject({ ok: false, issue: { field: 'insn' } });
    expect(
      parseVector(
        JSON.stringify({
          kind: 'insn',
          id: 'x',
          cpl: 0,
          cr4_pke: 1,
          cr4_pks: 0,
          pkru: 0,
          pkrs: 0,
          insn: 'rdpkru',
          cpu: { pku: 0, pks: 1 },
        }),
      ),
    ).toMatchObject({ ok: false, issue: { field: 'cr4_pke' } });
  });
});
