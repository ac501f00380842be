import { MachineEvent } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { Errno } from '../src';
import { boot, snapshot, withBits, word } from './helpers';

describe('rights updates (pks_update_protection and wrappers)', () => {
  it("change the current thread's saved value and the CPU register together", () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const t = kernel.kthread_create('w', 0);
    cpu.switchTo(t);
    const key = kernel.pks_key_alloc('k');
    expect(cpu.pks_set_readwrite(key)).toBe(0);
    expect(word(t.pkrs)).toBe(withBits(0x55555554, key, 0));
    expect(cpu.rights()).toEqual(t.pkrs);
    expect(cpu.pks_set_readonly(key)).toBe(0);
    expect(word(cpu.rights())).toBe(withBits(0x55555554, key, 2));
    expect(cpu.pks_update_protection(key, 0x3)).toBe(0);
    expect(word(cpu.rights())).toBe(withBits(0x55555554, key, 3));
    expect(cpu.pks_set_noaccess(key)).toBe(0);
    expect(word(cpu.rights())).toBe(0x55555554);
  });

  it('affect only the CPU they run on: rights are per thread, never global', () => {
    const kernel = boot();
    const key = kernel.pks_key_alloc('k');
    kernel.cpu(0).pks_set_readwrite(key);
    expect(word(kernel.cpu(1).rights())).toBe(0x55555554);
  });

  it('skip the register write when the per-CPU cache already holds the value, and count the skip', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const key = kernel.pks_key_alloc('k');
    const events = kernel.machine.events;
    const writes = events.get(0, MachineEvent.RightsWrite);
    const skips = events.get(0, MachineEvent.RightsWriteSkipped);
    cpu.pks_set_readwrite(key);
    cpu.pks_set_readwrite(key);
    cpu.pks_set_readwrite(key);
    expect(events.get(0, MachineEvent.RightsWrite) - writes).toBe(1);
    expect(events.get(0, MachineEvent.RightsWriteSkipped) - skips).toBe(2);
    expect(kernel.cachedRights(0)).toEqual(cpu.rights());
  });

  it.each([
    ['key 0 (the default key always has full access)', 0, 0],
    ['key 16 (>= PKS_KEY_MAX)', 16, 0],
    ['a negative key', -3, 0],
    ['an unallocated key', 9, 0],
    ['an unknown protection bit', 1, 0x4],
    ['a fractional protection', 1, 0.5],
  ])('refuse %s with -EINVAL, a warning, and no change', (_label, key, prot) => {
    const kernel = boot();
    kernel.pks_key_alloc('k');
    const before = snapshot(kernel);
    const writes = kernel.machine.events.total(MachineEvent.RightsWrite);
    expect(kernel.cpu(0).pks_update_protection(key, prot)).toBe(-Errno.EINVAL);
    expect(snapshot(kernel)).toBe(before);
    expect(kernel.machine.events.total(MachineEvent.RightsWrite)).toBe(writes);
    expect(kernel.log.lines().at(-1)).toMatch(/^WARNING: pks: /);
  });

  it('apply to static consumer keys with their names', () => {
    const kernel = boot({ keyDesign: 'static', pageTableProtection: true });
    const key = kernel.keyOf('PKS_KEY_PG_TABLES')!;
    expect(kernel.space!.denialsOf(kernel.cpu(0).rights(), key)).toBe(2);
    expect(kernel.cpu(0).pks_set_readwrite(key)).toBe(0);
    expect(kernel.space!.denialsOf(kernel.cpu(0).rights(), key)).toBe(0);
    expect(kernel.cpu(0).pks_set_readwrite(9)).toBe(-Errno.EINVAL);
  });
});
