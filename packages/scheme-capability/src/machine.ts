import {
  type AccessFault,
  AccessKind,
  ACCESS_OK,
  type CapabilityInfo,
  type CapPerms,
  type DomainSpace,
  type MachineConfig,
  MachineEvent,
  type PointerAuthority,
  type Privilege,
} from '@pkeysim/core';
import { ForwardingMachine } from '@pkeysim/plugin-kit';
import { X86Machine } from '@pkeysim/x86';
import { CapabilityTable } from './table';

/** The code an access refused by a capability returns (nonzero; the detail is in lastFault). */
export const CAPABILITY_FAULT = 0xc0;

/**
 * A CHERI-like machine built on an x86 machine whose keys stay off: rights live in pointers, not in
 * a register, so there is no domain space and nothing to switch. Plain accesses (integer pointers)
 * go through the default data capability, the root, as in CHERI's hybrid mode; accesses made
 * through `authority` are checked against the capability they name, then made by the x86 below, so
 * its page tables still apply.
 */
export class CapabilityMachine extends ForwardingMachine<X86Machine> implements PointerAuthority {
  override readonly arch: string = 'capability';
  readonly authority: PointerAuthority = this;
  /** One bounds-and-permissions check per access. */
  readonly checksPerAccess = 1;
  private readonly table = new CapabilityTable();
  private readonly capFault: (AccessFault | undefined)[];
  /** Capability checks made, per CPU. */
  readonly checks: Float64Array;

  /** Build the scheme on a new x86 machine whose protection keys are left off. */
  static fromConfig(config: MachineConfig): CapabilityMachine {
    return new CapabilityMachine(
      X86Machine.fromConfig({ ...config, arch: 'x86', features: { userDomains: false, supervisorDomains: false } }),
    );
  }

  constructor(inner: X86Machine) {
    super(inner);
    this.capFault = new Array<AccessFault | undefined>(inner.cpuCount).fill(undefined);
    this.checks = new Float64Array(inner.cpuCount);
  }

  /** The x86 machine underneath. */
  get x86(): X86Machine {
    return this.inner;
  }

  /** None: this scheme gives rights to pointers, not to threads. */
  override domainSpace(_governs: Privilege): DomainSpace | undefined {
    return undefined;
  }

  /** A capability for [base, base+length) with `perms`, derived from `parent` (`ROOT_CAPABILITY` at boot). */
  derive(parent: number, base: number, length: number, perms: CapPerms, owner: string): number {
    return this.table.derive(parent, base, length, perms, owner);
  }
  /** Clear a capability's tag: every later access through it faults (revocation). */
  clear(cap: number): void {
    this.table.clear(cap);
  }
  /** What `cap` grants, or undefined when no such capability exists. */
  describe(cap: number): CapabilityInfo | undefined {
    return this.table.describe(cap);
  }

  accessVia(cpu: number, cap: number, virtual: number, kind: AccessKind): number {
    return this.check(cpu, cap, virtual, 1, kind) ?? this.access(cpu, virtual, kind);
  }
  writeVia(cpu: number, cap: number, virtual: number, bytes: Uint8Array): number {
    return this.check(cpu, cap, virtual, bytes.length, AccessKind.Write) ?? this.write(cpu, virtual, bytes);
  }
  readVia(cpu: number, cap: number, virtual: number, length: number): Uint8Array | undefined {
    return this.check(cpu, cap, virtual, length, AccessKind.Read) === undefined
      ? this.read(cpu, virtual, length)
      : undefined;
  }

  /** An ordinary access through the x86 machine (a fault replaces any earlier capability fault). */
  override access(cpu: number, virtual: number, kind: AccessKind): number {
    const code = this.inner.access(cpu, virtual, kind);
    if (code !== ACCESS_OK) this.capFault[cpu] = undefined;
    return code;
  }
  /** An ordinary store through the x86 machine (a fault replaces any earlier capability fault). */
  override write(cpu: number, virtual: number, bytes: Uint8Array): number {
    const code = this.inner.write(cpu, virtual, bytes);
    if (code !== ACCESS_OK) this.capFault[cpu] = undefined;
    return code;
  }
  /** An ordinary load through the x86 machine (a fault replaces any earlier capability fault). */
  override read(cpu: number, virtual: number, length: number): Uint8Array | undefined {
    const data = this.inner.read(cpu, virtual, length);
    if (data === undefined) this.capFault[cpu] = undefined;
    return data;
  }
  /** The CPU's last fault: a capability fault if one was the latest, else the x86 machine's. */
  override lastFault(cpu: number): AccessFault | undefined {
    return this.capFault[cpu] ?? this.inner.lastFault(cpu);
  }
  /** Power-cycle: forget capability faults and reboot the x86 machine. */
  override reboot(): void {
    this.capFault.fill(undefined);
    this.inner.reboot();
  }

  /** undefined when allowed; otherwise records the fault and returns CAPABILITY_FAULT. */
  private check(cpu: number, cap: number, virtual: number, size: number, kind: AccessKind): number | undefined {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpuCount) throw new RangeError(`no CPU ${String(cpu)}`);
    this.checks[cpu]++;
    const why = this.table.violation(cap, virtual, size, kind);
    if (why === undefined) return undefined;
    this.capFault[cpu] = this.table.fault(cpu, cap, virtual, kind, why);
    this.events.count(cpu, MachineEvent.Fault);
    return CAPABILITY_FAULT;
  }
}
