import { MachineEvent } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { Errno, KernelError } from '../src';
import { boot, snapshot, withBits, word } from './helpers';

describe('entry code with the pt_regs auxiliary area (V9/V10)', () => {
  it('saves the interrupted rights, runs every handler at the default, restores on exit, at any depth', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const key = kernel.pks_key_alloc('k');
    cpu.pks_set_readwrite(key);
    const open = withBits(0x55555554, key, 0);
    const entries = kernel.machine.events.get(0, MachineEvent.ExceptionEntry);
    cpu.handle('exception', (pf) => {
      expect(word(pf.savedRights!)).toBe(open);
      expect(word(cpu.rights())).toBe(0x55555554);
      cpu.pks_set_readonly(key);
      cpu.interrupt((irq) => {
        expect(word(irq.savedRights!)).toBe(withBits(0x55555554, key, 2));
        expect(word(cpu.rights())).toBe(0x55555554);
        cpu.nmi((nmi) => {
          expect(nmi.depth).toBe(3);
          expect(word(cpu.rights())).toBe(0x55555554);
          cpu.pks_set_readwrite(key);
        });
        expect(word(cpu.rights())).toBe(0x55555554);
      });
      expect(word(cpu.rights())).toBe(withBits(0x55555554, key, 2));
    });
    expect(word(cpu.rights())).toBe(open);
    expect(cpu.current.frames).toHaveLength(0);
    expect(kernel.machine.events.get(0, MachineEvent.ExceptionEntry) - entries).toBe(3);
    expect(kernel.machine.events.get(0, MachineEvent.ExceptionExit) - entries).toBe(3);
  });

  it('pks_update_exception changes only what the interrupted context resumes with', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const key = kernel.pks_key_alloc('k');
    cpu.interrupt((frame) => {
      expect(kernel.pks_update_exception(frame, key, 0)).toBe(0);
      expect(word(cpu.rights())).toBe(0x55555554);
    });
    expect(word(cpu.rights())).toBe(withBits(0x55555554, key, 0));
  });

  it('refuses pks_update_exception on a returned frame, a bad key or protection, changing nothing', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const key = kernel.pks_key_alloc('k');
    const stale = cpu.interrupt((frame) => frame);
    cpu.interrupt((frame) => {
      const saved = frame.savedRights;
      expect(kernel.pks_update_exception(stale, key, 0)).toBe(-Errno.EINVAL);
      expect(kernel.pks_update_exception(frame, 0, 0)).toBe(-Errno.EINVAL);
      expect(kernel.pks_update_exception(frame, 12, 0)).toBe(-Errno.EINVAL);
      expect(kernel.pks_update_exception(frame, key, 8)).toBe(-Errno.EINVAL);
      expect(frame.savedRights).toBe(saved);
    });
    expect(word(cpu.rights())).toBe(0x55555554);
  });

  it('refuses exit without entry with a clear error and changes nothing', () => {
    const kernel = boot();
    const before = snapshot(kernel);
    expect(() => kernel.cpu(0).exit()).toThrow(
      /exit without entry: swapper\/0 \(tid 1\) on CPU 0 has no open exception frame/,
    );
    expect(snapshot(kernel)).toBe(before);
  });

  it('refuses to exit a frame that is not the innermost, and a frame exited twice', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const outer = cpu.enter('exception');
    const inner = cpu.enter('interrupt');
    const before = snapshot(kernel);
    expect(() => cpu.exit(outer)).toThrow(/unbalanced exit: frame #PF at depth 1 is not the innermost/);
    expect(snapshot(kernel)).toBe(before);
    cpu.exit(inner);
    expect(() => cpu.exit(inner)).toThrow(/has already returned/);
    cpu.exit(outer);
  });

  it('refuses to exit a handler that left a kmap_local mapping open', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const page = kernel.alloc_page();
    const frame = cpu.enter('interrupt');
    const address = cpu.kmap_local_page(page);
    expect(() => cpu.exit(frame)).toThrow(KernelError);
    expect(() => cpu.exit(frame)).toThrow(/still open/);
    cpu.kunmap_local(address);
    cpu.exit(frame);
  });

  it('keeps frames on the thread: a thread switched out inside an exception resumes it elsewhere', () => {
    const kernel = boot();
    const key = kernel.pks_key_alloc('k');
    const a = kernel.kthread_create('a', 0);
    const cpu0 = kernel.cpu(0);
    cpu0.switchTo(a);
    cpu0.pks_set_readwrite(key);
    const frame = cpu0.enter('exception');
    cpu0.switchTo(kernel.idle(0));
    kernel.migrate(a, 1);
    kernel.cpu(1).switchTo(a);
    expect(word(kernel.cpu(1).rights())).toBe(0x55555554);
    kernel.cpu(1).exit(frame);
    expect(word(kernel.cpu(1).rights())).toBe(withBits(0x55555554, key, 0));
  });
});

describe('legacy RFC V1 entry (rights not saved across interrupts)', () => {
  it("runs the handler with the interrupted rights, and the handler's changes stick", () => {
    const kernel = boot({ entryMode: 'legacy-rfc-v1' });
    const cpu = kernel.cpu(0);
    const key = kernel.pks_key_alloc('k');
    cpu.pks_set_readwrite(key);
    cpu.interrupt((frame) => {
      expect(frame.aux).toBeUndefined();
      expect(word(cpu.rights())).toBe(withBits(0x55555554, key, 0));
      expect(kernel.pks_update_exception(frame, key, 0)).toBe(-Errno.EOPNOTSUPP);
      cpu.pks_set_noaccess(key);
    });
    expect(word(cpu.rights())).toBe(0x55555554);
  });
});
