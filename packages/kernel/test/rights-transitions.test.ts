import '@pkeysim/x86';
import { createMachine, Deny, type DomainSpace, Privilege, rightsStateEqual } from '@pkeysim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RightsTransitions } from '../src/rights/transitions';

function pks(): DomainSpace {
  const { machine } = createMachine({ arch: 'x86', cpus: 1 });
  return machine.domainSpace(Privilege.Supervisor)!;
}

describe('remembered rights transitions', () => {
  it('give the same state as withDenials for any sequence of key updates', () => {
    const space = pks();
    const denials = fc.constantFrom(Deny.None, Deny.Access, Deny.Write, Deny.Access | Deny.Write);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 15 }), denials), { maxLength: 60 }), (steps) => {
        const transitions = new RightsTransitions(space, 16);
        let remembered = space.initialState();
        let direct = space.initialState();
        for (const [key, d] of steps) {
          remembered = transitions.withDenials(remembered, key, d);
          direct = space.withDenials(direct, key, d);
          expect(rightsStateEqual(remembered, direct)).toBe(true);
        }
      }),
    );
  });

  it('go back to the very state a window was opened from when it closes, so open and close allocate none', () => {
    const space = pks();
    const transitions = new RightsTransitions(space, 16);
    const closed = space.withDenials(space.initialState(), 3, Deny.Access);
    const open = transitions.withDenials(closed, 3, Deny.None);
    expect(transitions.withDenials(open, 3, Deny.Access)).toBe(closed);
    expect(transitions.withDenials(closed, 3, Deny.None)).toBe(open);
  });

  it('still refuse denials the space cannot express', () => {
    const space = pks();
    const transitions = new RightsTransitions(space, 16);
    expect(() => transitions.withDenials(space.initialState(), 1, Deny.Execute)).toThrow(/deny only access and write/);
  });
});
