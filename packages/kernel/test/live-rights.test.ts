import { Deny, type Denials, type DomainSpace, type RightsState } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import type { KeyTable } from '../src/keys/key-table';
import { LiveRights } from '../src/rights/live';
import type { Sched } from '../src/sched/sched';
import type { TaskStruct } from '../src/sched/thread';

/** Page-table-like rights: one value for every thread, a state holds each key's denials (key 0 open). */
const DOMAINS = 4;
const space = {
  info: { scope: 'address-space' },
  denialsOf: (state: RightsState, key: number): Denials => state[key],
  withDenials: (state: RightsState, key: number, denials: Denials): RightsState =>
    Object.freeze(state.map((d, k) => (k === key ? denials : d))),
} as unknown as DomainSpace;
const keys = { domains: DOMAINS, shape: { defaultDomain: 0 } } as unknown as KeyTable;
const state = (...denials: Denials[]): RightsState => Object.freeze(denials);
const thread = (pkrs: RightsState) => ({ pkrs, state: 'runnable', frames: [] }) as unknown as TaskStruct;

describe('LiveRights for address-space-scoped rights', () => {
  it('grants what any live context asked for, also when it answers from a combination it remembers', () => {
    const closed = state(Deny.None, Deny.Access, Deny.Access, Deny.Access);
    const opened = state(Deny.None, Deny.None, Deny.Access, Deny.Access);
    const current = thread(closed);
    const other = thread(opened);
    const sched = { current: () => current, alive: [current, other] } as unknown as Sched;
    const live = new LiveRights(space, keys, sched);
    const first = live.of(0);
    expect([...first]).toEqual([...opened]);
    expect(live.of(0)).toBe(first); // the same held states: the remembered answer
    other.pkrs = closed; // the other window closed: a new set of states, combined again
    expect([...live.of(0)]).toEqual([...closed]);
    other.pkrs = state(Deny.None, Deny.Write, Deny.Access, Deny.Access); // a new object with new rights
    expect([...live.of(0)]).toEqual([Deny.None, Deny.Write, Deny.Access, Deny.Access]);
    other.pkrs = opened; // back to a remembered set
    expect([...live.of(0)]).toEqual([...opened]);
    current.pkrs = opened;
    expect(live.of(0)).toBe(opened); // every context agrees: its own state
  });
});
