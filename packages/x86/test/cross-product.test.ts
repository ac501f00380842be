/**
 * The full cross product of the vector fields checked against an independent reading of the
 * vectors.md rules: exhaustively at the level of the check (mode word x translation x key bits) and
 * on a random sample through runVector (a real machine per vector).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessKind } from '@pkeysim/core';
import {
  checkAccess,
  checkTableFor,
  M_AC,
  M_NXE,
  M_PKE,
  M_PKS,
  M_SMAP,
  M_SMEP,
  M_USER,
  M_WP,
  T_USER,
  T_WRITE,
  T_XD,
} from '../src/index';
import { runVector } from '../src/vectors';
import { accessVector } from './helpers';

interface Fields {
  cpl: 0 | 3;
  wp: number;
  pke: number;
  pks: number;
  smep: number;
  smap: number;
  ac: number;
  user: number;
  write: number;
  nx: number;
  access: 'read' | 'write' | 'fetch';
  ru: number;
  rs: number;
}

/** vectors.md, read independently: the expected #PF error code or null. */
function oracle(f: Fields): number | null {
  const write = f.access === 'write';
  const fetch = f.access === 'fetch';
  const cpl3 = f.cpl === 3;
  const bits = (write ? 2 : 0) | (cpl3 ? 4 : 0) | (fetch ? 0x10 : 0); // EFER.NXE=1: I/D on fetches
  if (cpl3 && f.user === 0) return bits | 1; // rule 9 (U/S before anything)
  if (fetch) {
    if (f.nx) return bits | 1;
    if (!cpl3 && f.user && f.smep) return bits | 1; // rule 11
    return null; // rule 3
  }
  const reg = f.user ? (f.pke ? f.ru : 0) : f.pks ? f.rs : 0; // rules 1, 2
  if (reg & 1) return bits | 0x21; // rule 4
  if (write && reg & 2 && (cpl3 || f.wp)) return bits | 0x21; // rules 5, 6, 7
  if (!cpl3 && f.user && f.smap && !f.ac) return bits | 1; // rules 12, 13
  if (write && !f.write && (cpl3 || f.wp)) return bits | 1; // rule 8 (after keys)
  return null;
}

const KINDS = { read: AccessKind.Read, write: AccessKind.Write, fetch: AccessKind.Fetch } as const;

function* everyCombination(): Generator<Fields> {
  for (const cpl of [0, 3] as const)
    for (const wp of [0, 1])
      for (const pke of [0, 1])
        for (const pks of [0, 1])
          for (const smep of [0, 1])
            for (const smap of [0, 1])
              for (const ac of [0, 1])
                for (const user of [0, 1])
                  for (const write of [0, 1])
                    for (const nx of [0, 1])
                      for (const access of ['read', 'write', 'fetch'] as const)
                        for (let ru = 0; ru < 4; ru++)
                          for (let rs = 0; rs < 4; rs++)
                            yield { cpl, wp, pke, pks, smep, smap, ac, user, write, nx, access, ru, rs };
}

describe('cross product of the vector fields', () => {
  it('checkAccess and its per-mode table agree with the rules for every combination (49152 combinations)', () => {
    let cases = 0;
    for (const f of everyCombination()) {
      const mode =
        (f.cpl === 3 ? M_USER : 0) |
        (f.wp ? M_WP : 0) |
        (f.pke ? M_PKE : 0) |
        (f.pks ? M_PKS : 0) |
        (f.smep ? M_SMEP : 0) |
        (f.smap ? M_SMAP : 0) |
        (f.ac ? M_AC : 0) |
        M_NXE;
      const flags = (f.user ? T_USER : 0) | (f.write ? T_WRITE : 0) | (f.nx ? T_XD : 0) | (5 << 8); // key 5
      const pkru = ((f.ru << 10) | 0xaaaa0000) >>> 0; // other keys' bits set, to show they do not matter
      const pkrs = ((f.rs << 10) | 0x55550000) >>> 0;
      const expected = oracle(f);
      const code = checkAccess(flags, KINDS[f.access], mode, pkru, pkrs) & 0xfff; // strip the internal guard marker
      const table = checkTableFor(mode);
      const tableCode =
        table[(((flags & 7) | (KINDS[f.access] << 3)) << 2) | (((f.user ? pkru : pkrs) >>> 10) & 3)] & 0xfff;
      if ((code === 0 ? null : code) !== expected || tableCode !== code) {
        throw new Error(`mismatch for ${JSON.stringify(f)}: oracle ${expected}, check ${code}, table ${tableCode}`);
      }
      cases++;
    }
    expect(cases).toBe(2 ** 10 * 3 * 16);
  });

  it('random vectors over every field (sizes, paging levels, keys, registers) match the rules when executed for real', () => {
    const bitArb = fc.constantFrom(0, 1);
    fc.assert(
      fc.property(
        fc.record({
          cpl: fc.constantFrom(0 as const, 3 as const),
          wp: bitArb,
          pke: bitArb,
          pks: bitArb,
          smep: bitArb,
          smap: bitArb,
          ac: bitArb,
          user: bitArb,
          write: bitArb,
          nx: bitArb,
          access: fc.constantFrom('read' as const, 'write' as const, 'fetch' as const),
          pkey: fc.integer({ min: 0, max: 15 }),
          pkru: fc.nat({ max: 0xffffffff }),
          pkrs: fc.nat({ max: 0xffffffff }),
          size: fc.constantFrom('4K' as const, '2M' as const, '1G' as const),
          paging: fc.constantFrom(4 as const, 5 as const),
        }),
        (r) => {
          const f: Fields = { ...r, ru: (r.pkru >>> (2 * r.pkey)) & 3, rs: (r.pkrs >>> (2 * r.pkey)) & 3 };
          const out = runVector(
            accessVector({
              paging: r.paging,
              cpl: r.cpl,
              cr0_wp: r.wp as 0 | 1,
              cr4_pke: r.pke as 0 | 1,
              cr4_pks: r.pks as 0 | 1,
              cr4_smep: r.smep as 0 | 1,
              cr4_smap: r.smap as 0 | 1,
              eflags_ac: r.ac as 0 | 1,
              pkru: r.pkru,
              pkrs: r.pkrs,
              access: r.access,
              page: { user: r.user as 0 | 1, write: r.write as 0 | 1, nx: r.nx as 0 | 1, pkey: r.pkey, size: r.size },
            }),
          );
          expect(out.error_code).toBe(oracle(f));
          expect(out.fault).toBe(oracle(f) !== null);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
