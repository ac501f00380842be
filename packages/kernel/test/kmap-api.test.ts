import { describe, expect, it } from 'vitest';
import {
  createKmapApi,
  DEFAULT_STATIC_CONSUMERS,
  KernelError,
  KMAP_API_DESIGNS,
  type KmapBlock,
  PAGE_SIZE,
  protectIdentityMap,
} from '../src';
import { boot } from './helpers';

const META = { name: 'PKS_KEY_META', defaultRights: 'wd' as const };

function setup() {
  const kernel = boot({ keyDesign: 'static', consumers: [...DEFAULT_STATIC_CONSUMERS, META] });
  const key = kernel.keyOf(META.name)!;
  const physical = kernel.alloc_pages(4);
  const block: KmapBlock = {
    id: 0,
    physical,
    pages: 4,
    length: 4 * PAGE_SIZE,
    directAddress: kernel.page_address(physical),
    keys: [key, key, key, key],
  };
  const owner = kernel.kthread_create('owner', 0);
  const other = kernel.kthread_create('endio', 1);
  kernel.cpu(0).switchTo(owner);
  kernel.cpu(1).switchTo(other);
  return { kernel, block, key };
}

describe('kmap API designs', () => {
  it('are selectable by name; an unknown name is refused', () => {
    const { kernel } = setup();
    expect(KMAP_API_DESIGNS).toHaveLength(7);
    expect(() => createKmapApi(kernel, 'kmap-global' as never, { clock: () => 0, mode: 'strict' })).toThrow(
      /no kmap API design "kmap-global"/,
    );
  });

  it('the capability design needs a machine with pointer authority', () => {
    const { kernel } = setup();
    expect(() => createKmapApi(kernel, 'capability', { clock: () => 0, mode: 'strict' })).toThrow(/--arch capability/);
  });

  it('kmap-local: a window handed to another thread is reported as a misuse (rights are per thread), and the write completes', () => {
    const { kernel, block } = setup();
    const api = createKmapApi(kernel, 'kmap-local', { clock: () => 0, mode: 'strict' });
    api.prepare(block);
    const mapping = api.map(kernel.cpu(0), block, true);
    api.receive(kernel.cpu(1), mapping);
    expect(api.store(kernel.cpu(1), mapping.pointer, 8, Uint8Array.of(1)).ok).toBe(true);
    api.release(kernel.cpu(1), mapping);
    expect(api.misuses.map((m) => m.kind)).toEqual(['window-leaked-across-threads']);
    expect(api.misuses[0].detail).toMatch(/mapped by owner used by endio/);
    // After release the receiver is back at the key's default: a stray from it faults again.
    expect(api.store(kernel.cpu(1), mapping.pointer, 16, Uint8Array.of(2)).ok).toBe(false);
  });

  it('an unbalanced unmap is refused with EINVAL and reported', () => {
    const { kernel, block } = setup();
    const api = createKmapApi(kernel, 'vmap', { clock: () => 0, mode: 'strict' });
    api.prepare(block);
    const mapping = api.map(kernel.cpu(0), block, true);
    api.unmap(kernel.cpu(0), mapping);
    expect(() => api.unmap(kernel.cpu(0), mapping)).toThrow(KernelError);
    expect(api.misuses.map((m) => m.kind)).toEqual(['unbalanced-unmap']);
  });

  it('no-direct-map: an access through page_address() with no mapping faults and is reported', () => {
    const { kernel, block } = setup();
    const api = createKmapApi(kernel, 'no-direct-map', { clock: () => 0, mode: 'strict' });
    api.prepare(block);
    expect(api.probePageAddress(kernel.cpu(1), block)).toBe(true);
    expect(api.misuses[0].kind).toBe('page-address-without-map');
  });

  it('vmap: a writer mapping is exposed to every thread for its lifetime (byte-ticks on the caller clock)', () => {
    const { kernel, block } = setup();
    let now = 0;
    const api = createKmapApi(kernel, 'vmap', { clock: () => now, mode: 'strict' });
    api.prepare(block);
    const mapping = api.map(kernel.cpu(0), block, true);
    now = 10;
    expect(api.store(kernel.cpu(1), mapping.pointer, 0, Uint8Array.of(9)).ok).toBe(true);
    api.unmap(kernel.cpu(0), mapping);
    expect(api.stats().exposure).toBe(10 * block.length);
  });
});

describe('identity-map protection', () => {
  it('keys the direct-map entry, splits the large page once, and faults a stray while the owner mapping works', () => {
    const { kernel, key } = setup();
    const physical = kernel.alloc_page();
    const first = protectIdentityMap(kernel, physical, 1, key);
    expect(first).toMatchObject({ result: 0, splits: 1, pages: 1, key });
    expect(kernel.log.lines().at(-1)).toMatch(
      /identity map: 1 page\(s\) at 0xffff888.* keyed \d+; 1 large page\(s\) split/,
    );
    const view = kernel.vmap([physical]);
    expect(kernel.cpu(0).write(view, Uint8Array.of(1)).ok).toBe(true);
    expect(kernel.cpu(1).write(first.address, Uint8Array.of(2)).ok).toBe(false);
    // The 2 MiB page is already split: protecting a neighbour splits nothing.
    expect(protectIdentityMap(kernel, kernel.alloc_page(), 1, key).splits).toBe(0);
  });

  it('a refused re-key reports its errno and splits nothing', () => {
    const { kernel } = setup();
    expect(protectIdentityMap(kernel, kernel.alloc_page(), 1, 14)).toMatchObject({ result: -22, splits: 0 });
  });
});
