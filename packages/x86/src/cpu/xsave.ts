/**
 * XSAVE-managed state (Bochs xsave.cc) and PKRU, its component 9: WRPKRU/RDPKRU, XSETBV, XSAVE and
 * XRSTOR as far as PKRU goes (SDM vol. 1, 13; vol. 2 for each instruction). No instruction here
 * flushes the TLB: it caches keys, never rights (SDM 4.10.2.2).
 */
import { MachineEvent } from '@pkeysim/core';
import { CR4, XCR0 } from '../registers';
import { gp, requireCpl0, u32, ud, type CpuContext } from './core';
import type { RegisterPair } from './msr';

/** The XSAVE area as far as the model keeps it: the header's XSTATE_BV and component 9 (PKRU). */
export interface XsaveArea {
  readonly xstateBv: number;
  readonly pkru: number;
}

/**
 * WRPKRU (SDM vol. 2, WRPKRU): #UD when CR4.PKE=0, checked first; then #GP(0) when ECX != 0 or
 * EDX != 0. Works at any CPL. No TLB invalidation (SDM 4.10.2.2).
 */
export function wrpkru(ctx: CpuContext, eax: number, ecx: number, edx: number): void {
  if ((ctx.regs.cr4 & CR4.PKE) === 0) throw ud('WRPKRU with CR4.PKE=0');
  u32(eax, 'EAX');
  if (ecx !== 0 || edx !== 0) throw gp('WRPKRU with ECX or EDX nonzero');
  ctx.regs.pkru = eax | 0;
  ctx.rightsChanged();
  ctx.count(MachineEvent.RightsWrite);
}

/** RDPKRU (SDM vol. 2): #UD when CR4.PKE=0, then #GP(0) when ECX != 0; EAX = PKRU, EDX = 0. */
export function rdpkru(ctx: CpuContext, ecx: number): RegisterPair {
  if ((ctx.regs.cr4 & CR4.PKE) === 0) throw ud('RDPKRU with CR4.PKE=0');
  if (ecx !== 0) throw gp('RDPKRU with ECX nonzero');
  ctx.count(MachineEvent.RightsRead);
  return { eax: ctx.regs.pkru >>> 0, edx: 0 };
}

/**
 * XSETBV (SDM vol. 2): #UD without CR4.OSXSAVE; #GP at CPL 3, for ECX != 0, for bit 0 clear, for a
 * component the CPU does not support (PKRU, bit 9, needs CPUID PKU).
 */
export function xsetbv(ctx: CpuContext, ecx: number, eax: number, edx: number): void {
  const regs = ctx.regs;
  if ((regs.cr4 & CR4.OSXSAVE) === 0) throw ud('XSETBV with CR4.OSXSAVE=0');
  requireCpl0(regs, 'XSETBV');
  u32(eax, 'EAX');
  const supported = XCR0.X87 | XCR0.SSE | (ctx.features.pku ? XCR0.PKRU : 0);
  if (ecx !== 0 || edx !== 0 || (eax & ~supported) !== 0 || (eax & XCR0.X87) === 0)
    throw gp('XSETBV with an invalid XCR0 value');
  regs.xcr0 = eax | 0;
}

/**
 * XSAVE of the components in XCR0 & `mask` (SDM vol. 1, 13.7): for PKRU (component 9) XSTATE_BV[9]
 * records whether PKRU is in its init state (0) (XINUSE, SDM 13.6). #UD without CR4.OSXSAVE.
 */
export function xsave(ctx: CpuContext, mask: number): XsaveArea {
  const regs = ctx.regs;
  if ((regs.cr4 & CR4.OSXSAVE) === 0) throw ud('XSAVE with CR4.OSXSAVE=0');
  const savesPkru = (regs.xcr0 & mask & XCR0.PKRU) !== 0;
  return Object.freeze({
    xstateBv: savesPkru && regs.pkru !== 0 ? XCR0.PKRU : 0,
    pkru: savesPkru ? regs.pkru >>> 0 : 0,
  });
}

/**
 * XRSTOR of the components in XCR0 & `mask` (SDM vol. 1, 13.8): PKRU gets the area's value when
 * XSTATE_BV[9]=1 and its init value 0 otherwise. #UD without CR4.OSXSAVE. Flushes nothing.
 */
export function xrstor(ctx: CpuContext, area: XsaveArea, mask: number): void {
  const regs = ctx.regs;
  if ((regs.cr4 & CR4.OSXSAVE) === 0) throw ud('XRSTOR with CR4.OSXSAVE=0');
  u32(area.pkru, 'XSAVE area PKRU');
  const rfbm = regs.xcr0 & mask;
  if ((area.xstateBv & ~regs.xcr0) !== 0) throw gp('XRSTOR with XSTATE_BV bits not enabled in XCR0');
  if ((rfbm & XCR0.PKRU) === 0) return;
  regs.pkru = (area.xstateBv & XCR0.PKRU) !== 0 ? area.pkru | 0 : 0;
  ctx.rightsChanged();
  ctx.count(MachineEvent.RightsWrite);
}
