import {
  type AccessFault,
  AccessKind,
  type DomainSpace,
  type EventCounters,
  type Machine,
  type MachineEvent,
  type Privilege,
  type RightsState,
} from '@pkeysim/core';
import { ForwardingMachine } from '@pkeysim/plugin-kit';

/** What an observed machine reports, synchronously, as the kernel drives it. */
export interface MachineObserver {
  /** A checked access (machine.access/read/write): `faulted` with the fault report when it did not complete. */
  access(cpu: number, kind: AccessKind, address: number, length: number, fault: AccessFault | undefined): void;
  /** A rights-register write (WRMSR IA32_PKRS, WRPKRU) through a domain space. */
  rightsWrite(cpu: number, space: DomainSpace, state: RightsState): void;
  /** An event counted through `machine.events.count` (the kernel counts switches, entries and exits there). */
  counted(cpu: number, event: MachineEvent, n: number): void;
}

/**
 * A Machine decorator (plugin-kit's ForwardingMachine) that reports every access decision,
 * rights-register write and counted event to an observer, and otherwise forwards every call unchanged. The kernel takes any core `Machine`,
 * so observing it needs no hook inside the kernel: build the kernel on the observed machine.
 * Counters are shared with the inner machine (the view below delegates storage to it), so cost
 * reports see every event, including those the architecture counts directly.
 */
export class ObservedMachine extends ForwardingMachine {
  override readonly events: EventCounters;
  private readonly spaces = new Map<DomainSpace, DomainSpace>();

  constructor(
    inner: Machine,
    private readonly observer: MachineObserver,
  ) {
    super(inner);
    // Own `count` over the inner counters' prototype chain: same typed array, same totals.
    const view = Object.create(inner.events) as EventCounters;
    view.count = (cpu: number, event: MachineEvent, n = 1) => {
      inner.events.count(cpu, event, n);
      observer.counted(cpu, event, n);
    };
    this.events = view;
  }

  /** The inner machine's domain space, wrapped so that rights-register writes reach the observer. */
  override domainSpace(governs: Privilege): DomainSpace | undefined {
    const space = this.inner.domainSpace(governs);
    if (!space) return undefined;
    let wrapped = this.spaces.get(space);
    if (!wrapped) {
      wrapped = observeSpace(space, this.observer);
      this.spaces.set(space, wrapped);
    }
    return wrapped;
  }

  /** Forward the access and report it, with its fault if any, to the observer. */
  override access(cpu: number, virtual: number, kind: AccessKind): number {
    const result = this.inner.access(cpu, virtual, kind);
    this.observer.access(cpu, kind, virtual, 1, result === 0 ? undefined : this.inner.lastFault(cpu));
    return result;
  }
  /** Forward the write and report it, with its fault if any, to the observer. */
  override write(cpu: number, virtual: number, bytes: Uint8Array): number {
    const result = this.inner.write(cpu, virtual, bytes);
    this.observer.access(
      cpu,
      AccessKind.Write,
      virtual,
      bytes.length,
      result === 0 ? undefined : this.inner.lastFault(cpu),
    );
    return result;
  }
  /** Forward the read and report it, with its fault if any, to the observer. */
  override read(cpu: number, virtual: number, length: number): Uint8Array | undefined {
    const result = this.inner.read(cpu, virtual, length);
    this.observer.access(cpu, AccessKind.Read, virtual, length, result ? undefined : this.inner.lastFault(cpu));
    return result;
  }
}

/** The same space, with `load` (the register write) reported. */
function observeSpace(space: DomainSpace, observer: MachineObserver): DomainSpace {
  return {
    info: space.info,
    available: (cpu) => space.available(cpu),
    enabled: (cpu) => space.enabled(cpu),
    enable: (cpu) => space.enable(cpu),
    read: (cpu) => space.read(cpu),
    load: (cpu, state) => {
      space.load(cpu, state);
      observer.rightsWrite(cpu, space, state);
    },
    initialState: () => space.initialState(),
    denialsOf: (state, domain) => space.denialsOf(state, domain),
    withDenials: (state, domain, denials) => space.withDenials(state, domain, denials),
    format: (state) => space.format(state),
  };
}
