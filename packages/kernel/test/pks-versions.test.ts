import { describe, expect, it } from 'vitest';
import { Errno, KernelError, PKS_FLAG_EXCLUSIVE, PKS_VERSIONS, pksVersionTraits, resolveKernelConfig } from '../src';
import { boot, word } from './helpers';

describe('the kernel config field pksVersion', () => {
  it('takes the key design and entry code from the version', () => {
    expect(resolveKernelConfig({ pksVersion: 'rfc' })).toMatchObject({
      keyDesign: 'dynamic',
      entryMode: 'legacy-rfc-v1',
    });
    expect(resolveKernelConfig({ pksVersion: 'v6' })).toMatchObject({ keyDesign: 'dynamic', entryMode: 'aux-pt-regs' });
    expect(resolveKernelConfig({ pksVersion: 'v7' })).toMatchObject({ keyDesign: 'static', entryMode: 'aux-pt-regs' });
    expect(resolveKernelConfig({ pksVersion: 'v10' })).toMatchObject({
      keyDesign: 'static',
      pageTableProtection: false,
    });
  });

  it('infers the version of a configuration without one: static is V10, dynamic V6', () => {
    expect(resolveKernelConfig({ keyDesign: 'static' }).pksVersion).toBe('v10');
    expect(resolveKernelConfig({}).pksVersion).toBe('v6');
  });

  it('lets the entry code be overridden (a what-if), but not the key design', () => {
    expect(resolveKernelConfig({ pksVersion: 'v10', entryMode: 'legacy-rfc-v1' }).entryMode).toBe('legacy-rfc-v1');
    expect(() => resolveKernelConfig({ pksVersion: 'v10', keyDesign: 'dynamic' })).toThrow(
      /keyDesign "dynamic" is not the design of PKS V10 \(Apr 2022\) \("static"\)/,
    );
  });

  it.each([['v11'], ['V10'], [10], ['']])('refuses the unknown version %j, naming the field', (version) => {
    expect(() => resolveKernelConfig({ pksVersion: version as never })).toThrow(KernelError);
    expect(() => resolveKernelConfig({ pksVersion: version as never })).toThrow(
      /pksVersion must be one of rfc, v2, .* v10/,
    );
  });

  it('refuses a non-boolean pageTableProtection', () => {
    expect(() => resolveKernelConfig({ pageTableProtection: 'yes' as never })).toThrow(/pageTableProtection/);
  });

  it('lists every posting, oldest first, with its traits', () => {
    expect(PKS_VERSIONS).toEqual(['rfc', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10']);
    for (const v of PKS_VERSIONS) expect(pksVersionTraits(v).version).toBe(v);
  });
});

describe('pks_key_alloc per version', () => {
  it('RFC arch/x86/mm/pkeys.c: returns -EINVAL, not -EOPNOTSUPP, without PKS', () => {
    const kernel = boot({ pksVersion: 'rfc', features: { supervisorDomains: false } });
    expect(kernel.pks_key_alloc('pmem')).toBe(-Errno.EINVAL);
  });

  it.each(['v2', 'v3', 'v4', 'v5', 'v6'] as const)('%s: returns -EOPNOTSUPP without PKS (V1 changelog)', (v) => {
    const kernel = boot({ pksVersion: v, features: { supervisorDomains: false } });
    expect(kernel.pks_key_alloc('pmem')).toBe(-Errno.EOPNOTSUPP);
  });

  it('RFC: pks_key_alloc(const char *) takes no flags', () => {
    const kernel = boot({ pksVersion: 'rfc' });
    expect(kernel.pks_key_alloc('x', PKS_FLAG_EXCLUSIVE)).toBe(-Errno.EINVAL);
    expect(kernel.pks_key_alloc('x')).toBe(1);
  });

  it.each(['v2', 'v3'] as const)(
    '%s include/linux/pkeys.h: PKS_FLAG_EXCLUSIVE is 0, so an exclusive request records nothing',
    (v) => {
      const kernel = boot({ pksVersion: v });
      expect(kernel.pks_key_alloc('x', PKS_FLAG_EXCLUSIVE)).toBe(1);
      expect(kernel.pks_keys_allocated().rows[1]).toMatchObject({ key: 1, owner: 'x', exclusive: false });
    },
  );

  it('V6 include/linux/pkeys.h: PKS_FLAG_EXCLUSIVE 0x1 is recorded in the listing', () => {
    const kernel = boot({ pksVersion: 'v6' });
    expect(kernel.pks_key_alloc('x', PKS_FLAG_EXCLUSIVE)).toBe(1);
    expect(kernel.pks_keys_allocated().rows[1]).toMatchObject({ exclusive: true });
  });

  it.each(['rfc', 'v2', 'v6'] as const)('%s: pks_key_free returns nothing, also on a double free', (v) => {
    const kernel = boot({ pksVersion: v });
    const key = kernel.pks_key_alloc('x');
    expect(kernel.pks_key_free(key)).toBeUndefined();
    expect(kernel.pks_key_free(key)).toBeUndefined();
    expect(kernel.pks_key_alloc('y')).toBe(key);
  });
});

describe('V7 pks_abandon_protections', () => {
  it('makes the key read/write in every thread and keeps it so (V7 10/18)', () => {
    const kernel = boot({ pksVersion: 'v7' });
    const key = kernel.keyOf('PKS_KEY_TEST')!;
    const other = kernel.kthread_create('other', 1);
    kernel.cpu(1).switchTo(other);
    expect(kernel.space!.denialsOf(kernel.cpu(1).rights(), key)).toBe(1);
    expect(kernel.pks_abandon_protections(key)).toBe(0);
    for (const cpu of kernel.cpus) expect(kernel.space!.denialsOf(cpu.rights(), key)).toBe(0);
    expect(kernel.cpu(1).pks_set_noaccess(key)).toBe(0);
    expect(kernel.space!.denialsOf(kernel.cpu(1).rights(), key)).toBe(0);
    // A thread created later starts from PKS_INIT_VALUE and is opened on its first update.
    expect(word(kernel.initValue)).toBe(0x55555554);
  });

  it.each(['v6', 'v10'] as const)('does not exist in %s (-EOPNOTSUPP)', (v) => {
    const kernel = boot({ pksVersion: v });
    const key = v === 'v6' ? kernel.pks_key_alloc('x') : kernel.keyOf('PKS_KEY_TEST')!;
    expect(kernel.pks_abandon_protections(key)).toBe(-Errno.EOPNOTSUPP);
  });

  it('refuses a key not in use with -EINVAL', () => {
    expect(boot({ pksVersion: 'v7' }).pks_abandon_protections(9)).toBe(-Errno.EINVAL);
  });
});
