import 'reflect-metadata';
import {
  Deny,
  DENY_ALL_FLAGS,
  DomainError,
  ForwardingMachine,
  Privilege,
  registerPlugin,
  rightsState,
  TOKENS,
  type Denials,
  type DomainSpace,
  type DomainSpaceInfo,
  type MachineConfig,
  type ProtectionPlugin,
  type RightsState,
} from '@pkeysim/plugin-kit';
import { X86Machine } from '@pkeysim/x86';

/** Key 0 open, keys 1..15 write-disabled: WD (bit 2k+1) set for every other key (SDM vol. 3, 4.6.2). */
const WRITE_PROTECTED = 0xaaaaaaa8;

/**
 * Supervisor keys that can only take writes away: the x86 PKS register underneath, with access
 * denial refused. A scheme for write-protecting kernel data (page tables, credentials) where reads
 * must never fault.
 */
export class WriteProtectSpace implements DomainSpace {
  readonly info: DomainSpaceInfo;

  constructor(private readonly pks: DomainSpace) {
    this.info = Object.freeze({ ...pks.info, id: 'wponly.pks', deniable: Deny.Write });
  }

  available(cpu: number): boolean {
    return this.pks.available(cpu);
  }
  enabled(cpu: number): boolean {
    return this.pks.enabled(cpu);
  }
  enable(cpu: number): void {
    this.pks.enable(cpu);
  }
  read(cpu: number): RightsState {
    return this.pks.read(cpu);
  }
  load(cpu: number, state: RightsState): void {
    this.pks.load(cpu, state);
  }
  initialState(): RightsState {
    return rightsState(WRITE_PROTECTED);
  }
  denialsOf(state: RightsState, domain: number): Denials {
    return this.pks.denialsOf(state, domain);
  }
  withDenials(state: RightsState, domain: number, denials: Denials): RightsState {
    // Validate everything before delegating, so a refusal changes nothing.
    if (!Number.isInteger(denials) || (denials & ~DENY_ALL_FLAGS) !== 0) {
      throw new DomainError('invalid', `denials 0x${Number(denials).toString(16)} use unknown flags`);
    }
    if ((denials & ~this.info.deniable) !== 0) {
      throw new DomainError('unsupported', 'this scheme only write-protects: reads are never denied');
    }
    return this.pks.withDenials(state, domain, denials);
  }
  format(state: RightsState): string {
    return this.pks.format(state);
  }
}

/** An x86 machine whose supervisor pages are governed by {@link WriteProtectSpace}; no user keys. */
export class WriteProtectMachine extends ForwardingMachine<X86Machine> {
  override readonly arch: string = 'example-wponly';
  private readonly space: WriteProtectSpace;

  constructor(inner: X86Machine) {
    super(inner);
    this.space = new WriteProtectSpace(inner.domainSpace(Privilege.Supervisor)!);
  }

  override domainSpace(governs: Privilege): DomainSpace | undefined {
    return governs === Privilege.Supervisor ? this.space : undefined;
  }
}

export const wpOnlyPlugin: ProtectionPlugin = registerPlugin({
  name: 'example-wponly',
  kind: 'scheme',
  description: 'x86 supervisor keys restricted to write protection (template plugin)',
  register(container, config: MachineConfig) {
    const machine = new WriteProtectMachine(X86Machine.fromConfig({ ...config, arch: 'x86' }));
    container.register(TOKENS.Machine, { useValue: machine });
  },
});
