/**
 * A POWER (Book3S-64, hash MMU) machine with storage keys, built on @pkeysim/machine-kit. Per CPU:
 * AMR, IAMR and UAMOR (64-bit, as u32 pairs) and MSR[PR] (Privilege.User = problem state).
 * The kernel is modelled in hypervisor state (PowerNV, MSR[HV]=1): its AMR writes are not masked by
 * AMOR, which is not modelled.
 */
import {
  AccessKind,
  DomainError,
  MachineEvent,
  Privilege,
  rightsState,
  type DomainSpace,
  type MachineConfig,
  type RightsState,
} from '@pkeysim/core';
import {
  checkInteger,
  invalidArgument,
  FAULT_ARCH_SHIFT,
  FAULT_KIND_MASK,
  FaultKind,
  formatAddress,
  type FaultReport,
  hex64,
  KitMachine,
  splitU64,
  type KitFaultRecord,
  TF_DOMAIN_SHIFT,
  TF_PRIV_EXEC,
  TF_PRIV_READ,
  TF_PRIV_WRITE,
  TF_USER_EXEC,
  TF_USER_READ,
  TF_USER_WRITE,
} from '@pkeysim/machine-kit';
import { PowerKeySpace, type KeyRegisters } from './domain-space';
import { PowerException } from './exception';
import { linuxDefaults, type PowerDefaults } from './keys';
import { powerPteCodec, type LinuxPageSize } from './pte';
import {
  AMR_RD,
  AMR_WR,
  DSISR_AMR,
  DSISR_ISSTORE,
  DSISR_NOHPTE,
  DSISR_PROTFAULT,
  IAMR_EX,
  SPR,
  SRR1_IAMR,
  SRR1_NOEXEC_GUARD,
  SRR1_NOPTE,
  SRR1_PROTFAULT,
  VECTOR_DSI,
  VECTOR_ISI,
  type PowerSpr,
} from './registers';

/** How to build a {@link PowerMachine}: CPUs, memory, TLB size, storage keys and Linux base page size. */
export interface PowerMachineOptions {
  readonly cpus?: number;
  readonly ramBytes?: number;
  readonly persistentBytes?: number;
  readonly tlbEntries?: number;
  /** Whether the CPUs have storage keys (device tree ibm,processor-storage-keys). Default true. */
  readonly storageKeys?: boolean;
  /** Linux base page size: 65536 (default, 32 keys) or 4096 (only 8 keys fit the PTE). */
  readonly linuxPageSize?: LinuxPageSize;
}

/** Fault-code bits above the FaultKind: the key check denied it (DSISR_AMR / SRR1_IAMR). */
const A_KEY = 1 << FAULT_ARCH_SHIFT;
/** The page is not executable at all (SRR1 N/G, not a PP protection fault). */
const A_NOEXEC = 2 << FAULT_ARCH_SHIFT;

export class PowerMachine extends KitMachine implements KeyRegisters {
  readonly storageKeys: boolean;
  readonly linuxPageSize: LinuxPageSize;
  /** The boot values Linux computes (default_amr, default_iamr, default_uamor). */
  readonly defaults: PowerDefaults;
  private readonly amrHi: Uint32Array;
  private readonly amrLo: Uint32Array;
  private readonly iamrHi: Uint32Array;
  private readonly iamrLo: Uint32Array;
  private readonly uamorHi: Uint32Array;
  private readonly uamorLo: Uint32Array;
  private readonly uamorSet: Uint8Array;
  private readonly space: PowerKeySpace;

