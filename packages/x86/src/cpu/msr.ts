/**
 * Model-specific registers (Bochs msr.cc): RDMSR and WRMSR of IA32_EFER and IA32_PKRS (SDM vol. 2,
 * RDMSR/WRMSR; vol. 4 for the MSR numbers). Everything is validated before a register changes.
 */
import { MachineEvent } from '@pkeysim/core';
import { EFER, EFER_DEFINED, MSR } from '../registers';
import { flushTlbAll } from './control-registers';
import { gp, u32, type CpuContext } from './core';

/** Registers as a pair of 32-bit halves (RDMSR/RDPKRU/CPUID results). */
export interface RegisterPair {
  readonly eax: number;
  readonly edx: number;
}

/** Whether this CPU implements MSR `ecx`: EFER always, IA32_PKRS only with CPUID PKS. */
function msrImplemented(ctx: CpuContext, ecx: number): boolean {
  return ecx === MSR.IA32_EFER || (ecx === MSR.IA32_PKRS && ctx.features.pks);
}

/**
 * RDMSR (SDM vol. 2) after the CPL check: #GP for an MSR the CPU does not implement, which includes
 * IA32_PKRS without CPUID PKS (QEMU ignores both; the model follows the SDM). CR4.PKS and CR4.PKE
 * make no difference to reading IA32_PKRS.
 */
export function rdmsr(ctx: CpuContext, ecx: number): RegisterPair {
  if (!msrImplemented(ctx, ecx)) throw gp(`RDMSR of unimplemented MSR 0x${Number(ecx).toString(16)}`);
  if (ecx === MSR.IA32_PKRS) {
    ctx.count(MachineEvent.RightsRead);
    return { eax: ctx.regs.pkrs >>> 0, edx: 0 };
  }
  return { eax: ctx.regs.efer >>> 0, edx: 0 };
}

/**
 * WRMSR (SDM vol. 2) after the CPL check: #GP for an unimplemented MSR, for IA32_PKRS with any of
 * bits 63:32 set (EDX != 0, SDM 2.1 table 2-2), and for reserved EFER bits or an LME change while
 * paging. Writing IA32_PKRS flushes nothing (SDM 4.10.2.2).
 */
export function wrmsr(ctx: CpuContext, ecx: number, eax: number, edx: number): void {
  const regs = ctx.regs;
  u32(eax, 'EAX');
  u32(edx, 'EDX');
  if (!msrImplemented(ctx, ecx)) throw gp(`WRMSR to unimplemented MSR 0x${Number(ecx).toString(16)}`);
  if (ecx === MSR.IA32_PKRS) {
    if (edx !== 0) throw gp('WRMSR IA32_PKRS with bits 63:32 set');
    regs.pkrs = eax | 0;
    ctx.rightsChanged();
    ctx.count(MachineEvent.RightsWrite);
    return;
  }
  // IA32_EFER: reserved bits #GP; LME cannot change while paging is on; LMA is read-only.
  if (edx !== 0 || (eax & ~EFER_DEFINED) !== 0) throw gp('WRMSR IA32_EFER sets reserved bits');
  if (((eax ^ regs.efer) & EFER.LME) !== 0) throw gp('WRMSR IA32_EFER changes LME with paging on');
  const next = (eax & ~EFER.LMA) | (regs.efer & EFER.LMA);
  const nxeChanged = ((next ^ regs.efer) & EFER.NXE) !== 0;
  regs.efer = next;
  ctx.stateChanged();
  // XD turns from a reserved bit into a permission with NXE: no cached entry may straddle that.
  if (nxeChanged) flushTlbAll(ctx);
}
