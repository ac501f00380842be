import { describe, expect, it } from 'vitest';
import { PageMap } from './page-map';

describe('PageMap', () => {
  it('values() yields every stored value once: upper-half pages once for all spaces, lower-half pages per space', () => {
    const pages = new PageMap<string>();
    pages.set(1, 0x1000, 'user 1');
    pages.set(2, 0x1000, 'user 2');
    pages.set(1, -0x2000, 'kernel');
    pages.set(2, -0x2000, 'kernel again'); // the same shared page: replaced, not added
    expect(pages.size).toBe(3);
    expect([...pages.values()].sort()).toEqual(['kernel again', 'user 1', 'user 2']);
    pages.delete(1, 0x1fff); // any address inside the page names it
    expect([...pages.values()].sort()).toEqual(['kernel again', 'user 2']);
    pages.clear();
    expect([...pages.values()]).toEqual([]);
  });
});
