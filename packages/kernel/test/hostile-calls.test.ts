import { describe, expect, it } from 'vitest';
import { AccessKind } from '@pkeysim/core';
import { KernelError, KM_MAX_IDX, MAX_ENTRY_DEPTH, resolveKernelConfig } from '../src';
import { boot, snapshot } from './helpers';

function expectRefused(kernel: ReturnType<typeof boot>, call: () => unknown, code: string, message: RegExp): void {
  const counters = JSON.stringify(kernel.stats());
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(KernelError);
  expect((thrown as KernelError).code).toBe(code);
  expect((thrown as KernelError).message).toMatch(message);
  expect(JSON.stringify(kernel.stats())).toBe(counters);
}

describe('kernel entry points refuse bad arguments before anything changes', () => {
  it('an unknown access kind is EINVAL, not a not-present fault that panics the kernel', () => {
    const kernel = boot();
    const address = kernel.page_address(kernel.alloc_page());
    const before = snapshot(kernel);
    expectRefused(kernel, () => kernel.cpu(0).access(address, 7 as AccessKind), 'EINVAL', /unknown access kind 7/);
    expect(kernel.panic).toBeUndefined();
    expect(snapshot(kernel)).toBe(before);
  });

  it('NaN, fractional and string addresses are EFAULT with nothing counted', () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    expectRefused(kernel, () => cpu.access(NaN, AccessKind.Read), 'EFAULT', /got NaN/);
    expectRefused(kernel, () => cpu.access(1.5, AccessKind.Read), 'EFAULT', /got 1\.5/);
    expectRefused(kernel, () => cpu.write('x' as unknown as number, new Uint8Array(1)), 'EFAULT', /got "x"/);
    expectRefused(kernel, () => cpu.write(0x1000, 'abc' as unknown as Uint8Array), 'EINVAL', /Uint8Array/);
    expectRefused(kernel, () => cpu.read(0x1000, -1), 'EINVAL', /length/);
    expect(kernel.panic).toBeUndefined();
  });

  it(`enter() nests at most MAX_ENTRY_DEPTH (${MAX_ENTRY_DEPTH}) frames, then refuses with the state unchanged`, () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    for (let i = 0; i < MAX_ENTRY_DEPTH; i++) cpu.enter('interrupt');
    const before = snapshot(kernel);
    expectRefused(kernel, () => cpu.enter('interrupt'), 'EINVAL', /already has 32 nested frames/);
    expectRefused(kernel, () => cpu.enter('bogus' as 'nmi'), 'EINVAL', /kind must be one of/);
    expect(snapshot(kernel)).toBe(before);
    for (let i = 0; i < MAX_ENTRY_DEPTH; i++) cpu.exit();
  });

  it(`kmap_local_page() holds at most KM_MAX_IDX (${KM_MAX_IDX}) mappings, like Linux's BUG_ON`, () => {
    const kernel = boot();
    const cpu = kernel.cpu(0);
    const page = kernel.alloc_page();
    const addresses = Array.from({ length: KM_MAX_IDX }, () => cpu.kmap_local_page(page));
    const before = snapshot(kernel);
    expectRefused(kernel, () => cpu.kmap_local_page(page), 'EINVAL', /KM_MAX_IDX is 16/);
    expect(snapshot(kernel)).toBe(before);
    for (const address of addresses.reverse()) cpu.kunmap_local(address);
  });

  it('set_memory_pks with NaN is -EINVAL, not a BigInt RangeError; alloc_pages past RAM is ENOMEM', () => {
    const kernel = boot();
    expect(kernel.set_memory_pks(NaN, 1, 1)).toBe(-22);
    expect(kernel.set_memory_pks(kernel.page_address(kernel.alloc_page()), 1, 'x' as unknown as number)).toBe(-22);
    expectRefused(kernel, () => kernel.alloc_pages(2 ** 19), 'ENOMEM', /alloc_pages/);
    expectRefused(kernel, () => kernel.alloc_pages(1e12), 'EINVAL', /count must be a whole number/);
  });

  it("a consumer's defaultRights must be an own rights name: 'toString' is refused", () => {
    expect(() =>
      resolveKernelConfig({
        keyDesign: 'static',
        consumers: [{ name: 'PKS_KEY_X', defaultRights: 'toString' as 'rw' }],
      }),
    ).toThrow(/defaultRights must be "rw", "ad" or "wd"/);
  });
});