  /** Build from a core MachineConfig; either `features` flag false means a CPU without storage keys. */
  static fromConfig(config: MachineConfig): PowerMachine {
    const options = config.options ?? {};
    const known = ['tlbEntries', 'linuxPageSize'];
    for (const key of Object.keys(options)) {
      if (!known.includes(key))
        throw new DomainError('invalid', `unknown power option "${key}" (known: ${known.join(', ')})`);
    }
    return new PowerMachine({
      cpus: config.cpus,
      tlbEntries: options.tlbEntries as number | undefined,
      linuxPageSize: options.linuxPageSize as LinuxPageSize | undefined,
      ramBytes: config.memory?.ramBytes,
      persistentBytes: config.memory?.persistentBytes,
      // One AMR serves both privileges: there is no way to have keys for one and not the other.
      storageKeys: (config.features?.userDomains ?? true) && (config.features?.supervisorDomains ?? true),
    });
  }

  constructor(options: PowerMachineOptions = {}) {
    const linuxPageSize = options.linuxPageSize ?? 65536;
    if (linuxPageSize !== 65536 && linuxPageSize !== 4096)
      throw new DomainError('invalid', `linuxPageSize ${String(linuxPageSize)} must be 65536 or 4096`);
    const codec = powerPteCodec(linuxPageSize);
    super({
      arch: 'power',
      cpus: options.cpus,
      codec,
      ramBytes: options.ramBytes,
      persistentBytes: options.persistentBytes,
      tlbEntries: options.tlbEntries,
      maxPhysAddr: 48,
      // arch/powerpc/mm/book3s64/radix_tlb.c: tlb_single_page_flush_ceiling = 33.
      flushCeiling: 33,
    });
    this.storageKeys = options.storageKeys ?? true;
    this.linuxPageSize = linuxPageSize;
    // CONFIG_PPC_4K_PAGES: num_pkey = min(8, pkeys_total) (pkey_early_init_devtree).
    this.defaults = linuxDefaults(codec.domainCount);
    const n = this.cpuCount;
    this.amrHi = new Uint32Array(n);
    this.amrLo = new Uint32Array(n);
    this.iamrHi = new Uint32Array(n);
    this.iamrLo = new Uint32Array(n);
    this.uamorHi = new Uint32Array(n);
    this.uamorLo = new Uint32Array(n);
    this.uamorSet = new Uint8Array(n);
    this.space = new PowerKeySpace(this, codec.domainCount, this.defaults);
  }

  /** The same space for both privileges: the AMR is shared. */
  domainSpace(governs: Privilege): DomainSpace | undefined {
    return governs === Privilege.User || governs === Privilege.Supervisor ? this.space : undefined;
  }

  /** Reset: AMR, IAMR and UAMOR are 0 (no key denies anything until the OS writes them). */
  protected resetArchitecture(): void {
    for (const register of [this.amrHi, this.amrLo, this.iamrHi, this.iamrLo, this.uamorHi, this.uamorLo])
      register.fill(0);
    this.uamorSet.fill(0);
  }

  // ---- SPR instructions -------------------------------------------------------------------------

  /**
   * mtspr. In problem state only the AMR (SPR 13) may be written, and only the bits UAMOR enables
   * change: AMR <- (AMR & ~UAMOR) | (RS & UAMOR) (Power ISA v3.1 Book III, "Authority Mask
   * Register"); IAMR and UAMOR are privileged (Program interrupt). Raises before changing anything.
   */
  mtspr(cpu: number, spr: PowerSpr, value: number | bigint): void {
    this.checkCpu(cpu);
    if (!(spr in SPR)) throw invalidArgument(`unknown SPR ${String(spr)} (known: ${Object.keys(SPR).join(', ')})`);
    const [hi, lo] = splitU64(value, spr);
    const problem = this.modes[cpu] === Privilege.User;
    if (problem && spr !== 'AMR')
      throw new PowerException('privileged', `mtspr ${spr} (SPR ${SPR[spr]}) in problem state`);
    if (spr === 'AMR') {
      const maskHi = problem ? this.uamorHi[cpu] : 0xffffffff;
      const maskLo = problem ? this.uamorLo[cpu] : 0xffffffff;
      this.amrHi[cpu] = ((this.amrHi[cpu] & ~maskHi) | (hi & maskHi)) >>> 0;
      this.amrLo[cpu] = ((this.amrLo[cpu] & ~maskLo) | (lo & maskLo)) >>> 0;
      this.count(cpu, MachineEvent.RightsWrite);
    } else if (spr === 'IAMR') {
      this.iamrHi[cpu] = hi;
      this.iamrLo[cpu] = lo;
      this.count(cpu, MachineEvent.RightsWrite);
    } else {
      this.uamorHi[cpu] = hi;
      this.uamorLo[cpu] = lo;
      this.uamorSet[cpu] = 1;
    }
  }

