import {
  AccessKind,
  Deny,
  DENY_ALL_FLAGS,
  type Denials,
  type DomainSpace,
  type Machine,
  type AddressSpaceId,
  Privilege,
  type RightsState,
  rightsStateEqual,
  formatRightsState,
} from '@pkeysim/core';
import type { ConformanceOptions } from './options';

/** Thrown by a check: the message says what the plugin did and what the contract wants. */
export class ConformanceError extends Error {
  override readonly name = 'ConformanceError';
}

export function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ConformanceError(message);
}

export const PAGE = 0x1000;
/** 0x10000000: a user-half address every 4- and 5-level layout maps. */
export const DEFAULT_USER_ADDRESS = 0x10000000;
/** 0xffff888000000000 as a signed number (the x86-64 direct map). */
export const DEFAULT_SUPERVISOR_ADDRESS = -0x778000000000;

/** A domain space of the machine, with the privilege of the pages it governs. */
export interface SpaceUnderTest {
  readonly space: DomainSpace;
  /** The privilege test pages get and the mode accesses are made in. */
  readonly privilege: Privilege;
}

/** The machine's distinct domain spaces (one space may govern both privileges). */
export function spacesOf(machine: Machine): SpaceUnderTest[] {
  const out: SpaceUnderTest[] = [];
  for (const privilege of [Privilege.Supervisor, Privilege.User] as const) {
    const space = machine.domainSpace(privilege);
    if (space && !out.some((s) => s.space === space)) out.push({ space, privilege });
  }
  return out;
}

export function describeSpace(space: DomainSpace): string {
  return `${space.info.id} (${space.info.register})`;
}

/** The first `count` domains software may use: not the default, not reserved, in range. */
export function assignableDomains(space: DomainSpace, count: number): number[] {
  const { domains, defaultDomain, reserved } = space.info;
  const out: number[] = [];
  for (let d = 0; d < domains && out.length < count && d < 4096; d++) {
    if (d !== defaultDomain && !reserved.some((r) => r.domain === d)) out.push(d);
  }
  return out;
}

/** The single {@link Deny} flags a space can express. */
export function deniableFlags(space: DomainSpace): Denials[] {
  return [Deny.Access, Deny.Write, Deny.Execute, Deny.Read].filter((f) => (space.info.deniable & f) !== 0);
}

/** Every subset of the space's deniable flags (at most 16). */
export function deniableSubsets(space: DomainSpace): Denials[] {
  const flags = deniableFlags(space);
  const out: Denials[] = [];
  for (let mask = 0; mask < 1 << flags.length; mask++) {
    out.push(flags.reduce((acc, f, i) => ((mask & (1 << i)) !== 0 ? acc | f : acc), 0));
  }
  return out;
}

/**
 * Whether `denials` blocks an access of `kind`: true, false, or undefined where the contract leaves it
 * to the architecture (a fetch under Deny.Access: x86 keys never check fetches, a not-present PTE does).
 */
export function blocks(denials: Denials, kind: AccessKind): boolean | undefined {
  if (kind === AccessKind.Read) return (denials & (Deny.Access | Deny.Read)) !== 0;
  if (kind === AccessKind.Write) return (denials & (Deny.Access | Deny.Write)) !== 0;
  if ((denials & Deny.Execute) !== 0) return true;
  return (denials & Deny.Access) !== 0 ? undefined : false;
}

/** Two denial sets that block the same accesses (Access|Write and Access are the same rights). */
export function sameRights(a: Denials, b: Denials): boolean {
  return (
    blocks(a, AccessKind.Read) === blocks(b, AccessKind.Read) &&
    blocks(a, AccessKind.Write) === blocks(b, AccessKind.Write) &&
    (a & Deny.Execute) === (b & Deny.Execute)
  );
}

export const ACCESS_KINDS = [AccessKind.Read, AccessKind.Write, AccessKind.Fetch] as const;

export function kindName(kind: AccessKind): string {
  return kind === AccessKind.Read ? 'read' : kind === AccessKind.Write ? 'write' : 'fetch';
}

export function denialsName(denials: Denials): string {
  if (denials === 0) return 'none';
  const names: string[] = [];
  if (denials & Deny.Access) names.push('Access');
  if (denials & Deny.Write) names.push('Write');
  if (denials & Deny.Execute) names.push('Execute');
  if (denials & Deny.Read) names.push('Read');
  if (denials & ~DENY_ALL_FLAGS) names.push(`0x${(denials & ~DENY_ALL_FLAGS).toString(16)}`);
  return names.join('|');
}

export function stateText(space: DomainSpace, state: RightsState): string {
  try {
    return space.format(state);
  } catch {
    return formatRightsState(state);
  }
}

/**
 * Make a space usable on every CPU: enabled, every CPU in CPU 0's address space and in the mode of
 * the pages the space governs. Returns the address space test pages go into.
 */
export function prepare(machine: Machine, sut: SpaceUnderTest): AddressSpaceId {
  const { space, privilege } = sut;
  const as = machine.activeSpace(0);
  for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
    expect(
      space.available(cpu),
      `${describeSpace(space)} is not available on CPU ${cpu}: build the machine with the feature enumerated`,
    );
    if (!space.enabled(cpu)) space.enable(cpu);
    expect(space.enabled(cpu), `${describeSpace(space)}: enable(${cpu}) left the space disabled`);
    if (machine.activeSpace(cpu) !== as) machine.activate(cpu, as);
    machine.setMode(cpu, privilege);
  }
  return as;
}

/** Map one fresh, zeroed, writable and executable 4 KiB page (the `index`-th test page). */
export function mapTestPage(
  machine: Machine,
  as: AddressSpaceId,
  sut: SpaceUnderTest,
  options: ConformanceOptions,
  index: number,
  domain?: number,
): number {
  const user = sut.privilege === Privilege.User;
  const base = user
    ? (options.addresses?.user ?? DEFAULT_USER_ADDRESS)
    : (options.addresses?.supervisor ?? DEFAULT_SUPERVISOR_ADDRESS);
  const va = base + index * PAGE;
  const pa = machine.allocatePhysical(PAGE);
  machine.map(as, va, pa, PAGE, { user, writable: true, executable: true, domain });
  return va;
}

/**
 * Make `state` the rights the CPUs run with: on every CPU for a thread-scoped space; on CPU 0 only
 * for an address-space-scoped one (whose load is seen by every CPU).
 */
export function loadEverywhere(machine: Machine, space: DomainSpace, state: RightsState): void {
  const cpus = space.info.scope === 'address-space' ? 1 : machine.cpuCount;
  for (let cpu = 0; cpu < cpus; cpu++) space.load(cpu, state);
}

export function statesEqual(a: RightsState, b: RightsState): boolean {
  return rightsStateEqual(a, b);
}

/** What a check expects of a `fn` that must throw: the thrown value, or a failure if it returned. */
export function thrown(fn: () => unknown, what: string): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new ConformanceError(`${what} did not throw`);
}
