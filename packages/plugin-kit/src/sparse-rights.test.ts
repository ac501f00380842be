import { DomainError, rightsState } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { SparseRights } from './sparse-rights';

describe('SparseRights.check', () => {
  const fresh = () => new SparseRights('test rights', (domain) => (domain === 0 ? 0 : 3));

  it.each([undefined, null, 7, 'x', {}])(
    'refuses %j with a DomainError on a fresh instance, before any state passed',
    (junk) => {
      // The remembered-valid slots start empty; an empty slot must not match junk.
      expect(() => fresh().check(junk as never)).toThrow(DomainError);
    },
  );

  it('still refuses junk after frozen states passed and were remembered', () => {
    const rights = fresh();
    for (const domain of [1, 2, 3, 4, 5]) rights.check(rightsState(domain, 0));
    expect(() => rights.check(undefined as never)).toThrow(DomainError);
  });
});
