import { AccessKind, MachineEvent, PageSize } from '@pkeysim/core';
import { describe, expect, it } from 'vitest';
import { DIRECT_MAP_BASE, Errno, KernelError, VMAP_BASE } from '../src';
import { boot, snapshot, withBits, word } from './helpers';

function setup() {
  const kernel = boot();
  const cpu = kernel.cpu(0);
  const key = kernel.pks_key_alloc('pmem');
  const page = kernel.alloc_page();
  const address = kernel.page_address(page);
  expect(kernel.set_memory_pks(address, 1, key)).toBe(0);
  const thread = kernel.kthread_create('worker', 0);
  cpu.switchTo(thread);
  return { kernel, cpu, key, page, address, thread };
}

describe('the direct map and set_memory_pks', () => {
  it('maps allocated pages in the direct map at 0xffff888000000000 with 2 MiB pages and key 0', () => {
    const kernel = boot();
    const page = kernel.alloc_page();
    const address = kernel.page_address(page);
    expect(address).toBe(DIRECT_MAP_BASE + page);
    const t = kernel.machine.translate(kernel.machine.activeSpace(0), address)!;
    expect(t).toMatchObject({ physical: page, domain: 0, pageSize: PageSize.Size2M, user: false });
  });

  it("re-keys direct-map pages: splits the 2 MiB page and shoots down every other CPU's TLB", () => {
    const kernel = boot({ cpus: 4 });
    const key = kernel.pks_key_alloc('pgtables');
    const page = kernel.alloc_pages(2);
    const address = kernel.page_address(page);
    const shootdowns = kernel.machine.events.total(MachineEvent.Shootdown);
    expect(kernel.set_memory_pks(address, 2, key)).toBe(0);
    expect(kernel.keyAt(address)).toBe(key);
    expect(kernel.keyAt(address + 0x1000)).toBe(key);
    expect(kernel.keyAt(address + 0x2000)).toBe(0);
    expect(kernel.machine.translate(kernel.machine.activeSpace(0), address)!.pageSize).toBe(PageSize.Size4K);
    expect(kernel.machine.events.total(MachineEvent.Shootdown) - shootdowns).toBeGreaterThanOrEqual(3);
    const result = kernel.cpu(2).access(address, AccessKind.Read);
    expect(result.ok).toBe(false);
  });

  it.each([
    ['an unaligned address', (a: number) => [a + 1, 1, 1]],
    ['a vmalloc address', () => [VMAP_BASE, 1, 1]],
    ['zero pages', (a: number) => [a, 0, 1]],
    ['an unallocated key', (a: number) => [a, 1, 9]],
    ['key 16', (a: number) => [a, 1, 16]],
  ])('refuses %s with -EINVAL and changes nothing', (_label, args) => {
    const kernel = boot();
    kernel.pks_key_alloc('k');
    const address = kernel.page_address(kernel.alloc_page());
    const [addr, pages, key] = args(address);
    const before = snapshot(kernel);
    expect(kernel.set_memory_pks(addr, pages, key)).toBe(-Errno.EINVAL);
    expect(kernel.keyAt(address)).toBe(0);
    expect(snapshot(kernel)).toBe(before);
  });
});

