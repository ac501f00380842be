import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AccessKind, createMachine, DomainError, Privilege } from '@pkeysim/core';
import '@pkeysim/x86';
import '../src';

const ARCH = 'vkeys';
const junk = fc.constantFrom<unknown>(NaN, Infinity, -1, 1.5, 2 ** 53, '1', 'toString', null, undefined, {}, [], [NaN]);
const num = (max: number) => fc.oneof(fc.integer({ min: 0, max }), junk);

type Call = {
  fn: 'load' | 'denialsOf' | 'withDenials' | 'enable' | 'read' | 'access';
  a: unknown;
  b: unknown;
  c: unknown;
};
const call: fc.Arbitrary<Call> = fc.record({
  fn: fc.constantFrom('load', 'denialsOf', 'withDenials', 'enable', 'read', 'access'),
  a: num(3),
  b: fc.oneof(num(70), fc.constant([0])),
  c: num(15),
});

describe(`${ARCH}: public entry points refuse bad arguments with DomainError and change nothing`, () => {
  it('junk cpus, states, domains, denials and access kinds (1000 sequences)', () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 20 }), (calls) => {
        const { machine } = createMachine({ arch: ARCH, cpus: 2 });
        const space = machine.domainSpace(Privilege.Supervisor)!;
        for (let cpu = 0; cpu < 2; cpu++) space.enable(cpu);
        // Reading the registers is itself a counted event (rights_read): leave that counter out.
        const observe = () => {
          const { rights_read: _reads, ...counters } = machine.events.summary();
          return JSON.stringify([space.read(0), space.read(1)]) + JSON.stringify(counters);
        };
        for (const c of calls) {
          const before = observe();
          try {
            switch (c.fn) {
              case 'load':
                space.load(c.a as number, c.b as number[]);
                break;
              case 'denialsOf':
                space.denialsOf(c.a as number[], c.b as number);
                break;
              case 'withDenials':
                space.withDenials(space.initialState(), c.b as number, c.c as number);
                break;
              case 'enable':
                space.enable(c.a as number);
                break;
              case 'read':
                space.read(c.a as number);
                break;
              case 'access':
                // Numeric CPUs only: the CPU index is checked by the x86 model underneath (not this package).
                machine.access(typeof c.a === 'number' ? c.a : 0, c.b as number, c.c as AccessKind);
                break;
            }
          } catch (error) {
            if (!(error instanceof DomainError) && !(error instanceof RangeError)) throw error;
            // read() counts as an event in some schemes; a refused call must not.
            expect(observe(), `${JSON.stringify(c)} was refused but changed state`).toBe(before);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
