import { Privilege } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KERNEL_CONFIG, Errno, KernelError, resolveKernelConfig } from '../src';
import { boot, bootWithoutSupervisorSpace, word } from './helpers';

describe('boot', () => {
  it('writes PKS_INIT_VALUE on every CPU, then enables supervisor keys on each', () => {
    const kernel = boot({ cpus: 4 });
    const pks = kernel.machine.domainSpace(Privilege.Supervisor)!;
    expect(kernel.supported).toBe(true);
    for (let cpu = 0; cpu < 4; cpu++) {
      expect(pks.enabled(cpu)).toBe(true);
      expect(word(kernel.cpu(cpu).rights())).toBe(0x55555554);
      expect(kernel.cachedRights(cpu)).toEqual([0x55555554]);
      expect(kernel.cpu(cpu).current.name).toBe(`swapper/${cpu}`);
    }
    expect(kernel.log.lines()[0]).toContain('PKS_INIT_VALUE 0x55555554');
  });

  it('enables user keys too and loads init_pkru_value', () => {
    const kernel = boot();
    const pku = kernel.machine.domainSpace(Privilege.User)!;
    expect(pku.enabled(0)).toBe(true);
    expect(word(pku.read(1))).toBe(0x55555554);
  });

  it('boots a CPU without PKS and every key API reports -EOPNOTSUPP', () => {
    const kernel = boot({ features: { supervisorDomains: false } });
    expectUnsupported(kernel);
    expect(kernel.machine.domainSpace(Privilege.Supervisor)!.enabled(0)).toBe(false);
  });

  it('boots an architecture with no supervisor key space and reports -EOPNOTSUPP', () => {
    const kernel = bootWithoutSupervisorSpace();
    expectUnsupported(kernel);
    expect(kernel.log.lines()[0]).toContain('no supervisor key space');
  });

  it('reports unsupported with the static design too', () => {
    const kernel = boot({ features: { supervisorDomains: false }, keyDesign: 'static' });
    expect(kernel.cpu(0).pks_set_readwrite(kernel.keyOf('PKS_KEY_TEST')!)).toBe(-Errno.EOPNOTSUPP);
    expect(kernel.pks_keys_allocated().supported).toBe(false);
  });

  it('has explicit defaults', () => {
    expect(resolveKernelConfig()).toEqual(DEFAULT_KERNEL_CONFIG);
    expect(DEFAULT_KERNEL_CONFIG).toMatchObject({
      arch: 'x86',
      keyDesign: 'dynamic',
      entryMode: 'aux-pt-regs',
      cpus: 2,
      seed: 1,
    });
  });

  it.each([
    [{ cpus: 0 }, 'cpus'],
    [{ keyDesign: 'random' as never }, 'keyDesign'],
    [{ entryMode: 'v2' as never }, 'entryMode'],
    [{ consumers: [{ name: 'bad name', defaultRights: 'rw' as const }] }, 'consumers[0].name'],
    [{ consumers: [{ name: 'K', defaultRights: 'rx' as never }] }, 'consumers[0].defaultRights'],
  ])('refuses a bad config field (%j) naming %s', (input, field) => {
    expect(() => resolveKernelConfig(input)).toThrow(KernelError);
    expect(() => resolveKernelConfig(input)).toThrow(field);
  });

  it('refuses an unknown architecture with a clear error', () => {
    expect(() => boot({ arch: 'vax' })).toThrow(/no protection plugin named "vax"/);
  });
});

function expectUnsupported(kernel: ReturnType<typeof boot>): void {
  const cpu = kernel.cpu(0);
  expect(kernel.supported).toBe(false);
  expect(kernel.pks_key_alloc('user')).toBe(-Errno.EOPNOTSUPP);
  expect(kernel.pks_key_free(1)).toBeUndefined();
  expect(cpu.pks_update_protection(1, 0)).toBe(-Errno.EOPNOTSUPP);
  expect(cpu.pks_set_noaccess(1)).toBe(-Errno.EOPNOTSUPP);
  expect(cpu.pks_set_readwrite(1)).toBe(-Errno.EOPNOTSUPP);
  expect(cpu.pks_set_readonly(1)).toBe(-Errno.EOPNOTSUPP);
  expect(kernel.pks_set_fault_callback(1, () => true)).toBe(-Errno.EOPNOTSUPP);
  const page = kernel.alloc_page();
  expect(kernel.set_memory_pks(kernel.page_address(page), 1, 1)).toBe(-Errno.EOPNOTSUPP);
  cpu.interrupt((frame) => {
    expect(frame.aux).toBeUndefined();
    expect(kernel.pks_update_exception(frame, 1, 0)).toBe(-Errno.EOPNOTSUPP);
  });
  expect(cpu.rights()).toEqual([]);
  expect(kernel.pks_keys_allocated().supported).toBe(false);
  // Everything else still works: threads, switches, kmap of ordinary pages, accesses.
  const t = kernel.kthread_create('worker', 0);
  cpu.switchTo(t);
  const address = cpu.kmap_local_page(page);
  expect(cpu.write(address, new Uint8Array([7])).ok).toBe(true);
  cpu.kunmap_local(address);
}