describe('access windows', () => {
  it("kmap_local_page opens the page's key for this thread only, nestably, and kunmap_local closes it", () => {
    const { kernel, cpu, key, page, address } = setup();
    expect(cpu.access(address, AccessKind.Write).ok).toBe(false);
    const fresh = kernel.kthread_create('w2', 0);
    cpu.switchTo(fresh);
    const a = cpu.kmap_local_page(page);
    expect(a).toBe(address);
    const b = cpu.kmap_local_page(page);
    expect(word(cpu.rights())).toBe(withBits(0x55555554, key, 0));
    expect(word(kernel.cpu(1).rights())).toBe(0x55555554);
    cpu.kunmap_local(b);
    expect(cpu.write(a, new Uint8Array([9])).ok).toBe(true);
    cpu.kunmap_local(a);
    expect(word(cpu.rights())).toBe(0x55555554);
    expect(fresh.kmaps).toHaveLength(0);
  });

  it('is thread-local: another thread on the same CPU does not see the window', () => {
    const { kernel, cpu, page, address, thread } = setup();
    cpu.kmap_local_page(page);
    const other = kernel.kthread_create('other', 0);
    cpu.switchTo(other);
    expect(word(cpu.rights())).toBe(0x55555554);
    cpu.switchTo(thread);
    expect(cpu.write(address, new Uint8Array([1])).handledFaults).toBe(0);
  });

  it("gives an interrupt handler its own (closed) windows and restores the thread's", () => {
    const { kernel, cpu, key, page, address } = setup();
    let faulted = false;
    kernel.pks_set_fault_callback(key, (frame) => {
      faulted = true;
      return kernel.pks_update_exception(frame, key, 0) === 0;
    });
    const a = cpu.kmap_local_page(page);
    cpu.interrupt(() => {
      expect(word(cpu.rights())).toBe(0x55555554);
      const h = cpu.kmap_local_page(page);
      expect(cpu.write(h, new Uint8Array([1])).handledFaults).toBe(0);
      cpu.kunmap_local(h);
      expect(word(cpu.rights())).toBe(0x55555554);
    });
    expect(cpu.write(address, new Uint8Array([2])).handledFaults).toBe(0);
    cpu.kunmap_local(a);
    expect(faulted).toBe(false);
  });

  it('refuses unbalanced kunmap_local with a clear error and changes nothing', () => {
    const { kernel, cpu, page } = setup();
    const other = kernel.alloc_page();
    const before0 = snapshot(kernel);
    expect(() => cpu.kunmap_local(kernel.page_address(page))).toThrow(/unbalanced kunmap_local.*no open kmap/);
    expect(snapshot(kernel)).toBe(before0);
    const a = cpu.kmap_local_page(page);
    const b = cpu.kmap_local_page(other);
    const before = snapshot(kernel);
    expect(() => cpu.kunmap_local(a)).toThrow(/reverse order/);
    expect(() => cpu.kunmap_atomic(b)).toThrow(KernelError);
    expect(snapshot(kernel)).toBe(before);
    cpu.kunmap_local(b);
    cpu.kunmap_local(a);
  });

  it('refuses kunmap_local inside a handler of a mapping made before the interrupt', () => {
    const { cpu, page } = setup();
    const a = cpu.kmap_local_page(page);
    cpu.interrupt(() => {
      expect(() => cpu.kunmap_local(a)).toThrow(/no open kmap in this context/);
    });
    cpu.kunmap_local(a);
  });

  it('kmap_atomic opens the key and disables preemption until kunmap_atomic', () => {
    const { kernel, cpu, key, page } = setup();
    const a = cpu.kmap_atomic(page);
    expect(kernel.space!.denialsOf(cpu.rights(), key)).toBe(0);
    expect(() => cpu.switchTo(kernel.idle(0))).toThrow(/scheduling while atomic/);
    cpu.kunmap_atomic(a);
    expect(kernel.space!.denialsOf(cpu.rights(), key)).toBe(1);
  });

  it('kmap_local_range opens every key of a 16 KiB metadata block spread over two keys', () => {
    const { kernel, cpu, key } = setup();
    const key2 = kernel.pks_key_alloc('btrfs');
    const block = kernel.alloc_pages(4);
    const start = kernel.page_address(block);
    kernel.set_memory_pks(start, 2, key);
    kernel.set_memory_pks(start + 0x2000, 2, key2);
    const a = cpu.kmap_local_range(start, 0x4000);
    expect(cpu.write(start, new Uint8Array(0x4000).fill(7))).toEqual({ ok: true, handledFaults: 0 });
    cpu.kunmap_local(start + 0x3000);
    expect(a).toBe(start);
    expect(word(cpu.rights())).toBe(0x55555554);
  });

  it('vmap maps pages into a new mapping with a key, and vunmap removes it', () => {
    const { kernel, cpu, key } = setup();
    const pages = [kernel.alloc_page(), kernel.alloc_page()];
    const address = kernel.vmap(pages, { key });
    expect(kernel.keyAt(address)).toBe(key);
    expect(kernel.machine.translate(kernel.machine.activeSpace(0), address + 0x1000)!.physical).toBe(pages[1]);
    cpu.pks_set_readwrite(key);
    expect(cpu.write(address + 0x1000, new Uint8Array([5])).ok).toBe(true);
    const direct = cpu.read(kernel.page_address(pages[1]), 1);
    expect(direct.ok && direct.data[0]).toBe(5);
    kernel.vunmap(address);
    expect(kernel.keyAt(address)).toBeUndefined();
    expect(() => kernel.vunmap(address)).toThrow(/not the start of a vmap area/);
    expect(() => kernel.vmap([], { key })).toThrow(KernelError);
    expect(() => kernel.vmap([pages[0]], { key: 11 })).toThrow(/not allocated/);
  });

  it('global kmap: another thread\'s access faults and the report says "global kmap used across threads"', () => {
    const { kernel, cpu, page, address, thread } = setup();
    const mapped = cpu.kmap(page);
    expect(cpu.write(mapped, new Uint8Array([1])).ok).toBe(true);
    const other = kernel.kthread_create('borrower', 1);
    kernel.cpu(1).switchTo(other);
    const result = kernel.cpu(1).write(address, new Uint8Array([2]));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.oops.notes[0]).toMatch(
      /^global kmap used across threads: .* kmap\(\)ed by worker \(tid \d+\), accessed by borrower/,
    );
    expect(() => kernel.cpu(1).kunmap(page)).toThrow(/global kmap used across threads/);
    cpu.kunmap(page);
    expect(thread.kmaps).toHaveLength(0);
  });

  it('refuses kunmap from a thread that holds no kmap of the page', () => {
    const { kernel, cpu, page } = setup();
    cpu.kmap(page);
    const other = kernel.kthread_create('other', 1);
    kernel.cpu(1).switchTo(other);
    const before = snapshot(kernel);
    expect(() => kernel.cpu(1).kunmap(page)).toThrow(/global kmap used across threads/);
    expect(() => kernel.cpu(1).kunmap(kernel.alloc_page())).toThrow(/unbalanced kunmap/);
    expect(snapshot(kernel)).toBe(before);
  });
});
