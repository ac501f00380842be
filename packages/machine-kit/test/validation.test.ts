/** The kit's public entry points refuse bad arguments with DomainError('invalid') and change nothing. */
import { AccessKind, DomainError, isDomainError, type PageSize } from '@pkeysim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ToyMachine } from './toy-arch';

const KVA = -0x778000000000;
const kernelPage = { user: false, writable: true, executable: false };

function mapped() {
  const machine = new ToyMachine({ cpus: 2 });
  const pa = machine.allocatePhysical(0x2000);
  machine.map(0, KVA, pa, 0x2000, kernelPage);
  expect(machine.access(0, KVA, AccessKind.Read)).toBe(0); // cached: later bad calls could hit it
  return { machine, pa };
}

/** Everything a refused call must leave as it was. */
function snapshot(machine: ToyMachine) {
  return {
    counts: Array.from(machine.events.counts),
    tlb0: [Array.from(machine.tlb(0).tag), Array.from(machine.tlb(0).flags)],
    tlb1: Array.from(machine.tlb(1).tag),
    fault: machine.lastFault(0),
    translation: machine.translate(0, KVA),
    frames: machine.memory.allocatedFrames,
  };
}

function expectRefused(machine: ToyMachine, call: () => unknown): void {
  const before = snapshot(machine);
  let error: unknown;
  try {
    call();
  } catch (caught) {
    error = caught;
  }
  expect(isDomainError(error, 'invalid'), `expected DomainError('invalid'), got ${String(error)}`).toBe(true);
  expect(snapshot(machine)).toEqual(before);
}

describe('validation before mutation', () => {
  it('access refuses a bad CPU, access kind or address, and counts nothing', () => {
    const { machine } = mapped();
    for (const cpu of [2, -1, 0.5, NaN, '0' as unknown as number])
      expectRefused(machine, () => machine.access(cpu, KVA, AccessKind.Read));
    for (const kind of [3, -1, 0.5, NaN, 'read', undefined, null])
      expectRefused(machine, () => machine.access(0, KVA, kind as AccessKind));
    // KVA + 0.5 lies in a cached page: the hit path must refuse it too.
    for (const address of [NaN, Infinity, -Infinity, KVA + 0.5, 2 ** 53, -(2 ** 60), '4096' as unknown as number])
      expectRefused(machine, () => machine.access(0, address, AccessKind.Read));
  });

  it('an invalid access kind is never taken as a not-present fault', () => {
    const { machine } = mapped();
    expectRefused(machine, () => machine.access(0, KVA + 0x5000, 7 as AccessKind));
    expect(machine.lastFault(0)).toBeUndefined();
  });

  it('accessBatch refuses the whole batch, even when the bad address follows hits and misses', () => {
    const { machine } = mapped();
    const out = new Int32Array(8);
    const batch = (addresses: number[]) => () =>
      machine.accessBatch(0, Float64Array.from(addresses), AccessKind.Read, out);
    expectRefused(machine, batch([KVA, KVA + 0x1000, KVA + 0x9000, NaN]));
    expectRefused(machine, batch([KVA, KVA + 0.25]));
    expectRefused(machine, batch([KVA + 0x1000, 2 ** 55]));
    expectRefused(machine, () => machine.accessBatch(0, [KVA] as unknown as Float64Array, AccessKind.Read, out));
    expectRefused(machine, () => machine.accessBatch(0, new Float64Array(9), AccessKind.Read, out));
    expectRefused(machine, () => machine.accessBatch(0, new Float64Array(1), 5 as AccessKind, out));
    expectRefused(machine, () => machine.accessBatch(3, new Float64Array(1), AccessKind.Read, out));
  });

  it('map, unmap, attach and translate refuse bad arguments without writing a descriptor', () => {
    const { machine, pa } = mapped();
    const va = 0x400000;
    expectRefused(machine, () => machine.map(0, NaN, pa, 0x1000, kernelPage));
    expectRefused(machine, () => machine.map(0, va, pa, 0.5, kernelPage));
    expectRefused(machine, () => machine.map(9, va, pa, 0x1000, kernelPage));
    expectRefused(machine, () => machine.map(0, va, -4096, 0x1000, kernelPage));
    expectRefused(machine, () => machine.map(0, va, pa, 0x1000, { ...kernelPage, user: 1 as unknown as boolean }));
    expectRefused(machine, () => machine.map(0, va, pa, 0x1000, null as unknown as typeof kernelPage));
    expectRefused(machine, () => machine.map(0, va, pa, 0x1000, { ...kernelPage, pageSize: 0x3000 as PageSize }));
    expectRefused(machine, () => machine.unmap(0, KVA, -0x1000));
    expectRefused(machine, () => machine.attach(0, KVA, 0x1000, 1, 7));
    expectRefused(machine, () => machine.attach(0, KVA, 0x1000, 1.5));
    expectRefused(machine, () => machine.translate(0, NaN));
    expectRefused(machine, () => machine.translate(4, KVA));
  });

  it('physical memory, reads, writes, CPUs and spaces refuse bad arguments', () => {
    const { machine, pa } = mapped();
    expectRefused(machine, () => machine.allocatePhysical(-1));
    expectRefused(machine, () => machine.allocatePhysical(0x1000, { align: 3 }));
    expectRefused(machine, () => machine.readPhysical(NaN, 4));
    expectRefused(machine, () => machine.writePhysical(pa, 'bytes' as unknown as Uint8Array));
    expectRefused(machine, () => machine.write(0, KVA, [1, 2] as unknown as Uint8Array));
    expectRefused(machine, () => machine.read(0, KVA, -1));
    expectRefused(machine, () => machine.read(0, KVA, 0.5));
    expectRefused(machine, () => machine.activate(0, 5));
    expectRefused(machine, () => machine.activate(5, 0));
    expectRefused(machine, () => machine.invalidatePage(0, NaN));
    expectRefused(machine, () => machine.lastFault(-1));
    expect(() => machine.allocatePhysical(2 ** 40)).toThrow(DomainError);
  });

  it('any argument junk gives either a result or DomainError invalid, with state unchanged on refusal (property)', () => {
    const junk = fc.oneof(
      fc.constantFrom(NaN, Infinity, -0.5, 0.5, 2 ** 53, -1, 7, '1', null, undefined, {}),
      fc.integer({ min: -3, max: 4 }),
    );
    fc.assert(
      fc.property(
        junk,
        junk,
        fc.oneof(junk, fc.constantFrom(KVA, KVA + 8, KVA + 0x1000, 0x1234)),
        (cpu, kind, address) => {
          const { machine } = mapped();
          const before = snapshot(machine);
          try {
            const code = machine.access(cpu as number, address as number, kind as AccessKind);
            expect(typeof code).toBe('number');
            expect([0, 1, 2]).toContain(kind);
          } catch (error) {
            expect(isDomainError(error, 'invalid')).toBe(true);
            expect(snapshot(machine)).toEqual(before);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
