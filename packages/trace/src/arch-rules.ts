import {
  ACCESS_OK,
  AccessKind,
  createMachine,
  DomainError,
  formatDenials,
  isDomainError,
  Privilege,
  type Denials,
  type DomainSpace,
  type Machine,
  type RightsScope,
  type RightsState,
} from '@pkeysim/core';
import { TRACE_ACCESS_KIND_COUNT, TraceAccessKind } from './access-kind';
import { domainFieldPath, policyFieldError, type Policy } from './policy';
import { deniesAccess } from './rights';
import type { JsonPath } from './json-source';

/** Every {@link Denials} value is a 4-bit set (Deny.Access, Write, Execute, Read). */
export const DENIALS_VALUES = 16;

/**
 * How a replay decides which accesses fault: plain data the replayer reads when rights change, never
 * per access. `faultKinds[domain * DENIALS_VALUES + denials]` has bit `1 << kind` set when a trace
 * access of that kind to the policy domain faults under those denials.
 */
export interface ReplayRules {
  readonly faultKinds: Uint8Array;
  /** `thread`: each thread has its own rights (PKRU, POR_EL0, AMR); `address-space`: one set for all. */
  readonly scope: RightsScope;
}

/** Where the policy's domains and rights live on the architecture it was mapped onto. */
export interface ArchitectureMapping {
  /** The plugin name (`x86`). */
  readonly arch: string;
  /** The domain space of user pages, e.g. `x86.pku`. */
  readonly space: string;
  /** The register (or mechanism) holding the rights: `PKRU`, `POR_EL0`, `AMR/IAMR`. */
  readonly register: string;
  readonly scope: RightsScope;
  /** Per policy domain (by index), the architecture's domain (key, overlay index) it maps to. */
  readonly domains: readonly number[];
  /** The rights register with the policy's initial rights, as the architecture prints it. */
  readonly initialState: string;
}

/** The rules of the policy's own rights table (no architecture): a domain's denials alone decide. */
export function tableRules(policy: Policy): ReplayRules {
  const faultKinds = new Uint8Array(policy.domains.length * DENIALS_VALUES);
  for (let d = 0; d < policy.domains.length; d++) {
    for (let denials = 0; denials < DENIALS_VALUES; denials++) {
      let bits = 0;
      for (let kind = 0; kind < TRACE_ACCESS_KIND_COUNT; kind++) {
        if (deniesAccess(denials, kind as TraceAccessKind)) bits |= 1 << kind;
      }
      faultKinds[d * DENIALS_VALUES + denials] = bits;
    }
  }
  // A plain table has one copy of the rights, as before architectures were selectable.
  return { faultKinds, scope: 'address-space' };
}

/** Where the probe pages go: a user-half address every built-in layout maps (plugin-kit's conformance default). */
const PROBE_BASE = 0x10000000;
const PROBE_PAGE = 0x1000;
const PROBE_KINDS = [AccessKind.Read, AccessKind.Write, AccessKind.Fetch] as const;

/**
 * Map a policy onto an architecture's user-page domains, through its {@link DomainSpace}:
 * - the policy's `default` domain is the space's default domain; the others take the domains
 *   software may use, in policy order (not the default, not reserved);
 * - every rights value the policy uses (initial rights, each change) must be expressible:
 *   `withDenials` refuses what the hardware cannot hold (x86 PKU cannot deny fetches or reads alone);
 * - which accesses fault is decided by the architecture's own access check: each (domain, rights)
 *   pair the policy uses is loaded into the register of a one-CPU machine and a user-mode read,
 *   write and fetch are made to a page of that domain. The answers fill a table; a replay reads the
 *   table, so the hot path stays data.
 *
 * Throws {@link PolicyError} naming the rule (file, line, field) the architecture cannot express, and
 * `DomainError('unsupported')` for an architecture with no domains for user pages.
 */
export function architectureRules(policy: Policy, arch: string): { rules: ReplayRules; mapping: ArchitectureMapping } {
  const { machine } = createMachine({ arch, cpus: 1 });
  const space = machine.domainSpace(Privilege.User);
  if (!space) {
    throw new DomainError(
      'unsupported',
      `${arch} has no protection domains for user pages (lackey traces are user-mode accesses)`,
    );
  }
  const { info } = space;
  const hardware = assignDomains(policy, arch, space);
  const initial = space.initialState();

  // Every rights value the policy gives each domain, with the field that gives it.
  const uses: { domain: number; denials: Denials; path: JsonPath }[] = policy.domains.map((d) => ({
    domain: d.index,
    denials: d.initialDenials,
    path: domainFieldPath(policy, d.index, 'rights'),
  }));
  policy.changes.forEach((change, i) => {
    for (const { domain, denials } of change.set) {
      uses.push({ domain, denials, path: ['changes', i, 'set', policy.domains[domain].name] });
    }
  });
  const states = new Map<number, RightsState>();
  for (const { domain, denials, path } of uses) {
    const key = domain * DENIALS_VALUES + denials;
    if (states.has(key)) continue;
    states.set(
      key,
      stateFor(
        space,
        initial,
        hardware[domain],
        denials,
        () => {
          const name = policy.domains[domain].name;
          return `${arch} cannot give domain "${name}" (${info.register} domain ${hardware[domain]}) rights "${formatDenials(denials, true)}"`;
        },
        (reason) => policyFieldError(policy, path, reason),
      ),
    );
  }

  let initialState = initial;
  for (const d of policy.domains) {
    if (space.denialsOf(initialState, hardware[d.index]) !== d.initialDenials) {
      initialState = space.withDenials(initialState, hardware[d.index], d.initialDenials);
    }
  }

  const faultKinds = probe(machine, space, initial, policy, hardware, states);
  return {
    rules: { faultKinds, scope: info.scope },
    mapping: {
      arch,
      space: info.id,
      register: info.register,
      scope: info.scope,
      domains: hardware,
      initialState: space.format(initialState),
    },
  };
}

