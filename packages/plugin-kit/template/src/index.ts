import 'reflect-metadata';
import {
  definePlugin,
  DENY_ALL_FLAGS,
  DomainError,
  ForwardingMachine,
  Privilege,
  registerPlugin,
  rightsState,
  type Denials,
  type DomainSpace,
  type DomainSpaceInfo,
  type ProtectionPlugin,
  type RightsState,
} from '@pkeysim/plugin-kit';
import { X86Machine } from '@pkeysim/x86';

/** Key 0 open, keys 1..15 write-disabled: WD (bit 2k+1) set for every other key (SDM vol. 3, 4.6.2). */
const WRITE_PROTECTED = 0xaaaaaaa8;

/**
 * Supervisor keys that start write-protected instead of access-disabled: the x86 PKS register
 * underneath, with a different initial value. Reads of a fresh key's pages work and writes fault
 * until the owner opens a window: read-only-at-rest as the default policy. Every other rule is
 * PKS's own; this class validates its arguments, then delegates.
 */
export class WriteProtectedInitSpace implements DomainSpace {
  readonly info: DomainSpaceInfo;

  constructor(private readonly pks: DomainSpace) {
    this.info = Object.freeze({ ...pks.info, id: 'wpinit.pks' });
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
  /** The only change from PKS: every key but the default starts write-disabled, not access-disabled. */
  initialState(): RightsState {
    return rightsState(WRITE_PROTECTED);
  }
  denialsOf(state: RightsState, domain: number): Denials {
    return this.pks.denialsOf(state, domain);
  }
  withDenials(state: RightsState, domain: number, denials: Denials): RightsState {
    // Validate everything before delegating, so a refusal changes nothing and names this scheme.
    if (!Number.isInteger(denials) || (denials & ~DENY_ALL_FLAGS) !== 0) {
      throw new DomainError('invalid', `denials 0x${Number(denials).toString(16)} use unknown flags`);
    }
    if ((denials & ~this.info.deniable) !== 0) {
      throw new DomainError('unsupported', `${this.info.id} cannot deny execution or reads alone (x86 keys)`);
    }
    return this.pks.withDenials(state, domain, denials);
  }
  format(state: RightsState): string {
    return this.pks.format(state);
  }
}

/** An x86 machine whose supervisor pages are governed by {@link WriteProtectedInitSpace}; no user keys. */
export class WriteProtectedInitMachine extends ForwardingMachine<X86Machine> {
  override readonly arch: string = 'example-wpinit';
  private readonly space: WriteProtectedInitSpace;

  constructor(inner: X86Machine) {
    super(inner);
    this.space = new WriteProtectedInitSpace(inner.domainSpace(Privilege.Supervisor)!);
  }

  override domainSpace(governs: Privilege): DomainSpace | undefined {
    return governs === Privilege.Supervisor ? this.space : undefined;
  }
}

/** Selected by name: `createMachine({ arch: 'example-wpinit' })`, `pkeysim --plugin . ... --arch example-wpinit`. */
export const wpInitPlugin: ProtectionPlugin = registerPlugin(
  definePlugin({
    name: 'example-wpinit',
    kind: 'scheme',
    packageName: 'pkeysim-plugin-wpinit',
    description: 'x86 supervisor keys that start write-protected instead of access-disabled (template plugin)',
    machine: (config) => new WriteProtectedInitMachine(X86Machine.fromConfig({ ...config, arch: 'x86' })),
  }),
);
