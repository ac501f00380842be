/**
 * Execute a vector FOR REAL on a fresh machine: page tables written into simulated memory by the
 * page-table writer, registers set through WRMSR, MOV to CR0/CR4 and WRPKRU, the access issued on the
 * CPU through its TLB, instructions run and their exceptions caught.
 */
import { AccessKind, PageSize } from '@pkeysim/core';
// The package's root entry, not its files: the `vectors` entry then shares the machine (and its plugin
// registration) with `@pkeysim/x86` instead of bundling a second copy.
import { CR0, CR4, EFER, FAULT_PF, isX86Exception, MSR, type X86Cpu, X86Machine } from '@pkeysim/x86';
import { isInsnVector, type X86AccessVector, type X86InsnVector, type X86Vector } from './schema';

/** access: {id, fault, error_code}; insn: {id, exception, pkru, pkrs} plus eax, edx for reads. */
export type VectorOutput = Record<string, unknown>;

const SIZES = { '4K': PageSize.Size4K, '2M': PageSize.Size2M, '1G': PageSize.Size1G } as const;
/** Offset of the accessed byte inside the page: inside the first 4 KiB only for 4K pages. */
const OFFSETS = { '4K': 0xabc, '2M': 0x156abc, '1G': 0x23456abc } as const;
const KINDS = { read: AccessKind.Read, write: AccessKind.Write, fetch: AccessKind.Fetch } as const;

/**
 * The page's linear address: user-half for U/S=1 pages, kernel-half for U/S=0 (only the leaf's U/S
 * matters to the check). With 5-level paging the PML5 index is 3, so the fifth level is really used.
 */
function pageAddress(paging: 4 | 5, user: boolean): number {
  const base = 0x555540000000 + (paging === 5 ? 3 * 2 ** 48 : 0);
  return user ? base : -base;
}

function setWp(cpu: X86Cpu, wp: boolean): void {
  cpu.movToCr0((wp ? cpu.cr0 | CR0.WP : cpu.cr0 & ~CR0.WP) >>> 0);
}

function setCr4Bits(cpu: X86Cpu, bits: number, values: number): void {
  cpu.movToCr4(((cpu.cr4 & ~bits) | values) >>> 0);
}

function runAccess(v: X86AccessVector): VectorOutput {
  const size = SIZES[v.page.size];
  const machine = new X86Machine({ cpus: 1, pagingLevels: v.paging, ramBytes: 4 * 2 ** 30, persistentBytes: 0 });
  const cpu = machine.cpu(0);
  const space = machine.createAddressSpace();
  const va = pageAddress(v.paging, v.page.user === 1);
  const pa = machine.allocatePhysical(size, { align: size });
  machine.map(space, va, pa, size, {
    user: v.page.user === 1,
    writable: v.page.write === 1,
    executable: v.page.nx === 0,
    domain: v.page.pkey,
    pageSize: size,
  });
  machine.activate(0, space); // MOV to CR3
  // EFER.NXE=1 for every vector (vectors.md), through WRMSR.
  cpu.wrmsr(MSR.IA32_EFER, cpu.rdmsr(MSR.IA32_EFER).eax | EFER.NXE, 0);
  setWp(cpu, v.cr0_wp === 1);
  // PKRU can only be written with CR4.PKE=1: set PKE, WRPKRU, then write the final CR4.
  setCr4Bits(cpu, CR4.PKE, CR4.PKE);
  cpu.wrpkru(v.pkru, 0, 0);
  cpu.wrmsr(MSR.IA32_PKRS, v.pkrs, 0);
  setCr4Bits(
    cpu,
    CR4.PKE | CR4.PKS | CR4.SMEP | CR4.SMAP,
    (v.cr4_pke ? CR4.PKE : 0) | (v.cr4_pks ? CR4.PKS : 0) | (v.cr4_smep ? CR4.SMEP : 0) | (v.cr4_smap ? CR4.SMAP : 0),
  );
  cpu.setEflagsAc(v.eflags_ac === 1);
  cpu.setCpl(v.cpl);
  const code = cpu.access(va + OFFSETS[v.page.size], KINDS[v.access]);
  const pageFault = (code & FAULT_PF) !== 0;
  return { id: v.id, fault: code !== 0, error_code: pageFault ? code & 0xffff : null };
}

function runInsn(v: X86InsnVector): VectorOutput {
  const machine = new X86Machine({ cpus: 1, features: { pku: v.cpu.pku === 1, pks: v.cpu.pks === 1 } });
  const cpu = machine.cpu(0);
  // Registers that do not exist on this CPU stay at their reset value 0.
  if (v.cpu.pku === 1) {
    setCr4Bits(cpu, CR4.PKE, CR4.PKE);
    cpu.wrpkru(v.pkru, 0, 0);
  }
  if (v.cpu.pks === 1) cpu.wrmsr(MSR.IA32_PKRS, v.pkrs, 0);
  setCr4Bits(cpu, CR4.PKE | CR4.PKS, (v.cr4_pke ? CR4.PKE : 0) | (v.cr4_pks ? CR4.PKS : 0));
  cpu.setCpl(v.cpl);
  let exception: string | null = null;
  let read: { eax: number; edx: number } | undefined;
  try {
    switch (v.insn) {
      case 'wrpkru':
        cpu.wrpkru(v.eax, v.ecx, v.edx);
        break;
      case 'rdpkru':
        read = cpu.rdpkru(v.ecx);
        break;
      case 'wrmsr':
        cpu.wrmsr(v.ecx, v.eax, v.edx);
        break;
      case 'rdmsr':
        read = cpu.rdmsr(v.ecx);
        break;
      case 'mov_cr4':
        cpu.movToCr4((cpu.cr4 | v.eax) >>> 0);
        break;
    }
  } catch (error) {
    if (!isX86Exception(error)) throw error;
    exception = error.vector;
  }
  const out: VectorOutput = { id: v.id, exception, pkru: cpu.pkru, pkrs: cpu.pkrs };
  if (read) {
    out.eax = read.eax;
    out.edx = read.edx;
  }
  return out;
}

/** Build the vector's machine state and execute it. */
export function runVector(vector: X86Vector): VectorOutput {
  return isInsnVector(vector) ? runInsn(vector) : runAccess(vector);
}

/** Mismatch descriptions between a vector's expected `result` and an output; [] means pass. */
export function compareVector(vector: X86Vector, output: VectorOutput): string[] {
  const expected = vector.result as Record<string, unknown> | undefined;
  if (expected === undefined) return [`${vector.id}: the vector has no "result" to compare with`];
  const problems: string[] = [];
  if (output.id !== vector.id)
    problems.push(`id: expected ${JSON.stringify(vector.id)}, got ${JSON.stringify(output.id)}`);
  const fields = isInsnVector(vector) ? ['exception', 'pkru', 'pkrs', 'eax', 'edx'] : ['fault', 'error_code'];
  for (const field of fields) {
    if (!(field in expected)) continue;
    if (expected[field] !== output[field]) {
      problems.push(`${field}: expected ${JSON.stringify(expected[field])}, got ${JSON.stringify(output[field])}`);
    }
  }
  return problems;
}
