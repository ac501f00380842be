import type { DomainSpace, DomainSpaceInfo } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { keyTableSize, UNBOUNDED_KEY_TABLE_SIZE } from '../src/keys/key-limit';
import { rightsAreGlobal, rightsSavedPerThread } from '../src/rights/scope';

const spaceWith = (info: Partial<DomainSpaceInfo>): DomainSpace => ({ info }) as DomainSpace;

describe('kernel support for spaces beyond per-thread key registers', () => {
  it('manages a bounded key table for an unbounded domain space, and the space\'s own size otherwise', () => {
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
});
