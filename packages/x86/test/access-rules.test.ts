/** Every rule of x86.md "The check"/"The page fault" and every numbered rule of vectors.md, on a real machine. */
import { describe, expect, it } from 'vitest';
import { AD, WD, errorCodeOf } from './helpers';

describe('x86.md: the check', () => {
  it('the register is chosen by the address mode: PKRU governs supervisor-mode accesses to user pages', () => {
    expect(errorCodeOf({ cpl: 0, cr4_pke: 1, pkru: AD(1), page: { user: 1 } })).toBe(0x21);
    expect(errorCodeOf({ cpl: 0, cr4_pks: 1, cr4_pke: 1, pkrs: AD(1), page: { user: 1 } })).toBe(null);
  });
  it('PKRS governs supervisor-mode addresses when CR4.PKS=1', () => {
    expect(errorCodeOf({ cpl: 0, cr4_pks: 1, pkrs: AD(1), page: { user: 0 } })).toBe(0x21);
    expect(errorCodeOf({ cpl: 0, cr4_pke: 1, pkru: AD(1), page: { user: 0 } })).toBe(null);
  });
  it('key i has AD at bit 2i and WD at bit 2i+1', () => {
    for (let k = 0; k < 16; k++) {
      expect(errorCodeOf({ cr4_pke: 1, cpl: 3, pkru: AD(k), page: { pkey: k } })).toBe(0x25);
      expect(errorCodeOf({ cr4_pke: 1, cpl: 3, pkru: WD(k), access: 'write', page: { pkey: k } })).toBe(0x27);
      expect(
        errorCodeOf({ cr4_pke: 1, cpl: 3, pkru: ~(AD(k) | WD(k)) >>> 0, access: 'write', page: { pkey: k } }),
      ).toBe(null);
    }
  });
  it('instruction fetches are never checked against keys', () => {
    expect(errorCodeOf({ cpl: 3, cr4_pke: 1, pkru: 0xffffffff, access: 'fetch' })).toBe(null);
    expect(errorCodeOf({ cpl: 0, cr4_pks: 1, pkrs: 0xffffffff, access: 'fetch', page: { user: 0 } })).toBe(null);
  });
  it('AD=1 makes every data read and write fault', () => {
    expect(errorCodeOf({ cpl: 3, cr4_pke: 1, pkru: AD(1), access: 'read' })).toBe(0x25);
    expect(errorCodeOf({ cpl: 3, cr4_pke: 1, pkru: AD(1), access: 'write' })).toBe(0x27);
  });
  it('WD=1 faults user-mode writes and supervisor-mode writes only with CR0.WP=1', () => {
    expect(errorCodeOf({ cpl: 3, cr0_wp: 0, cr4_pke: 1, pkru: WD(1), access: 'write' })).toBe(0x27);
    expect(errorCodeOf({ cpl: 0, cr0_wp: 1, cr4_pks: 1, pkrs: WD(1), access: 'write', page: { user: 0 } })).toBe(0x23);
  });
  it('WD ignored for supervisor writes when CR0.WP=0, to user and supervisor pages alike', () => {
    expect(errorCodeOf({ cpl: 0, cr0_wp: 0, cr4_pks: 1, pkrs: WD(1), access: 'write', page: { user: 0 } })).toBe(null);
    expect(errorCodeOf({ cpl: 0, cr0_wp: 0, cr4_pke: 1, pkru: WD(1), access: 'write', page: { user: 1 } })).toBe(null);
  });
  it('SMAP/SMEP and keys are separate checks: a key does not override them', () => {
    expect(errorCodeOf({ cpl: 0, cr4_smep: 1, cr4_pke: 1, pkru: 0, access: 'fetch' })).toBe(0x11);
    expect(errorCodeOf({ cpl: 0, cr4_smap: 1, cr4_pke: 1, pkru: 0, access: 'read' })).toBe(0x1);
  });
});

