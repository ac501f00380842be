import { createMachine, type DomainSpace, type Machine, Privilege, type RightsState } from '@pkeysim/core';
import '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { ForwardingMachine, PageMap, SparseRights } from '@pkeysim/plugin-kit';
import { checkConformance } from '@pkeysim/plugin-kit/conformance';

const x86 = (): Machine => createMachine({ arch: 'x86', cpus: 2 }).machine;

/** x86 with one behaviour broken, to show the suite notices. */
function broken(
  change: (space: DomainSpace, inner: Machine) => Partial<DomainSpace>,
  machineChange: Partial<Machine> = {},
): () => Machine {
  return () => {
    const inner = x86();
    const space = inner.domainSpace(Privilege.Supervisor)!;
    const patched = Object.assign(Object.create(space) as DomainSpace, change(space, inner));
    class Broken extends ForwardingMachine {
      override domainSpace(governs: Privilege): DomainSpace | undefined {
        return governs === Privilege.Supervisor ? patched : undefined;
      }
    }
    return Object.assign(new Broken(inner), machineChange);
  };
}

const failing = (make: () => Machine): string[] =>
  checkConformance(make)
    .filter((f) => !f.expected)
    .map((f) => f.check);

describe('the conformance suite catches broken plugins', () => {
  it('passes x86', () => {
    expect(failing(x86)).toEqual([]);
  });

  it('catches a load that does not stick', () => {
    expect(
      failing(broken((s) => ({ load: (cpu: number, _state: RightsState) => s.load(cpu, s.initialState()) }))),
    ).toContain('load-read');
  });

  it('catches an initial state that leaves every domain open', () => {
    expect(failing(broken(() => ({ initialState: () => [0] })))).toContain('info-coherent');
  });

  it('catches a fault reported with the wrong cause', () => {
    const make = (): Machine => {
      const inner = x86();
      return Object.assign(new ForwardingMachine(inner), {
        lastFault: (cpu: number) => {
          const f = inner.lastFault(cpu);
          return f && { ...f, cause: 'permission' as const };
        },
      });
    };
    expect(failing(make)).toContain('domain-fault-cause');
  });

  it("catches an attach that skips the other CPUs' TLBs", () => {
    const make = (): Machine => {
      const inner = x86() as Machine & {
        pageTables: { setKey(root: number, va: number, len: number, key: number): void };
        rootOf(s: number): number;
      };
      return Object.assign(new ForwardingMachine(inner), {
        attach: (space: number, va: number, len: number, domain: number) =>
          inner.pageTables.setKey(inner.rootOf(space), va, len, domain),
      });
    };
    expect(failing(make)).toContain('attach-retag');
  });

  it('catches a mutating withDenials and a denial that blocks too much', () => {
    const mutating = broken((s) => ({
      withDenials: (state: RightsState, d: number, den: number) => {
        const next = s.withDenials(state, d, den);
        (state as number[]).length = 0;
        return next;
      },
    }));
    expect(failing(mutating)).toContain('with-denials-pure');
    const overReaching = broken((s) => ({
      withDenials: (state: RightsState, d: number, den: number) => s.withDenials(state, d, den === 2 ? 3 : den),
    }));
    expect(failing(overReaching)).toContain('denial-blocks-named-access');
  });
});

describe('helpers for schemes', () => {
  const rights = new SparseRights('test rights', (d) => (d === 0 ? 0 : 1));

  it('keeps sparse states canonical: default-valued domains are not stored, pairs stay sorted', () => {
    let state = rights.withDenials([], 9, 2);
    state = rights.withDenials(state, 3, 0);
    expect([...state]).toEqual([3, 0, 9, 2]);
    expect([...rights.withDenials(state, 9, 1)]).toEqual([3, 0]);
    expect(rights.denialsOf(state, 1000)).toBe(1);
    expect(() => rights.check([9, 2, 3, 0])).toThrow(/sorted/);
    expect(() => rights.check([4, 1])).toThrow(/default/);
    expect(rights.format(state)).toBe('{3:rw, 9:r-}');
  });

  it('checks a frozen state once and still refuses every bad state, frozen or not', () => {
    const good = Object.freeze([3, 0, 9, 2]);
    for (let i = 0; i < 3; i++) expect(() => rights.check(good)).not.toThrow();
    const mutable = [3, 0];
    rights.check(mutable);
    mutable[1] = 1; // now stores domain 3's default: a mutable state is checked again every time
    expect(() => rights.check(mutable)).toThrow(/default/);
    for (const bad of [Object.freeze([9, 2, 3, 0]), Object.freeze([4, 1]), Object.freeze([1])])
      expect(() => rights.check(bad)).toThrow(/test rights/);
  });

  it('shares upper-half pages between address spaces and keeps lower halves apart', () => {
    const pages = new PageMap<string>();
    pages.set(1, -0x1000, 'kernel');
    pages.set(1, 0x1000, 'user of 1');
    expect([pages.get(2, -0x1000), pages.get(2, 0x1000), pages.get(1, 0x1fff), pages.size]).toEqual([
      'kernel',
      undefined,
      'user of 1',
      2,
    ]);
    expect(pages.delete(1, 0x1000)).toBe(true);
    expect(pages.size).toBe(1);
  });
});
