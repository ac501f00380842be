/**
 * Control registers (Bochs crregs.cc): MOV to CR0/CR3/CR4, INVLPG and the TLB flushes they imply
 * (SDM vol. 3, 2.5 and 4.10.4.1), and the two words the machine's access path derives from them:
 * the mode word of the access check and the walk-control word of the page walk.
 */
import { MachineEvent } from '@pkeysim/core';
import { invalidArgument } from '@pkeysim/machine-kit';
import { PAGE_SIZE, TWO_32 } from '../address';
import { CONTROL_PGE } from '../codec';
import { reservedHighMask } from '../entry';
import { CR0, CR0_DEFINED, CR4, CR4_ALWAYS_DEFINED, EFER } from '../registers';
import { M_AC, M_NXE, M_PKE, M_PKS, M_SMAP, M_SMEP, M_USER, M_WP } from '../translation-flags';
import { gp, requireCpl0, type CpuContext, type CpuRegisters } from './core';

/** Physical address of the root table in CR3 (bits 51:12; the low 12 bits are PCID or PWT/PCD). */
export function cr3Root(cr3: number): number {
  return cr3 - (cr3 % PAGE_SIZE);
}

/** The mode word of translation-flags.ts: the CPU state the access check depends on. */
export function modeWordOf(regs: CpuRegisters): number {
  const cr4 = regs.cr4;
  return (
    (regs.cpl === 3 ? M_USER : 0) |
    ((regs.cr0 & CR0.WP) !== 0 ? M_WP : 0) |
    ((cr4 & CR4.PKE) !== 0 ? M_PKE : 0) |
    ((cr4 & CR4.PKS) !== 0 ? M_PKS : 0) |
    ((cr4 & CR4.SMEP) !== 0 ? M_SMEP : 0) |
    ((cr4 & CR4.SMAP) !== 0 ? M_SMAP : 0) |
    (regs.eflagsAc !== 0 ? M_AC : 0) |
    ((regs.efer & EFER.NXE) !== 0 ? M_NXE : 0)
  );
}

/** The walk-control word (codec.ts): reserved high-word bits for MAXPHYADDR and EFER.NXE, and CR4.PGE. */
export function walkControlOf(regs: CpuRegisters, maxPhysAddr: number): number {
  return reservedHighMask(maxPhysAddr, (regs.efer & EFER.NXE) !== 0) | ((regs.cr4 & CR4.PGE) !== 0 ? CONTROL_PGE : 0);
}

/** Invalidate every TLB entry, global ones too (what a CR4.PGE toggle does). */
export function flushTlbAll(ctx: CpuContext): void {
  ctx.count(MachineEvent.TlbFlushAll);
  ctx.tlb.flushAll();
}

/** Invalidate the non-global entries (a CR3 load without PCIDs). */
function flushTlbNonGlobal(ctx: CpuContext): void {
  ctx.count(MachineEvent.TlbFlushAll);
  ctx.tlb.flushNonGlobal();
}

/** CR4 bits this CPU implements: the rest are reserved and setting them is #GP (SDM 2.5). */
function cr4Defined(ctx: CpuContext): number {
  const f = ctx.features;
  return CR4_ALWAYS_DEFINED | (f.pku ? CR4.PKE : 0) | (f.pks ? CR4.PKS : 0) | (f.la57 ? CR4.LA57 : 0);
}

/**
 * MOV to CR4 (SDM vol. 2, MOV-Move to/from Control Registers; vol. 3, 2.5, 4.10.4.1): #GP at CPL 3;
 * #GP for a reserved bit, which includes PKE/PKS/LA57 the CPU does not enumerate (QEMU hangs
 * instead; the model follows the SDM); #GP for changing LA57 or clearing PAE in IA-32e mode, or
 * setting PCIDE with CR3[11:0] != 0. Toggling PGE, or changing PCIDE, flushes the whole TLB.
 */