  /** mfspr: AMR in either state; IAMR and UAMOR privileged. */
  mfspr(cpu: number, spr: PowerSpr): bigint {
    this.checkCpu(cpu);
    if (!(spr in SPR)) throw invalidArgument(`unknown SPR ${String(spr)} (known: ${Object.keys(SPR).join(', ')})`);
    if (this.modes[cpu] === Privilege.User && spr !== 'AMR')
      throw new PowerException('privileged', `mfspr ${spr} (SPR ${SPR[spr]}) in problem state`);
    const words = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
    if (spr === 'AMR') {
      this.count(cpu, MachineEvent.RightsRead);
      return words(this.amrHi[cpu], this.amrLo[cpu]);
    }
    if (spr === 'IAMR') {
      this.count(cpu, MachineEvent.RightsRead);
      return words(this.iamrHi[cpu], this.iamrLo[cpu]);
    }
    return words(this.uamorHi[cpu], this.uamorLo[cpu]);
  }

  private privileged<T>(cpu: number, fn: () => T): T {
    const previous = this.modes[cpu];
    this.modes[cpu] = Privilege.Supervisor;
    try {
      return fn();
    } finally {
      this.modes[cpu] = previous;
    }
  }

  // ---- KeyRegisters (for the domain space) ------------------------------------------------------

  /** True when the CPUs have storage keys. */
  keysAvailable(cpu: number): boolean {
    this.checkCpu(cpu);
    return this.storageKeys;
  }

  /** True once UAMOR has been set on the CPU. */
  uamorInitialised(cpu: number): boolean {
    this.checkCpu(cpu);
    return this.uamorSet[cpu] === 1;
  }

  initUamor(cpu: number): void {
    this.privileged(cpu, () =>
      this.mtspr(cpu, 'UAMOR', (BigInt(this.defaults.uamor[0]) << 32n) | BigInt(this.defaults.uamor[1])),
    );
  }

  readKeyRegisters(cpu: number): RightsState {
    return this.privileged(cpu, () => {
      const amr = this.mfspr(cpu, 'AMR');
      const iamr = this.mfspr(cpu, 'IAMR');
      return rightsState(
        Number(amr >> 32n),
        Number(amr & 0xffffffffn),
        Number(iamr >> 32n),
        Number(iamr & 0xffffffffn),
      );
    });
  }

  writeKeyRegisters(cpu: number, amrHi: number, amrLo: number, iamrHi: number, iamrLo: number): void {
    this.checkCpu(cpu);
    // Every word first: the AMR must not change when the IAMR words are bad.
    for (const [name, word] of [
      ['AMR bits 63:32', amrHi],
      ['AMR bits 31:0', amrLo],
      ['IAMR bits 63:32', iamrHi],
      ['IAMR bits 31:0', iamrLo],
    ] as const)
      checkInteger(word, name, 0, 0xffffffff);
    this.privileged(cpu, () => {
      this.mtspr(cpu, 'AMR', (BigInt(amrHi) << 32n) | BigInt(amrLo));
      this.mtspr(cpu, 'IAMR', (BigInt(iamrHi) << 32n) | BigInt(iamrLo));
    });
  }

  // ---- the access check and its report ----------------------------------------------------------

