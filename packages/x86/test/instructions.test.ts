import { describe, expect, it } from 'vitest';
import { CPUID7_ECX, CR4, EFER, isX86Exception, MSR, X86Machine, XCR0, type X86Cpu } from '../src/index';

function cpuWith(features: { pku?: boolean; pks?: boolean } = {}): X86Cpu {
  return new X86Machine({ features }).cpu(0);
}

function vectorOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    if (isX86Exception(error)) return error.vector;
    throw error;
  }
}

describe('WRPKRU / RDPKRU', () => {
  it('WRPKRU is #UD when CR4.PKE=0, checked before the #GP conditions', () => {
    const cpu = cpuWith();
    expect(vectorOf(() => cpu.wrpkru(1, 1, 1))).toBe('#UD');
  });
  it('WRPKRU is #GP(0) when ECX or EDX is nonzero, and the faulting WRPKRU changes no register', () => {
    const cpu = cpuWith();
    cpu.movToCr4(cpu.cr4 | CR4.PKE);
    cpu.wrpkru(0x1234);
    expect(vectorOf(() => cpu.wrpkru(5, 1, 0))).toBe('#GP');
    expect(vectorOf(() => cpu.wrpkru(5, 0, 1))).toBe('#GP');
    expect(cpu.pkru).toBe(0x1234);
  });
  it('WRPKRU and RDPKRU work at CPL3; RDPKRU returns EDX=0', () => {
    const cpu = cpuWith();
    cpu.movToCr4(cpu.cr4 | CR4.PKE);
    cpu.setCpl(3);
    cpu.wrpkru(0xdeadbeef);
    expect(cpu.rdpkru(0)).toEqual({ eax: 0xdeadbeef, edx: 0 });
  });
  it('RDPKRU is #UD when CR4.PKE=0 and #GP when ECX != 0', () => {
    const cpu = cpuWith();
    expect(vectorOf(() => cpu.rdpkru(1))).toBe('#UD');
    cpu.movToCr4(cpu.cr4 | CR4.PKE);
    expect(vectorOf(() => cpu.rdpkru(1))).toBe('#GP');
  });
});

describe('IA32_PKRS and the MSR file', () => {
  it('RDMSR/WRMSR of IA32_PKRS are #GP at CPL3', () => {
    const cpu = cpuWith();
    cpu.setCpl(3);
    expect(vectorOf(() => cpu.rdmsr(MSR.IA32_PKRS))).toBe('#GP');
    expect(vectorOf(() => cpu.wrmsr(MSR.IA32_PKRS, 1, 0))).toBe('#GP');
  });
  it('WRMSR IA32_PKRS with bits 63:32 set is #GP and leaves PKRS unchanged', () => {
    const cpu = cpuWith();
    cpu.wrmsr(MSR.IA32_PKRS, 0x55555554, 0);
    expect(vectorOf(() => cpu.wrmsr(MSR.IA32_PKRS, 0, 1))).toBe('#GP');
    expect(cpu.rdmsr(MSR.IA32_PKRS)).toEqual({ eax: 0x55555554, edx: 0 });
  });
  it('CR4.PKS and CR4.PKE make no difference to RDMSR/WRMSR of IA32_PKRS at CPL0', () => {
    const cpu = cpuWith();
    cpu.wrmsr(MSR.IA32_PKRS, 7, 0);
    cpu.movToCr4(cpu.cr4 | CR4.PKS | CR4.PKE);
    cpu.wrmsr(MSR.IA32_PKRS, 9, 0);
    expect(cpu.rdmsr(MSR.IA32_PKRS).eax).toBe(9);
  });
  it('an unknown MSR is #GP, and so is IA32_PKRS on a CPU without PKS (the SDM, not QEMU)', () => {
    expect(vectorOf(() => cpuWith().rdmsr(0x1234))).toBe('#GP');
    expect(vectorOf(() => cpuWith().wrmsr(0x1234, 0, 0))).toBe('#GP');
    expect(vectorOf(() => cpuWith({ pks: false }).rdmsr(MSR.IA32_PKRS))).toBe('#GP');
    expect(vectorOf(() => cpuWith({ pks: false }).wrmsr(MSR.IA32_PKRS, 0, 0))).toBe('#GP');
  });
  it('EFER is readable and NXE writable through WRMSR; reserved EFER bits are #GP', () => {
    const cpu = cpuWith();
    const efer = cpu.rdmsr(MSR.IA32_EFER).eax;
    expect(efer & EFER.LMA).toBe(EFER.LMA);
    expect(vectorOf(() => cpu.wrmsr(MSR.IA32_EFER, efer | (1 << 20), 0))).toBe('#GP');
    cpu.wrmsr(MSR.IA32_EFER, efer & ~EFER.NXE, 0);
    expect(cpu.efer & EFER.NXE).toBe(0);
  });
});

