import { Deny } from '@pkeysim/core';
import { E_P, E_RW, E_XD_HI } from '@pkeysim/x86';
import { describe, expect, it } from 'vitest';
import { DomainMembers } from './domain-members';
import { PageList } from './page-list';
import { BASE_EXECUTABLE, BASE_WRITABLE } from './pte-bits';

const FRAME_BITS = 0x5000;

/** Three member pages whose PTEs sit in one page-table frame: writable, read-only, executable. */
function members() {
  const frame = new Uint32Array(1024);
  const set = new DomainMembers<{ slot: number }>();
  const pages = [{ slot: -1 }, { slot: -1 }, { slot: -1 }];
  const bases = [BASE_WRITABLE, 0, BASE_EXECUTABLE];
  pages.forEach((page, i) => {
    frame[i * 2] = FRAME_BITS | E_P | (bases[i] & BASE_WRITABLE ? E_RW : 0);
    frame[i * 2 + 1] = bases[i] & BASE_EXECUTABLE ? 0 : E_XD_HI;
    set.add(page, frame, i * 2, 0x1000 * (i + 1), bases[i]);
  });
  return { frame, set, pages };
}

describe('DomainMembers.rewrite', () => {
  it('writes P, R/W and XD of every member for the denials and lists the pages whose entry changed', () => {
    const { frame, set } = members();
    const changed = new PageList();
    expect(set.rewrite(Deny.None, changed)).toBe(0); // already open: nothing to write
    expect(set.rewrite(Deny.Access, changed)).toBe(3);
    expect(Array.from(changed.pages.subarray(0, changed.count))).toEqual([0x1000, 0x2000, 0x3000]);
    for (let i = 0; i < 3; i++) expect(frame[i * 2] & ~E_RW).toBe(FRAME_BITS); // P=0 keeps the frame
    changed.count = 0;
    expect(set.rewrite(Deny.Write | Deny.Execute, changed)).toBe(3);
    expect(frame[0]).toBe(FRAME_BITS | E_P); // a writable page loses R/W
    expect(frame[5]).toBe(E_XD_HI); // an executable page gets XD
  });

  it('a removed member is no longer rewritten; the last member takes its slot', () => {
    const { frame, set, pages } = members();
    set.remove(pages[0]);
    expect(pages[0].slot).toBe(-1);
    expect(pages[2].slot).toBe(0);
    const changed = new PageList();
    expect(set.rewrite(Deny.Access, changed)).toBe(2);
    expect(frame[0] & E_P).toBe(E_P);
    set.remove(pages[0]); // removing twice changes nothing
    expect(set.count).toBe(2);
  });
});
