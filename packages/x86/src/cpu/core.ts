/**
 * What the CPU's instruction families share: its architectural registers, the context each family
 * works in (features, the machine's TLB, its counters) and the exceptions they raise. Each family
 * (control registers, MSRs, XSAVE and PKRU, CPUID) lives in its own file, as Bochs splits its CPU
 * (crregs.cc, msr.cc, xsave.cc, cpuid.cc); X86Cpu (../cpu.ts) holds the state and dispatches.
 */
import type { MachineEvent } from '@pkeysim/core';
import { invalidArgument, type Tlb } from '@pkeysim/machine-kit';
import { X86Exception } from '../exception';
import type { X86CpuFeatures } from '../registers';

/** The architectural registers of one logical processor, as int32 words where they are 32 bits. */
export class CpuRegisters {
  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  efer = 0;
  xcr0 = 0;
  cpl: 0 | 3 = 0;
  /** EFLAGS.AC, as the EFLAGS bit or 0. */
  eflagsAc = 0;
  /** PKRU and IA32_PKRS as int32. */
  pkru = 0;
  pkrs = 0;
}

/** What an instruction family reads and tells: the registers and the CPU's machine. */
export interface CpuContext {
  readonly regs: CpuRegisters;
  readonly features: X86CpuFeatures;
  readonly maxPhysAddr: number;
  /** The CPU's TLB (the machine kit's). */
  readonly tlb: Tlb;
  /** CPL, CR0, CR4, EFER or EFLAGS.AC changed: recompute the mode and walk-control words. */
  stateChanged(): void;
  /** PKRU or IA32_PKRS changed: the access check reads the new value from now on (O(1), no flush). */
  rightsChanged(): void;
  /** MOV to CR3: the CPU walks from `root` now. */
  loadRoot(root: number): void;
  count(event: MachineEvent): void;
}

/** #GP(0) with a message. */
export const gp = (message: string): X86Exception => new X86Exception('#GP', 0, message);
/** #UD with a message. */
export const ud = (message: string): X86Exception => new X86Exception('#UD', 0, message);

/** #GP(0) at CPL 3: the privileged instructions' first check. */
export function requireCpl0(regs: CpuRegisters, what: string): void {
  if (regs.cpl !== 0) throw gp(`${what} at CPL 3`);
}

/** An unsigned 32-bit register operand, else DomainError('invalid'). */
export function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw invalidArgument(`${what} ${String(value)} must be an unsigned 32-bit integer`);
  }
  return value;
}