describe('MOV to CR4 and CPUID', () => {
  it('MOV to CR4 is #GP at CPL3', () => {
    const cpu = cpuWith();
    cpu.setCpl(3);
    expect(vectorOf(() => cpu.movToCr4(cpu.cr4 | CR4.PKE))).toBe('#GP');
  });
  it('setting CR4.PKE or CR4.PKS the CPU does not enumerate is #GP (reserved bit), and changes nothing', () => {
    const noPku = cpuWith({ pku: false });
    const before = noPku.cr4;
    expect(vectorOf(() => noPku.movToCr4(noPku.cr4 | CR4.PKE))).toBe('#GP');
    expect(noPku.cr4).toBe(before);
    const noPks = cpuWith({ pks: false });
    expect(vectorOf(() => noPks.movToCr4(noPks.cr4 | CR4.PKS))).toBe('#GP');
  });
  it('setting a reserved CR4 bit or changing LA57 in IA-32e mode is #GP', () => {
    const cpu = cpuWith();
    expect(vectorOf(() => cpu.movToCr4(cpu.cr4 | (1 << 25)))).toBe('#GP');
    expect(vectorOf(() => cpu.movToCr4(cpu.cr4 | CR4.LA57))).toBe('#GP');
  });
  it('CPUID.7.0:ECX enumerates PKU, PKS and LA57 as configured, and OSPKE mirrors CR4.PKE', () => {
    const cpu = new X86Machine({ pagingLevels: 5, features: { pks: false } }).cpu(0);
    let ecx = cpu.cpuid(7, 0).ecx;
    expect(ecx & CPUID7_ECX.PKU).not.toBe(0);
    expect(ecx & CPUID7_ECX.PKS).toBe(0);
    expect(ecx & CPUID7_ECX.LA57).not.toBe(0);
    expect(ecx & CPUID7_ECX.OSPKE).toBe(0);
    cpu.movToCr4(cpu.cr4 | CR4.PKE);
    ecx = cpu.cpuid(7, 0).ecx;
    expect(ecx & CPUID7_ECX.OSPKE).not.toBe(0);
  });
});

describe('XSAVE of PKRU (state component 9)', () => {
  it('XSAVE/XRSTOR save and restore PKRU when XCR0 bit 9 is set', () => {
    const cpu = cpuWith();
    cpu.movToCr4(cpu.cr4 | CR4.PKE);
    cpu.wrpkru(0x55555554);
    const area = cpu.xsave();
    expect(area).toEqual({ xstateBv: XCR0.PKRU, pkru: 0x55555554 });
    cpu.wrpkru(0);
    cpu.xrstor(area);
    expect(cpu.pkru).toBe(0x55555554);
  });
  it('XRSTOR with XSTATE_BV[9]=0 puts PKRU in its init state 0', () => {
    const cpu = cpuWith();
    cpu.movToCr4(cpu.cr4 | CR4.PKE);
    cpu.wrpkru(3);
    cpu.xrstor({ xstateBv: 0, pkru: 0 });
    expect(cpu.pkru).toBe(0);
  });
  it('XCR0 bit 9 clear: XSAVE does not save PKRU and XRSTOR does not touch it', () => {
    const cpu = cpuWith();
    cpu.movToCr4(cpu.cr4 | CR4.PKE);
    cpu.xsetbv(0, XCR0.X87 | XCR0.SSE, 0);
    cpu.wrpkru(12);
    expect(cpu.xsave()).toEqual({ xstateBv: 0, pkru: 0 });
    cpu.xrstor({ xstateBv: 0, pkru: 0 });
    expect(cpu.pkru).toBe(12);
  });
  it('XSETBV refuses XCR0 bit 9 on a CPU without PKU (#GP)', () => {
    const cpu = cpuWith({ pku: false });
    expect(vectorOf(() => cpu.xsetbv(0, XCR0.X87 | XCR0.PKRU, 0))).toBe('#GP');
  });
});