  /**
   * PP protection first, then the key, both reported (QEMU ppc_hash64_xlate, ppc_hash64_amr_prot):
   * loads need the key's AMR load-disable clear, stores its store-disable clear, fetches its IAMR
   * execute-disable clear, in problem and privileged state alike.
   */
  protected override checkAccess(cpu: number, flags: number, kind: AccessKind): number {
    const mode = this.modes[cpu] as Privilege;
    const user = mode === Privilege.User;
    const need =
      kind === AccessKind.Read
        ? user
          ? TF_USER_READ
          : TF_PRIV_READ
        : kind === AccessKind.Write
          ? user
            ? TF_USER_WRITE
            : TF_PRIV_WRITE
          : user
            ? TF_USER_EXEC
            : TF_PRIV_EXEC;
    const ppDenied = (flags & need) === 0;
    let keyDenied = false;
    if (this.storageKeys) {
      const shift = 2 * (31 - ((flags >>> TF_DOMAIN_SHIFT) & 0xff));
      const high = shift >= 32;
      const s = high ? shift - 32 : shift;
      if (kind === AccessKind.Fetch) keyDenied = (((high ? this.iamrHi[cpu] : this.iamrLo[cpu]) >>> s) & IAMR_EX) !== 0;
      else
        keyDenied =
          (((high ? this.amrHi[cpu] : this.amrLo[cpu]) >>> s) & (kind === AccessKind.Write ? AMR_WR : AMR_RD)) !== 0;
    }
    if (!ppDenied && !keyDenied) return 0;
    const noExec = kind === AccessKind.Fetch && (flags & (TF_PRIV_EXEC | TF_USER_EXEC)) === 0;
    // A key fault is cause 'domain' only when the page protection allowed the access.
    return (ppDenied ? FaultKind.Permission : FaultKind.Domain) | (keyDenied ? A_KEY : 0) | (noExec ? A_NOEXEC : 0);
  }

  protected describeFault(record: KitFaultRecord): FaultReport {
    const kind = record.code & FAULT_KIND_MASK;
    const key = (record.code & A_KEY) !== 0;
    const address = formatAddress(record.address);
    if (record.access === AccessKind.Fetch) {
      // ISI: SRR1 carries the cause (QEMU ppc_hash64_xlate).
      const srr1 =
        kind === FaultKind.NotPresent
          ? SRR1_NOPTE
          : ((record.code & A_NOEXEC) !== 0 ? SRR1_NOEXEC_GUARD : kind === FaultKind.Permission ? SRR1_PROTFAULT : 0) |
            (key ? SRR1_IAMR : 0);
      return {
        detail: {
          interrupt: 'ISI',
          vector: VECTOR_ISI,
          srr1,
          srr1Hex: '0x' + srr1.toString(16),
          srr0: record.address,
          iamr: key,
        },
        summary: `Instruction storage interrupt (0x400) at ${address}: SRR1 0x${srr1.toString(16)}${key ? ' (SRR1_IAMR: execute-disabled by IAMR)' : ''}`,
      };
    }
    const store = record.access === AccessKind.Write ? DSISR_ISSTORE : 0;
    const dsisr =
      kind === FaultKind.NotPresent
        ? DSISR_NOHPTE | store
        : (kind === FaultKind.Permission ? DSISR_PROTFAULT : 0) | store | (key ? DSISR_AMR : 0);
    return {
      detail: {
        interrupt: 'DSI',
        vector: VECTOR_DSI,
        dsisr,
        dsisrHex: '0x' + dsisr.toString(16),
        dar: record.address,
        amr: key,
      },
      summary: `Data storage interrupt (0x300) at ${address}: DSISR 0x${dsisr.toString(16)}${key ? ' (DSISR_AMR: denied by the AMR)' : ''}`,
    };
  }

  /** The live AMR of a CPU as text (debugging). */
  formatAmr(cpu: number): string {
    this.checkCpu(cpu);
    return hex64(this.amrHi[cpu], this.amrLo[cpu]);
  }
}
