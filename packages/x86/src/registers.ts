/**
 * Architectural register bits and MSR numbers used by the model (Intel SDM vol. 3, 2.5 and 4.1;
 * vol. 2 CPUID leaf 7; Linux arch/x86/include/asm/msr-index.h and uapi processor-flags.h).
 */

/** CR0 bits (SDM 2.5). */
export const CR0 = {
  PE: 1 << 0,
  MP: 1 << 1,
  EM: 1 << 2,
  TS: 1 << 3,
  ET: 1 << 4,
  NE: 1 << 5,
  WP: 1 << 16,
  AM: 1 << 18,
  NW: 1 << 29,
  CD: 1 << 30,
  PG: 0x80000000,
} as const;
/** Bits MOV to CR0 accepts; any other bit is reserved (#GP). */
export const CR0_DEFINED = 0xe005003f;

/** CR4 bits (SDM 2.5; Linux X86_CR4_*). */
export const CR4 = {
  VME: 1 << 0,
  PVI: 1 << 1,
  TSD: 1 << 2,
  DE: 1 << 3,
  PSE: 1 << 4,
  PAE: 1 << 5,
  MCE: 1 << 6,
  PGE: 1 << 7,
  PCE: 1 << 8,
  OSFXSR: 1 << 9,
  OSXMMEXCPT: 1 << 10,
  UMIP: 1 << 11,
  LA57: 1 << 12,
  FSGSBASE: 1 << 16,
  PCIDE: 1 << 17,
  OSXSAVE: 1 << 18,
  SMEP: 1 << 20,
  SMAP: 1 << 21,
  PKE: 1 << 22,
  PKS: 1 << 24,
} as const;
/** CR4 bits a CPU of this model implements whatever its CPUID (feature bits are added per CPU). */
export const CR4_ALWAYS_DEFINED =
  CR4.VME |
  CR4.PVI |
  CR4.TSD |
  CR4.DE |
  CR4.PSE |
  CR4.PAE |
  CR4.MCE |
  CR4.PGE |
  CR4.PCE |
  CR4.OSFXSR |
  CR4.OSXMMEXCPT |
  CR4.UMIP |
  CR4.FSGSBASE |
  CR4.PCIDE |
  CR4.OSXSAVE |
  CR4.SMEP |
  CR4.SMAP;

/** IA32_EFER bits (SDM 2.2.1). LMA is set by the processor, not by software. */
export const EFER = {
  SCE: 1 << 0,
  LME: 1 << 8,
  LMA: 1 << 10,
  NXE: 1 << 11,
} as const;
/** Every IA32_EFER bit the model defines. */
export const EFER_DEFINED = EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE;

/** MSR numbers (Linux msr-index.h). */
export const MSR = {
  IA32_EFER: 0xc0000080,
  /** IA32_PKRS: the supervisor protection-key rights register (SDM 2.1, table 2-2). */
  IA32_PKRS: 0x6e1,
} as const;

/** CPUID.(EAX=7,ECX=0) bits (SDM vol. 2, CPUID). */
export const CPUID7_EBX = { SMEP: 1 << 7, SMAP: 1 << 20 } as const;
/** CPUID.(EAX=7,ECX=0):ECX bits (SDM vol. 2, CPUID). */
export const CPUID7_ECX = { PKU: 1 << 3, OSPKE: 1 << 4, LA57: 1 << 16, PKS: 0x80000000 } as const;
/** CPUID.1:ECX bits. */
export const CPUID1_ECX = { XSAVE: 1 << 26, OSXSAVE: 1 << 27 } as const;

/** XCR0 state components (SDM vol. 1, 13.1): PKRU is component 9. */
export const XCR0 = { X87: 1 << 0, SSE: 1 << 1, PKRU: 1 << 9 } as const;

/** EFLAGS.AC (bit 18): with CR4.SMAP, AC=1 lets supervisor code touch user pages (SDM 4.6.1). */
export const EFLAGS_AC = 1 << 18;

/** What CPUID enumerates: the per-machine configuration of one CPU model. */
export interface X86CpuFeatures {
  /** CPUID.7.0:ECX[3]: user protection keys (PKRU, CR4.PKE). */
  readonly pku: boolean;
  /** CPUID.7.0:ECX[31]: supervisor protection keys (IA32_PKRS, CR4.PKS). */
  readonly pks: boolean;
  /** CPUID.7.0:ECX[16]: 5-level paging (CR4.LA57). */
  readonly la57: boolean;
}