/** Policy domain index -> architecture domain: default to default, the others in order. */
function assignDomains(policy: Policy, arch: string, space: DomainSpace): number[] {
  const { domains, defaultDomain, reserved, id, register } = space.info;
  const isReserved = (d: number) => reserved.some((r) => r.domain === d);
  const hardware: number[] = [defaultDomain];
  let next = 0;
  for (let index = 1; index < policy.domains.length; index++) {
    while (next < domains && (next === defaultDomain || isReserved(next))) next++;
    if (next >= domains) {
      const usable = hardware.length - 1;
      const held = reserved.map((r) => r.domain).filter((d) => d !== defaultDomain);
      throw policyFieldError(
        policy,
        domainFieldPath(policy, index, 'name'),
        `${arch} has no domain left for "${policy.domains[index].name}": ${id} (${register}) has ${domains} domains, ` +
          `${usable} of them for the policy's domains besides "default" (domain ${defaultDomain} is the default` +
          `${held.length > 0 ? `; ${held.join(', ')} reserved` : ''})`,
      );
    }
    hardware.push(next++);
  }
  return hardware;
}

/** The initial state with one domain's denials replaced, or the field's PolicyError when the space refuses. */
function stateFor(
  space: DomainSpace,
  initial: RightsState,
  domain: number,
  denials: Denials,
  what: () => string,
  fail: (reason: string) => Error,
): RightsState {
  // A domain whose rights already match needs no write (a page-table default domain cannot be written at all).
  if (space.denialsOf(initial, domain) === denials) return initial;
  try {
    return space.withDenials(initial, domain, denials);
  } catch (error) {
    if (isDomainError(error)) throw fail(`${what()}: ${error.message}; expressible: ${expressibleRights(space)}`);
    throw error;
  }
}

/** The rights texts a space can hold ("rwx, --x, r-x" on x86 PKU), for refusals. */
function expressibleRights(space: DomainSpace): string {
  const texts = new Set<string>();
  for (let denials = 0; denials < DENIALS_VALUES; denials++) {
    if ((denials & ~space.info.deniable) === 0) texts.add(formatDenials(denials, true));
  }
  return [...texts].join(', ');
}

/**
 * Ask the machine which accesses fault: one page per architecture domain, each (domain, rights)
 * state loaded in turn, a user-mode read, write and fetch made to the page. A modify faults when its
 * read or its write does (lackey's M is one instruction doing both).
 */
function probe(
  machine: Machine,
  space: DomainSpace,
  initial: RightsState,
  policy: Policy,
  hardware: readonly number[],
  states: ReadonlyMap<number, RightsState>,
): Uint8Array {
  const cpu = 0;
  if (!space.enabled(cpu)) space.enable(cpu);
  const as = machine.createAddressSpace();
  machine.activate(cpu, as);
  const pages = policy.domains.map((d) => {
    const va = PROBE_BASE + d.index * PROBE_PAGE;
    machine.map(as, va, machine.allocatePhysical(PROBE_PAGE), PROBE_PAGE, {
      user: true,
      writable: true,
      executable: true,
      ...(hardware[d.index] !== space.info.defaultDomain ? { domain: hardware[d.index] } : {}),
    });
    return va;
  });
  machine.setMode(cpu, Privilege.User);
  const faultKinds = new Uint8Array(policy.domains.length * DENIALS_VALUES);
  for (const [key, state] of states) {
    const domain = Math.floor(key / DENIALS_VALUES);
    space.load(cpu, state);
    let bits = 0;
    for (const kind of PROBE_KINDS) {
      if (machine.access(cpu, pages[domain], kind) === ACCESS_OK) continue;
      const fault = machine.lastFault(cpu);
      // Only a domain denial may fault here: the page is mapped user, writable and executable.
      if (fault?.cause !== 'domain') {
        throw new Error(
          `probing ${machine.arch}: a ${kind} of a probe page faulted for another reason: ${fault?.summary}`,
        );
      }
      bits |= 1 << kind;
    }
    if ((bits & ((1 << TraceAccessKind.Load) | (1 << TraceAccessKind.Store))) !== 0)
      bits |= 1 << TraceAccessKind.Modify;
    faultKinds[key] = bits;
  }
  space.load(cpu, initial);
  return faultKinds;
}
