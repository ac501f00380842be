import type { Machine } from '@pkeysim/core';

/** The typed arrays every TLB model in the repository keeps (machine-kit's and x86's Tlb). */
export interface TlbArrays {
  readonly entries: number;
  readonly tag: Float64Array;
  readonly frame: Float64Array;
}

function isTlb(value: unknown): value is TlbArrays {
  const t = value as Partial<TlbArrays> | undefined;
  return !!t && t.tag instanceof Float64Array && t.frame instanceof Float64Array && typeof t.entries === 'number';
}

/**
 * The CPU's TLB, when the machine lets a reader see it: machine-kit machines (arm64, POWER, schemes
 * built on them) expose `tlb(cpu)`, the x86 model `cpu(n).tlb`. The core Machine contract has no
 * TLB listing (the kernel must not depend on one), so a machine without either gives undefined.
 */
export function tlbOf(machine: Machine, cpu: number): TlbArrays | undefined {
  const m = machine as unknown as { tlb?: (cpu: number) => unknown; cpu?: (cpu: number) => { tlb?: unknown } };
  try {
    if (typeof m.tlb === 'function') {
      const tlb = m.tlb(cpu);
      if (isTlb(tlb)) return tlb;
    }
    if (typeof m.cpu === 'function') {
      const tlb = m.cpu(cpu)?.tlb;
      if (isTlb(tlb)) return tlb;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Valid entries as [virtual page number, physical frame address] pairs, in slot order. */
export function validEntries(tlb: TlbArrays): [number, number][] {
  const out: [number, number][] = [];
  for (let slot = 0; slot < tlb.entries; slot++) {
    const tag = tlb.tag[slot];
    if (tag === tag) out.push([tag, tlb.frame[slot]]); // NaN marks an empty slot
  }
  return out;
}