describe('x86.md: the page fault', () => {
  it('a key violation gives P=1, PK=1 and W/R, U/S from the access', () => {
    expect(errorCodeOf({ cpl: 0, cr4_pke: 1, pkru: AD(1) })).toBe(0x21);
    expect(errorCodeOf({ cpl: 3, cr4_pke: 1, pkru: AD(1), access: 'write' })).toBe(0x27);
  });
  it('PK is never set with P=0 (not present): an unmapped page faults 0x4 at CPL3', async () => {
    const { X86Machine } = await import('../src/index');
    const machine = new X86Machine();
    const cpu = machine.cpu(0);
    cpu.setCpl(3);
    expect(cpu.access(0x1000, 0)).toBe(0x10000 | 0x4);
    expect(cpu.cr2).toBe(0x1000);
  });
});

describe('vectors.md access rules', () => {
  it('rule 1: CR4.PKE=0 makes PKRU irrelevant and CR4.PKS=0 makes PKRS irrelevant', () => {
    expect(errorCodeOf({ cpl: 3, cr4_pke: 0, pkru: 0xffffffff, access: 'write' })).toBe(null);
    expect(errorCodeOf({ cpl: 0, cr4_pks: 0, pkrs: 0xffffffff, access: 'write', page: { user: 0 } })).toBe(null);
  });
  it('rule 2: PKRU governs only user-mode pages, PKRS only supervisor-mode pages', () => {
    expect(errorCodeOf({ cpl: 0, cr4_pke: 1, cr4_pks: 1, pkru: 0xffffffff, pkrs: 0, page: { user: 0 } })).toBe(null);
    expect(errorCodeOf({ cpl: 0, cr4_pke: 1, cr4_pks: 1, pkru: 0, pkrs: 0xffffffff, page: { user: 1 } })).toBe(null);
  });
  it('rule 3: fetches are never blocked by keys and fetch faults never carry PK', () => {
    expect(errorCodeOf({ cpl: 3, cr4_pke: 1, pkru: AD(1), access: 'fetch', page: { nx: 1 } })).toBe(0x15);
  });
  it('rule 4: AD=1 in the governing register blocks every read and write U/S allows, with PK', () => {
    expect(
      errorCodeOf({ cpl: 0, cr4_pks: 1, pkrs: AD(1), access: 'write', page: { user: 0, write: 0 }, cr0_wp: 0 }),
    ).toBe(0x23);
  });
  it('rule 5: WD=1 alone never blocks a read', () => {
    expect(errorCodeOf({ cpl: 3, cr4_pke: 1, pkru: WD(1), access: 'read' })).toBe(null);
    expect(errorCodeOf({ cpl: 0, cr4_pks: 1, pkrs: WD(1), access: 'read', page: { user: 0 } })).toBe(null);
  });
  it('rule 6: a CPL3 write to a user page whose key has WD=1 faults 0x27 whatever CR0.WP and R/W', () => {
    for (const wp of [0, 1] as const)
      for (const w of [0, 1] as const) {
        expect(errorCodeOf({ cpl: 3, cr0_wp: wp, cr4_pke: 1, pkru: WD(1), access: 'write', page: { write: w } })).toBe(
          0x27,
        );
      }
  });
  it('rule 7: a CPL0 write to a WD page faults 0x23 only with CR0.WP=1, under PKRU and PKRS alike', () => {
    expect(errorCodeOf({ cpl: 0, cr0_wp: 1, cr4_pke: 1, pkru: WD(1), access: 'write' })).toBe(0x23);
    expect(errorCodeOf({ cpl: 0, cr0_wp: 0, cr4_pke: 1, pkru: WD(1), access: 'write' })).toBe(null);
    expect(errorCodeOf({ cpl: 0, cr0_wp: 1, cr4_pks: 1, pkrs: WD(1), access: 'write', page: { user: 0 } })).toBe(0x23);
    expect(errorCodeOf({ cpl: 0, cr0_wp: 0, cr4_pks: 1, pkrs: WD(1), access: 'write', page: { user: 0 } })).toBe(null);
  });
  it('rule 8: a key violation coinciding with an R/W violation reports PK (0x23, not 0x3)', () => {
    expect(
      errorCodeOf({ cpl: 0, cr0_wp: 1, cr4_pks: 1, pkrs: WD(1), access: 'write', page: { user: 0, write: 0 } }),
    ).toBe(0x23);
    expect(errorCodeOf({ cpl: 0, cr0_wp: 1, page: { user: 0, write: 0 }, access: 'write' })).toBe(0x3);
  });
  it('rule 9: a CPL3 data access to a supervisor page is a plain U/S fault without PK whatever PKRS says', () => {
    expect(errorCodeOf({ cpl: 3, cr4_pks: 1, pkrs: AD(1), access: 'read', page: { user: 0 } })).toBe(0x5);
    expect(errorCodeOf({ cpl: 3, cr4_pks: 1, pkrs: AD(1) | WD(1), access: 'write', page: { user: 0 } })).toBe(0x7);
  });
  it('rule 10: 2 MiB and 1 GiB leaves and 5-level paging give the same results as 4 KiB leaves', () => {
    for (const size of ['4K', '2M', '1G'] as const)
      for (const paging of [4, 5] as const) {
        expect(errorCodeOf({ paging, cpl: 3, cr4_pke: 1, pkru: AD(1), page: { size } })).toBe(0x25);
        expect(errorCodeOf({ paging, cpl: 0, cr4_pks: 1, pkrs: WD(1), access: 'write', page: { size, user: 0 } })).toBe(
          0x23,
        );
        expect(errorCodeOf({ paging, cpl: 3, access: 'write', page: { size } })).toBe(null);
      }
  });
  it('rule 11: SMEP faults a CPL0 fetch from a user page with 0x11 whatever NX, keys, SMAP or AC', () => {
    for (const nx of [0, 1] as const)
      for (const ac of [0, 1] as const) {
        expect(
          errorCodeOf({
            cpl: 0,
            cr4_smep: 1,
            cr4_smap: 1,
            eflags_ac: ac,
            cr4_pke: 1,
            pkru: AD(1),
            access: 'fetch',
            page: { nx },
          }),
        ).toBe(0x11);
      }
  });
  it('rule 12: SMAP faults CPL0 data accesses to user pages with AC=0 (0x1/0x3), even writes with CR0.WP=0', () => {
    expect(errorCodeOf({ cpl: 0, cr4_smap: 1, access: 'read' })).toBe(0x1);
    expect(errorCodeOf({ cpl: 0, cr4_smap: 1, cr0_wp: 0, access: 'write' })).toBe(0x3);
    expect(errorCodeOf({ cpl: 0, cr4_smap: 1, eflags_ac: 1, access: 'write' })).toBe(null);
    expect(errorCodeOf({ cpl: 3, cr4_smap: 1, cr4_smep: 1, access: 'write' })).toBe(null);
  });
  it('rule 13: SMAP with a denying PKRU key reports PK (0x21/0x23); a WD key on a CPL0 write with WP=0 gives 0x3', () => {
    expect(errorCodeOf({ cpl: 0, cr4_smap: 1, cr4_pke: 1, pkru: AD(1), access: 'read' })).toBe(0x21);
    expect(errorCodeOf({ cpl: 0, cr4_smap: 1, cr4_pke: 1, pkru: AD(1), access: 'write' })).toBe(0x23);
    expect(errorCodeOf({ cpl: 0, cr0_wp: 0, cr4_smap: 1, cr4_pke: 1, pkru: WD(1), access: 'write' })).toBe(0x3);
  });
  it('rule 14: PKRS faults on supervisor pages are unaffected by SMEP, SMAP and AC', () => {
    for (const smep of [0, 1] as const)
      for (const smap of [0, 1] as const)
        for (const ac of [0, 1] as const) {
          expect(
            errorCodeOf({
              cpl: 0,
              cr4_smep: smep,
              cr4_smap: smap,
              eflags_ac: ac,
              cr4_pks: 1,
              pkrs: AD(1),
              page: { user: 0 },
            }),
          ).toBe(0x21);
        }
  });
  it('the NX bit faults fetches with I/D (EFER.NXE=1) and nothing else', () => {
    expect(errorCodeOf({ cpl: 3, access: 'fetch', page: { nx: 1 } })).toBe(0x15);
    expect(errorCodeOf({ cpl: 3, access: 'read', page: { nx: 1 } })).toBe(null);
  });
});
