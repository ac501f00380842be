import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Errno, formatKeyListing, KernelError, PKS_FLAG_EXCLUSIVE } from '../src';
import { boot, snapshot, withBits, word } from './helpers';

describe('dynamic keys (RFC..V6 pks_key_alloc)', () => {
  it('hands out 1..15 in order, then -ENOSPC with the series message', () => {
    const kernel = boot();
    const keys = Array.from({ length: 15 }, (_, i) => kernel.pks_key_alloc(`user${i}`));
    expect(keys).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(kernel.pks_key_alloc('one too many')).toBe(-Errno.ENOSPC);
    expect(kernel.log.lines()).toContain('Cannot allocate supervisor key for one too many');
  });

  it('keeps a newly allocated key access-disabled until its owner opens it', () => {
    const kernel = boot();
    const key = kernel.pks_key_alloc('pmem');
    expect(kernel.space!.denialsOf(kernel.cpu(0).rights(), key)).toBe(1);
  });

  it('pks_key_free resets the key to access-disabled in the caller, then frees it for reuse', () => {
    const kernel = boot();
    const cpu = kernel.cpu(1);
    const key = kernel.pks_key_alloc('pmem');
    cpu.pks_set_readwrite(key);
    expect(word(cpu.rights())).toBe(withBits(0x55555554, key, 0));
    kernel.pks_key_free(key, 1);
    expect(word(cpu.rights())).toBe(0x55555554);
    expect(word(cpu.current.pkrs)).toBe(0x55555554);
    expect(kernel.pks_key_alloc('again')).toBe(key);
  });

  it.each([
    ['key 0', 0],
    ['a negative key', -1],
    ['key 16', 16],
    ['a fractional key', 1.5],
    ['an unallocated key', 7],
  ])('ignores a free of %s: it returns nothing (void in every version) and changes nothing', (_label, key) => {
    const kernel = boot();
    kernel.pks_key_alloc('a');
    const before = snapshot(kernel);
    expect(kernel.pks_key_free(key)).toBeUndefined();
    expect(snapshot(kernel)).toBe(before);
  });

  it('ignores a double free (V6 arch/x86/mm/pkeys.c void pks_key_free): nothing changes, the key is handed out once', () => {
    const kernel = boot();
    const key = kernel.pks_key_alloc('a');
    kernel.pks_key_free(key);
    const before = snapshot(kernel);
    expect(kernel.pks_key_free(key)).toBeUndefined();
    expect(snapshot(kernel)).toBe(before);
    expect(kernel.log.lines().some((l) => l.includes(`pks_key_free: key ${key} is not allocated`))).toBe(true);
    expect(kernel.pks_key_alloc('b')).toBe(key);
    expect(kernel.pks_key_alloc('c')).toBe(key + 1);
  });

  it('refuses unknown flags and a missing owner with -EINVAL, allocating nothing', () => {
    const kernel = boot();
    const before = snapshot(kernel);
    expect(kernel.pks_key_alloc('x', 0x4)).toBe(-Errno.EINVAL);
    expect(kernel.pks_key_alloc('')).toBe(-Errno.EINVAL);
    expect(snapshot(kernel)).toBe(before);
    expect(kernel.pks_key_alloc('x', PKS_FLAG_EXCLUSIVE)).toBe(1);
    expect(kernel.pks_keys_allocated().rows[1]).toMatchObject({
      key: 1,
      owner: 'x',
      exclusive: true,
      defaultRights: 'ad',
    });
  });

  it('never hands out key 0 or a key twice, and runs out only when all 15 are taken', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant<'alloc'>('alloc'), fc.integer({ min: -1, max: 16 })), { maxLength: 80 }),
        (ops) => {
          const kernel = boot({ cpus: 1 });
          const held = new Set<number>();
          for (const op of ops) {
            if (op === 'alloc') {
              const key = kernel.pks_key_alloc('prop');
              if (held.size === 15) {
                expect(key).toBe(-Errno.ENOSPC);
              } else {
                expect(key).toBeGreaterThanOrEqual(1);
                expect(key).toBeLessThanOrEqual(15);
                expect(held.has(key)).toBe(false);
                held.add(key);
              }
            } else {
              expect(kernel.pks_key_free(op)).toBeUndefined();
              held.delete(op);
            }
          }
          expect(
            kernel
              .pks_keys_allocated()
              .rows.map((r) => r.key)
              .filter((k) => k !== 0)
              .sort((a, b) => a - b),
          ).toEqual([...held].sort((a, b) => a - b));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('static keys (V7..V10 pks-keys.h)', () => {
  it("has V10's exact layout: PGMAP_PROTECTION 1, TEST 2, no page-table key, PKS_INIT_VALUE 0x55555554 (V10 pks-keys.h)", () => {
    const kernel = boot({ keyDesign: 'static' });
    expect(kernel.config.pksVersion).toBe('v10');
    expect(kernel.keyOf('PKS_KEY_PGMAP_PROTECTION')).toBe(1);
    expect(kernel.keyOf('PKS_KEY_TEST')).toBe(2);
    expect(kernel.keyOf('PKS_KEY_PG_TABLES')).toBeUndefined();
    // key 0 RW, keys 1 and 2 AD, unused keys AD.
    expect(word(kernel.initValue)).toBe(0x55555554);
    expect(word(kernel.cpu(1).rights())).toBe(0x55555554);
  });

  it('adds PKS_KEY_PG_TABLES as key 3 (WD) only with page-table protection (Edgecombe): 0x55555594', () => {
    const kernel = boot({ pksVersion: 'v10', pageTableProtection: true });
    expect(kernel.keyOf('PKS_KEY_PGMAP_PROTECTION')).toBe(1);
    expect(kernel.keyOf('PKS_KEY_TEST')).toBe(2);
    expect(kernel.keyOf('PKS_KEY_PG_TABLES')).toBe(3);
    expect(word(kernel.initValue)).toBe(0x55555594);
    // An explicit list gets the key appended once, not twice.
    const listed = boot({
      keyDesign: 'static',
      pageTableProtection: true,
      consumers: [{ name: 'PKS_KEY_PG_TABLES', defaultRights: 'wd' }],
    });
    expect(listed.pks_keys_allocated().rows.map((r) => r.owner)).toEqual(['DEFAULT', 'PKS_KEY_PG_TABLES']);
  });

  it('honours explicit key numbers and fills the rest in order', () => {
    const kernel = boot({
      keyDesign: 'static',
      consumers: [
        { name: 'A', key: 5, defaultRights: 'rw' },
        { name: 'B', defaultRights: 'wd' },
      ],
    });
    expect(kernel.keyOf('A')).toBe(5);
    expect(kernel.keyOf('B')).toBe(1);
    expect(word(kernel.initValue)).toBe(withBits(withBits(0x55555554, 5, 0), 1, 2));
  });

  it.each([
    [
      [
        { name: 'A', defaultRights: 'rw' },
        { name: 'A', defaultRights: 'ad' },
      ],
      'declared twice',
    ],
    [[{ name: 'A', key: 0, defaultRights: 'rw' }], 'default key'],
    [[{ name: 'A', key: 16, defaultRights: 'rw' }], 'out of range'],
    [
      [
        { name: 'A', key: 3, defaultRights: 'rw' },
        { name: 'B', key: 3, defaultRights: 'rw' },
      ],
      'already assigned',
    ],
  ] as const)('refuses a bad consumer table (%j)', (consumers, message) => {
    expect(() => boot({ keyDesign: 'static', consumers })).toThrow(KernelError);
    expect(() => boot({ keyDesign: 'static', consumers })).toThrow(message);
  });

  it('refuses more consumers than keys with -ENOSPC', () => {
    const consumers = Array.from({ length: 16 }, (_, i) => ({ name: `K${i}`, defaultRights: 'ad' as const }));
    expect(() => boot({ keyDesign: 'static', consumers })).toThrow(/PKS_KEY_MAX/);
  });

  it('has no allocator: pks_key_alloc reports -EOPNOTSUPP and pks_key_free does nothing', () => {
    const kernel = boot({ keyDesign: 'static' });
    const before = snapshot(kernel);
    expect(kernel.pks_key_alloc('late')).toBe(-Errno.EOPNOTSUPP);
    expect(kernel.pks_key_free(1)).toBeUndefined();
    expect(snapshot(kernel)).toBe(before);
  });
});

describe('key listing (debugfs pks_keys_allocated)', () => {
  it('lists owners and defaults as data and as the debugfs lines', () => {
    const kernel = boot();
    kernel.pks_key_alloc('pmem');
    const listing = kernel.pks_keys_allocated();
    expect(listing).toMatchObject({
      supported: true,
      design: 'dynamic',
      register: 'PKRS',
      keys: 16,
      initValue: '0x55555554',
    });
    expect(listing.rows.map((r) => [r.key, r.owner, r.defaultRights])).toEqual([
      [0, 'DEFAULT', 'rw'],
      [1, 'pmem', 'ad'],
    ]);
    expect(formatKeyListing(listing)).toEqual([
      '# dynamic keys, PKRS PKS_INIT_VALUE 0x55555554',
      '# key  default  owner',
      '  0  rw       DEFAULT',
      '  1  ad       pmem',
    ]);
  });

  it('lists static consumers with their declared defaults', () => {
    const rows = boot({ keyDesign: 'static' }).pks_keys_allocated().rows;
    expect(rows.map((r) => `${r.key}:${r.owner}:${r.defaultRights}`)).toEqual([
      '0:DEFAULT:rw',
      '1:PKS_KEY_PGMAP_PROTECTION:ad',
      '2:PKS_KEY_TEST:ad',
    ]);
  });

  it('says unsupported without PKS', () => {
    const listing = boot({ features: { supervisorDomains: false } }).pks_keys_allocated();
    expect(formatKeyListing(listing)).toEqual(['PKRS: not supported on this machine (-EOPNOTSUPP)']);
  });
});