export function movToCr4(ctx: CpuContext, value: number): void {
  const regs = ctx.regs;
  requireCpl0(regs, 'MOV to CR4');
  if (!Number.isInteger(value) || value < 0 || value >= TWO_32 || (value & ~cr4Defined(ctx)) !== 0) {
    throw gp(`MOV to CR4 sets reserved bits (value ${String(value)})`);
  }
  const changed = regs.cr4 ^ value;
  const longMode = (regs.efer & EFER.LMA) !== 0;
  if (longMode && (changed & CR4.LA57) !== 0) throw gp('MOV to CR4 changes LA57 in IA-32e mode');
  if (longMode && (value & CR4.PAE) === 0) throw gp('MOV to CR4 clears PAE in IA-32e mode');
  if ((changed & value & CR4.PCIDE) !== 0 && (regs.cr3 & 0xfff) !== 0)
    throw gp('MOV to CR4 sets PCIDE with CR3[11:0] != 0');
  regs.cr4 = value | 0;
  ctx.stateChanged();
  if ((changed & (CR4.PGE | CR4.PCIDE | CR4.LA57)) !== 0) flushTlbAll(ctx);
}

/**
 * MOV to CR0: #GP at CPL 3, for reserved bits, and for clearing PG or PE in IA-32e mode (the model
 * stays in 64-bit mode) or setting NW without CD (SDM vol. 2, MOV CR). CR0.WP changes flush nothing:
 * the TLB caches no rights.
 */
export function movToCr0(ctx: CpuContext, value: number): void {
  requireCpl0(ctx.regs, 'MOV to CR0');
  if (!Number.isInteger(value) || value < 0 || value >= TWO_32 || (value & ~CR0_DEFINED) !== 0) {
    throw gp(`MOV to CR0 sets reserved bits (value ${String(value)})`);
  }
  if ((value & (CR0.PG | CR0.PE)) !== (CR0.PG | CR0.PE)) throw gp('MOV to CR0 clears PG or PE in IA-32e mode');
  if ((value & CR0.NW) !== 0 && (value & CR0.CD) === 0) throw gp('MOV to CR0 sets NW without CD');
  ctx.regs.cr0 = value | 0;
  ctx.stateChanged();
}

/** MOV to CR3: #GP at CPL 3 or for bits at or above MAXPHYADDR; flushes non-global entries (SDM 4.10.4.1). */
export function movToCr3(ctx: CpuContext, value: number): void {
  requireCpl0(ctx.regs, 'MOV to CR3');
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** ctx.maxPhysAddr) {
    throw gp(`MOV to CR3 with bits at or above MAXPHYADDR ${ctx.maxPhysAddr} (value ${String(value)})`);
  }
  ctx.regs.cr3 = value;
  ctx.loadRoot(cr3Root(value));
  flushTlbNonGlobal(ctx);
}

/** An INVLPG operand the model can hold: an integer below 2^53 in magnitude. */
function checkInvlpgAddress(address: number): void {
  if (typeof address !== 'number' || !Number.isInteger(address) || Math.abs(address) >= 2 ** 53)
    throw invalidArgument(`INVLPG address ${String(address)} must be an integer with |address| < 2^53`);
}

/** INVLPG (CPL 0): invalidate the page's translations of every size (SDM 4.10.4.1). */
export function invlpg(ctx: CpuContext, address: number): void {
  checkInvlpgAddress(address);
  requireCpl0(ctx.regs, 'INVLPG');
  ctx.count(MachineEvent.TlbFlushPage);
  ctx.tlb.invalidatePage(Math.floor(address / PAGE_SIZE));
}

/**
 * One INVLPG per address of `addresses[0..count)`, as a kernel's flush loop over a list of pages
 * issues them (Linux flush_tlb_kernel_range below the single-page ceiling): the same checks, counts
 * and invalidations as that many {@link invlpg}s, with the TLB found once. Nothing is invalidated
 * when an operand is bad or the CPU is at CPL 3.
 */
export function invlpgEach(ctx: CpuContext, addresses: ArrayLike<number>, count: number): void {
  for (let i = 0; i < count; i++) checkInvlpgAddress(addresses[i]);
  requireCpl0(ctx.regs, 'INVLPG');
  const tlb = ctx.tlb;
  for (let i = 0; i < count; i++) {
    ctx.count(MachineEvent.TlbFlushPage);
    tlb.invalidatePage(Math.floor(addresses[i] / PAGE_SIZE));
  }
}
