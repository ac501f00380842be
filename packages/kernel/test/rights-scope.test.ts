import { Deny, type DomainSpace, type DomainSpaceInfo } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { keyTableSize, UNBOUNDED_KEY_TABLE_SIZE } from '../src/keys/key-limit';
import { leastRestrictive, rightsAreGlobal, rightsSavedPerThread } from '../src/rights/scope';

const spaceWith = (info: Partial<DomainSpaceInfo>): DomainSpace => ({ info }) as DomainSpace;

describe('kernel support for spaces beyond per-thread key registers', () => {
  it("manages a bounded key table for an unbounded domain space, and the space's own size otherwise", () => {
    expect(keyTableSize(Infinity)).toBe(UNBOUNDED_KEY_TABLE_SIZE);
    expect(keyTableSize(16)).toBe(16);
  });

  it('treats address-space-scoped rights as global and restores nothing on a switch when contextSave is none', () => {
    const pageTable = spaceWith({ scope: 'address-space', contextSave: 'none' });
    const pks = spaceWith({ scope: 'thread', contextSave: 'software' });
    expect([rightsAreGlobal(pageTable), rightsSavedPerThread(pageTable)]).toEqual([true, false]);
    expect([rightsAreGlobal(pks), rightsSavedPerThread(pks)]).toEqual([false, true]);
    expect([rightsAreGlobal(undefined), rightsSavedPerThread(undefined)]).toEqual([false, false]);
  });

  it('shares an address-space-scoped key as the union of what its holders asked for', () => {
    expect(leastRestrictive(Deny.Access, Deny.Access)).toBe(Deny.Access);
    expect(leastRestrictive(Deny.Access, Deny.Write)).toBe(Deny.Write);
    expect(leastRestrictive(Deny.Write, Deny.None)).toBe(Deny.None);
    expect(leastRestrictive(Deny.Read, Deny.Write)).toBe(Deny.None);
    expect(leastRestrictive(Deny.Access | Deny.Execute, Deny.Write | Deny.Execute)).toBe(Deny.Write | Deny.Execute);
    expect(leastRestrictive(Deny.Access | Deny.Execute, Deny.Access)).toBe(Deny.Access);
  });
});
