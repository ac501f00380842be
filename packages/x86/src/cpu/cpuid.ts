/** CPUID (Bochs cpuid.cc): leaves 0, 1 and 7.0 as the CPU's features and control registers say. */
import { CPUID1_ECX, CPUID7_EBX, CPUID7_ECX, CR4 } from '../registers';
import type { CpuContext } from './core';

/** The four registers a CPUID leaf returns. */
export interface CpuidResult {
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

/** CPUID leaves 0, 1 and 7.0 as configured; any other leaf reads zeros. */
export function cpuid(ctx: CpuContext, leaf: number, subleaf: number): CpuidResult {
  const f = ctx.features;
  const cr4 = ctx.regs.cr4;
  if (leaf === 0) return { eax: 7, ebx: 0x756e6547, ecx: 0x6c65746e, edx: 0x49656e69 }; // "GenuineIntel"
  if (leaf === 1) {
    return { eax: 0, ebx: 0, ecx: CPUID1_ECX.XSAVE | ((cr4 & CR4.OSXSAVE) !== 0 ? CPUID1_ECX.OSXSAVE : 0), edx: 0 };
  }
  if (leaf === 7 && subleaf === 0) {
    const ecx =
      (f.pku ? CPUID7_ECX.PKU : 0) |
      // OSPKE reads as CR4.PKE (SDM vol. 2, CPUID leaf 7).
      ((cr4 & CR4.PKE) !== 0 ? CPUID7_ECX.OSPKE : 0) |
      (f.la57 ? CPUID7_ECX.LA57 : 0) |
      (f.pks ? CPUID7_ECX.PKS : 0);
    return { eax: 0, ebx: CPUID7_EBX.SMEP | CPUID7_EBX.SMAP, ecx: ecx >>> 0, edx: 0 };
  }
  return { eax: 0, ebx: 0, ecx: 0, edx: 0 };
}
