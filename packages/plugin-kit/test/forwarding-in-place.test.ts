import { inPlacePageTables } from '@pkeysim/core';
import { ForwardingMachine } from '@pkeysim/plugin-kit';
import { X86Machine } from '@pkeysim/x86';
import { describe, expect, it } from 'vitest';

describe("ForwardingMachine forwards its inner machine's in-place page tables", () => {
  it('a scheme over x86 offers the x86 walker: the adopted root and the codec are the inner ones', () => {
    const inner = new X86Machine({ cpus: 1 });
    const outer = new ForwardingMachine(inner);
    const tables = inPlacePageTables(outer);
    expect(tables).toBe(inner);
    const root = inner.allocatePhysical(0x1000);
    const space = tables!.adoptAddressSpace(root);
    expect(inner.rootOf(space)).toBe(root);
    expect(tables!.codec).toBe(inner.codec);
  });

  it('nested wrappers forward too; a wrapper that refuses hides them', () => {
    const inner = new X86Machine({ cpus: 1 });
    const bare = new ForwardingMachine(new ForwardingMachine(inner));
    expect(inPlacePageTables(bare)).toBe(inner);
    const opaque = Object.assign(new ForwardingMachine(inner), { inPlacePageTables: () => undefined });
    expect(inPlacePageTables(new ForwardingMachine(opaque))).toBeUndefined();
  });
});
