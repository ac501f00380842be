import '@pkeysim/x86';
import { createKernel, DEFAULT_STATIC_CONSUMERS, KernelError } from '@pkeysim/kernel';
import { describe, expect, it } from 'vitest';
import { BTRFS_DEBUG_KEY, BtrfsDebug, type BtrfsDebugMode } from '../src';

function setup(mode: BtrfsDebugMode) {
  const kernel = createKernel({
    cpus: 2,
    keyDesign: 'static',
    consumers: [...DEFAULT_STATIC_CONSUMERS, { name: BTRFS_DEBUG_KEY, defaultRights: 'wd' }],
  });
  const sites = ['', ''];
  const debug = new BtrfsDebug(kernel, { key: kernel.keyOf(BTRFS_DEBUG_KEY)!, mode, callSite: (cpu) => sites[cpu] });
  const node = debug.watch('btree_node', kernel.page_address(kernel.alloc_pages(4)), 4);
  debug.declareWriter('btrfs_set_token_32');
  const writer = kernel.kthread_create('btrfs-transaction', 0);
  const scrub = kernel.kthread_create('scrub', 1);
  kernel.cpu(0).switchTo(writer);
  kernel.cpu(1).switchTo(scrub);
  return { kernel, debug, node, sites };
}

describe('btrfs-debug', () => {
  it('a declared writer modifies watched pages; reads need no window', () => {
    const { kernel, debug, node } = setup('strict');
    debug.begin(0, 'btrfs_set_token_32');
    expect(kernel.cpu(0).write(node.address + 0x3000, Uint8Array.of(1)).ok).toBe(true);
    debug.end(0, 'btrfs_set_token_32');
    expect(kernel.cpu(1).read(node.address + 0x3000, 1).ok).toBe(true);
    expect(debug.reports).toEqual([]);
  });

  it('strict: a stray modifier oopses and the report names its thread and call site', () => {
    const { kernel, debug, node, sites } = setup('strict');
    debug.begin(0, 'btrfs_set_token_32');
    sites[1] = 'scrub_stripe (program[3])';
    const r = kernel.cpu(1).write(node.address + 0x10, Uint8Array.of(0xff));
    expect(r.ok).toBe(false);
    expect(debug.reports).toHaveLength(1);
    expect(debug.reports[0]).toMatchObject({
      thread: 'scrub',
      callSite: 'scrub_stripe (program[3])',
      object: 'btree_node',
      offset: 0x10,
    });
    expect(kernel.log.lines().join('\n')).toMatch(
      /stray write to btree_node\+0x10 by scrub \(tid \d+\) at scrub_stripe/,
    );
    expect(
      kernel.machine.readPhysical(
        kernel.machine.translate(kernel.machine.activeSpace(0), node.address)!.physical + 0x10,
        1,
      )[0],
    ).toBe(0);
  });

  it('relaxed: the stray is reported and its write lands (warn and continue)', () => {
    const { kernel, debug, node } = setup('relaxed');
    const r = kernel.cpu(1).write(node.address + 0x20, Uint8Array.of(0xee));
    expect(r).toMatchObject({ ok: true, handledFaults: 1 });
    expect(debug.reports[0].mode).toBe('relaxed');
    expect(debug.reports[0].callSite).toBe('unknown call site');
  });

  it('an undeclared writer and an unbalanced end are refused', () => {
    const { debug } = setup('strict');
    expect(() => debug.begin(0, 'memcpy')).toThrow(/not a declared writer/);
    expect(() => debug.end(0, 'btrfs_set_token_32')).toThrow(KernelError);
  });
});
