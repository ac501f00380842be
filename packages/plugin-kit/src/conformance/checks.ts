import {
  ACCESS_OK,
  AccessKind,
  Deny,
  DENY_ALL_FLAGS,
  type Denials,
  isDomainError,
  MachineEvent,
  type Machine,
  Privilege,
  type RightsState,
} from '@pkeysim/core';
import fc from 'fast-check';
import {
  ACCESS_KINDS,
  assignableDomains,
  blocks,
  deniableFlags,
  deniableSubsets,
  denialsName,
  expect,
  kindName,
  loadEverywhere,
  PAGE,
  sameRights,
  type SpaceUnderTest,
  stateText,
  statesEqual,
  thrown,
} from './fixture';
import type { ConformanceOptions, MakeMachine } from './options';
import { eachPreparedSpace, eachSpace, firstDomain } from './setup';
import { USER_ABI_CHECKS } from './user-abi-checks';

/** One behaviour of the DomainSpace and Machine contracts (packages/core/src/domain.ts, machine.ts). */
export interface ConformanceCheck {
  readonly id: string;
  /** States the behaviour, as a test name. */
  readonly title: string;
  /** Run the check on machines built by `make`; throws when the behaviour is not met. */
  run(make: MakeMachine, options: ConformanceOptions): void;
}

/** The state that gives `domain` exactly `denials`, starting from the initial state. */
function stateWith(sut: SpaceUnderTest, domain: number, denials: Denials): RightsState {
  return sut.space.withDenials(sut.space.initialState(), domain, denials);
}

/** Deny.Access where the space can express it, else its first deniable flag. */
function strongestSingleDenial({ space }: SpaceUnderTest): Denials {
  return (space.info.deniable & Deny.Access) !== 0 ? Deny.Access : deniableFlags(space)[0];
}

function faultText(machine: Machine, cpu: number): string {
  return machine.lastFault(cpu)?.summary ?? 'no fault report';
}

const infoCoherent: ConformanceCheck = {
  id: 'info-coherent',
  title: 'info is coherent: default domain open in initialState, other domains denied, fields consistent',
  run(make) {
    eachSpace(make, (_machine, { space, privilege }) => {
      const info = space.info;
      expect(typeof info.id === 'string' && info.id !== '', 'info.id must be a non-empty string');
      expect(typeof info.register === 'string' && info.register !== '', 'info.register must be a non-empty string');
      expect(
        info.governs === privilege || info.governs === 'shared',
        `returned for ${privilege === Privilege.User ? 'user' : 'supervisor'} pages but governs ${String(info.governs)}`,
      );
      expect(
        info.domains === Infinity || (Number.isInteger(info.domains) && info.domains >= 1),
        `info.domains ${info.domains} must be a whole number >= 1 or Infinity`,
      );
      expect(
        Number.isInteger(info.defaultDomain) && info.defaultDomain >= 0 && info.defaultDomain < info.domains,
        `defaultDomain ${info.defaultDomain} is out of range`,
      );
      const seen = new Set<number>();
      for (const r of info.reserved) {
        expect(
          Number.isInteger(r.domain) && r.domain >= 0 && r.domain < info.domains,
          `reserved domain ${r.domain} is out of range`,
        );
        expect(!seen.has(r.domain), `reserved domain ${r.domain} is listed twice`);
        expect(typeof r.reason === 'string' && r.reason !== '', `reserved domain ${r.domain} gives no reason`);
        seen.add(r.domain);
      }
      expect(
        info.deniable !== 0 && (info.deniable & ~DENY_ALL_FLAGS) === 0,
        `deniable ${info.deniable} must be a nonzero set of Deny flags`,
      );
      expect(['thread', 'address-space'].includes(info.scope), `scope "${info.scope}" is not a RightsScope`);
      expect(
        ['register-write', 'tlb-shootdown'].includes(info.switchCost),
        `switchCost "${info.switchCost}" is not a SwitchCost`,
      );
      expect(
        ['extended-state', 'software', 'none'].includes(info.contextSave),
        `contextSave "${info.contextSave}" is not a ContextSave`,
      );
      if (info.scope === 'address-space') {
        expect(
          info.contextSave === 'none',
          'rights global to the address space have nothing to save per context (contextSave "none")',
        );
        expect(
          info.switchCost === 'tlb-shootdown',
          'a change seen by every thread rewrites translations (switchCost "tlb-shootdown")',
        );
      } else {
        expect(
          info.contextSave !== 'none',
          'per-thread rights must be saved on a context switch (contextSave is "none")',
        );
      }
      const initial = space.initialState();
      const open = space.denialsOf(initial, info.defaultDomain);
      expect(open === Deny.None, `initialState gives the default domain ${denialsName(open)}, expected no denial`);
      const domain = assignableDomains(space, 1)[0];
      if (domain !== undefined) {
        const denied = space.denialsOf(initial, domain);
        expect(
          blocks(denied, AccessKind.Read) === true || blocks(denied, AccessKind.Write) === true,
          `initialState leaves domain ${domain} open (${denialsName(denied)}): every non-default domain starts denied`,
        );
      }
      expect(
        typeof space.format(initial) === 'string' && space.format(initial) !== '',
        'format(initialState) is empty',
      );
    });
  },
};

const domainRange: ConformanceCheck = {
  id: 'domain-range',
  title:
    "withDenials refuses out-of-range domains with 'invalid'; a reserved domain keeps the denial or is refused cleanly",
  run(make) {
    eachSpace(make, (_machine, { space }) => {
      const initial = space.initialState();
      const denial = deniableFlags(space)[0];
      const bad = [-1, 1.5];
      if (Number.isFinite(space.info.domains)) bad.push(space.info.domains);
      for (const domain of bad) {
        const error = thrown(
          () => space.withDenials(initial, domain, denial),
          `withDenials(initial, ${domain}, ${denialsName(denial)})`,
        );
        expect(
          isDomainError(error, 'invalid'),
          `withDenials on domain ${domain} threw ${String(error)}, expected DomainError 'invalid'`,
        );
      }
      // Reserved is a rule for allocators (core domain.ts ReservedDomain): a register that can hold
      // the reserved domain's rights keeps them; a scheme that cannot restrict it refuses with a
      // DomainError. Anything else would be a silent wrong answer.
      for (const { domain } of space.info.reserved) {
        let changed: RightsState | undefined;
        let error: unknown;
        try {
          changed = space.withDenials(initial, domain, denial);
        } catch (caught) {
          error = caught;
        }
        if (changed !== undefined) {
          expect(
            space.denialsOf(changed, domain) === denial,
            `reserved domain ${domain} did not keep ${denialsName(denial)}`,
          );
        } else {
          expect(
            isDomainError(error),
            `withDenials on reserved domain ${domain} threw ${String(error)}, expected a DomainError`,
          );
        }
      }
    });
  },
};

const unsupportedDenials: ConformanceCheck = {
  id: 'unsupported-denials',
  title: "withDenials refuses denials the space cannot express with 'unsupported' (unknown flags with 'invalid')",
  run(make) {
    eachSpace(make, (_machine, sut) => {
      const { space } = sut;
      const domain = firstDomain(sut);
      const initial = space.initialState();
      for (const flag of [Deny.Access, Deny.Write, Deny.Execute, Deny.Read]) {
        if ((space.info.deniable & flag) !== 0) continue;
        const error = thrown(
          () => space.withDenials(initial, domain, flag),
          `withDenials(initial, ${domain}, ${denialsName(flag)})`,
        );
        expect(
          isDomainError(error, 'unsupported'),
          `denying ${denialsName(flag)} threw ${String(error)}, expected DomainError 'unsupported'`,
        );
      }
      const error = thrown(() => space.withDenials(initial, domain, 0x10), 'withDenials with an unknown flag 0x10');
      expect(isDomainError(error), `an unknown flag threw ${String(error)}, expected a DomainError`);
    });
  },
};

const withDenialsPure: ConformanceCheck = {
  id: 'with-denials-pure',
  title: 'withDenials never mutates its input and round-trips through denialsOf, leaving other domains alone',
  run(make, options) {
    eachSpace(make, (_machine, sut) => {
      const { space } = sut;
      const pool = assignableDomains(space, 6);
      if (space.info.domains === Infinity) pool.push(1000, 65537);
      const subsets = deniableSubsets(space);
      const step = fc.record({ domain: fc.constantFrom(...pool), denials: fc.constantFrom(...subsets) });
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
          let state = space.initialState();
          for (const { domain, denials } of steps) {
            const before = [...state];
            const others = pool.map((d) => space.denialsOf(state, d));
            const next = space.withDenials(state, domain, denials);
            expect(statesEqual(before, state), `withDenials changed its input ${stateText(space, before)}`);
            const got = space.denialsOf(next, domain);
            expect(
              sameRights(got, denials),
              `withDenials(${stateText(space, state)}, ${domain}, ${denialsName(denials)}) reads back ${denialsName(got)}`,
            );
            pool.forEach((d, i) => {
              if (d !== domain) {
                const now = space.denialsOf(next, d);
                expect(
                  now === others[i],
                  `setting domain ${domain} changed domain ${d} from ${denialsName(others[i])} to ${denialsName(now)}`,
                );
              }
            });
            state = next;
          }
        }),
        { numRuns: options.runs ?? 50 },
      );
    });
  },
};

const loadRead: ConformanceCheck = {
  id: 'load-read',
  title: 'load then read returns the state on every CPU',
  run(make, options) {
    eachPreparedSpace(make, options, ({ machine, space }) => {
      const pool = assignableDomains(space, 4);
      const subsets = deniableSubsets(space);
      const step = fc.record({ domain: fc.constantFrom(...pool), denials: fc.constantFrom(...subsets) });
      fc.assert(
        fc.property(fc.array(step, { maxLength: 6 }), fc.nat(machine.cpuCount - 1), (steps, cpu) => {
          const state = steps.reduce(
            (s, { domain, denials }) => space.withDenials(s, domain, denials),
            space.initialState(),
          );
          space.load(cpu, state);
          const back = space.read(cpu);
          expect(
            statesEqual(back, state),
            `load(${cpu}, ${stateText(space, state)}) then read gives ${stateText(space, back)}`,
          );
        }),
        { numRuns: options.runs ?? 50 },
      );
    });
  },
};

const FLUSH_EVENTS = [
  MachineEvent.TlbFlushPage,
  MachineEvent.TlbFlushAll,
  MachineEvent.Shootdown,
  MachineEvent.PteWrite,
];

const rightsScope: ConformanceCheck = {
  id: 'rights-scope',
  title:
    'a thread-scoped rights change changes no translation and needs no flush; an address-space-scoped one is seen by every CPU',
  run(make, options) {
    eachPreparedSpace(make, options, ({ machine, sut, space, as, domain, page }) => {
      const va = page(0, domain);
      const open = stateWith(sut, domain, Deny.None);
      const denial = strongestSingleDenial(sut);
      const closed = stateWith(sut, domain, denial);
      const kind = ACCESS_KINDS.find((k) => blocks(denial, k) === true)!;
      if (space.info.scope === 'thread') {
        loadEverywhere(machine, space, open);
        const translation = JSON.stringify(machine.translate(as, va));
        const others = Array.from({ length: machine.cpuCount }, (_, cpu) => space.read(cpu));
        const before = FLUSH_EVENTS.map((e) => machine.events.total(e));
        space.load(0, closed);
        space.load(0, open);
        space.load(0, closed);
        expect(JSON.stringify(machine.translate(as, va)) === translation, 'a rights load changed the translation');
        FLUSH_EVENTS.forEach((e, i) => {
          expect(
            machine.events.total(e) === before[i],
            `a rights load counted event ${e} (flush, shootdown or PTE write)`,
          );
        });
        for (let cpu = 1; cpu < machine.cpuCount; cpu++) {
          expect(statesEqual(space.read(cpu), others[cpu]), `a load on CPU 0 changed CPU ${cpu}'s rights`);
          expect(
            machine.access(cpu, va, kind) === ACCESS_OK,
            `CPU ${cpu} lost access after CPU 0 closed its own rights`,
          );
        }
      } else {
        space.load(0, open);
        for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
          expect(statesEqual(space.read(cpu), open), `CPU ${cpu} does not see CPU 0's load`);
          expect(
            machine.access(cpu, va, kind) === ACCESS_OK,
            `CPU ${cpu} cannot ${kindName(kind)} after CPU 0 opened the domain: ${faultText(machine, cpu)}`,
          );
        }
        const shootdowns = machine.events.total(MachineEvent.Shootdown);
        space.load(0, closed);
        for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
          expect(
            machine.access(cpu, va, kind) !== ACCESS_OK,
            `CPU ${cpu} can still ${kindName(kind)} after CPU 0 closed the domain (stale translation?)`,
          );
        }
        if (machine.cpuCount > 1) {
          expect(
            machine.events.total(MachineEvent.Shootdown) > shootdowns,
            'closing an address-space-scoped domain counted no shootdown',
          );
        }
      }
    });
  },
};

const denialBlocks: ConformanceCheck = {
  id: 'denial-blocks-named-access',
  title: 'a denial blocks the accesses it names and only those, on every CPU (map + access)',
  run(make, options) {
    eachPreparedSpace(make, options, ({ machine, space, domain, page, loadDenials }) => {
      const va = page(0, domain);
      const plain = page(1);
      for (const denials of deniableSubsets(space)) {
        loadDenials(denials);
        for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
          for (const kind of ACCESS_KINDS) {
            const what = `CPU ${cpu} ${kindName(kind)} with ${denialsName(denials)} denied`;
            expect(
              machine.access(cpu, plain, kind) === ACCESS_OK,
              `${what}: a default-domain page faulted: ${faultText(machine, cpu)}`,
            );
            const expected = blocks(denials, kind);
            if (expected === undefined) continue;
            const code = machine.access(cpu, va, kind);
            if (expected) expect(code !== ACCESS_OK, `${what} was allowed`);
            else expect(code === ACCESS_OK, `${what} faulted: ${faultText(machine, cpu)}`);
          }
        }
      }
    });
  },
};

const domainFaultCause: ConformanceCheck = {
  id: 'domain-fault-cause',
  title: "the fault of a domain denial has cause 'domain' and names the CPU, address and access",
  run(make, options) {
    eachPreparedSpace(make, options, ({ machine, sut, domain, page, loadDenials }) => {
      const va = page(0, domain);
      const denial = strongestSingleDenial(sut);
      loadDenials(denial);
      for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
        const kind = ACCESS_KINDS.find((k) => blocks(denial, k) === true)!;
        expect(
          machine.access(cpu, va + 0x10, kind) !== ACCESS_OK,
          `CPU ${cpu}: the denied ${kindName(kind)} was allowed`,
        );
        const fault = machine.lastFault(cpu);
        expect(fault !== undefined, `CPU ${cpu}: no fault report after a denied access`);
        expect(fault.cause === 'domain', `CPU ${cpu}: cause '${fault.cause}', expected 'domain' (${fault.summary})`);
        expect(
          fault.cpu === cpu && fault.address === va + 0x10 && fault.access === kind,
          `CPU ${cpu}: the report names the wrong CPU, address or access`,
        );
        expect(
          fault.domain === undefined || fault.domain === domain,
          `CPU ${cpu}: the report names domain ${fault.domain}, expected ${domain}`,
        );
      }
    });
  },
};

const translateDomain: ConformanceCheck = {
  id: 'translate-domain',
  title: 'translate finds the domain of a mapping, whatever the rights, and nothing where nothing is mapped',
  run(make, options) {
    eachPreparedSpace(make, options, ({ machine, sut, space, as, domain: d1, page, loadDenials }) => {
      const d2 = assignableDomains(space, 2)[1];
      const va = page(0, d1);
      for (const denials of deniableSubsets(space)) {
        loadDenials(denials);
        const t = machine.translate(as, va + 0x123);
        expect(
          t !== undefined && t.domain === d1,
          `with ${denialsName(denials)} denied translate gives ${JSON.stringify(t)}, expected domain ${d1}`,
        );
        expect(
          t.user === (sut.privilege === Privilege.User) && t.writable && t.executable,
          'translate does not give the base permissions the page was mapped with',
        );
      }
      const plain = page(1);
      expect(
        machine.translate(as, plain)?.domain === space.info.defaultDomain,
        'a page mapped without a domain is not in the default domain',
      );
      expect(machine.translate(as, va + 2 * PAGE) === undefined, 'translate finds a mapping where none was made');
      if (d2 !== undefined) {
        machine.attach(as, va, PAGE, d2);
        expect(
          machine.translate(as, va)?.domain === d2,
          `after attach to ${d2} translate gives ${machine.translate(as, va)?.domain}`,
        );
      }
    });
  },
};

const attachRetags: ConformanceCheck = {
  id: 'attach-retag',
  title: 'attach re-tags memory and every CPU sees it, even with the old translation cached',
  run(make, options) {
    eachPreparedSpace(make, options, ({ machine, sut, space, as, domain, page, loadDenials }) => {
      const va = page(0);
      const denial = strongestSingleDenial(sut);
      const kind = ACCESS_KINDS.find((k) => blocks(denial, k) === true)!;
      loadDenials(denial);
      for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
        expect(
          machine.access(cpu, va, kind) === ACCESS_OK,
          `CPU ${cpu}: the default-domain page faulted: ${faultText(machine, cpu)}`,
        );
      }
      machine.attach(as, va, PAGE, domain);
      expect(machine.translate(as, va)?.domain === domain, 'attach did not change the domain translate finds');
      for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
        expect(
          machine.access(cpu, va, kind) !== ACCESS_OK,
          `CPU ${cpu} still uses the old domain after attach (missed shootdown)`,
        );
        expect(
          machine.lastFault(cpu)?.cause === 'domain',
          `CPU ${cpu}: after attach the fault cause is ${machine.lastFault(cpu)?.cause}`,
        );
      }
      machine.attach(as, va, PAGE, space.info.defaultDomain);
      for (let cpu = 0; cpu < machine.cpuCount; cpu++) {
        expect(
          machine.access(cpu, va, kind) === ACCESS_OK,
          `CPU ${cpu}: attach back to the default domain did not reopen the page`,
        );
      }
    });
  },
};

const refusalsLeaveState: ConformanceCheck = {
  id: 'refusals-leave-state',
  title: 'refused operations leave rights, mappings and domains as they were',
  run(make, options) {
    eachPreparedSpace(make, options, ({ machine, sut, space, as, domain, page }) => {
      const va = page(0, domain);
      const state = stateWith(sut, domain, deniableFlags(space)[0]);
      loadEverywhere(machine, space, state);
      const live = space.read(0);
      for (const garbage of [[-1], [Number.NaN], [0.5, 0.5]] as number[][]) {
        thrown(() => space.load(0, garbage), `load(0, [${String(garbage)}])`);
        expect(statesEqual(space.read(0), live), `a refused load([${String(garbage)}]) changed the live rights`);
      }
      const copy = [...state];
      thrown(() => space.withDenials(state, -1, deniableFlags(space)[0]), 'withDenials on domain -1');
      expect(statesEqual(copy, state), 'a refused withDenials changed its input');
      const before = JSON.stringify(machine.translate(as, va));
      thrown(
        () =>
          machine.map(as, va, machine.allocatePhysical(PAGE), PAGE, { user: false, writable: true, executable: false }),
        'mapping an already-mapped page',
      );
      thrown(() => machine.attach(as, va, PAGE, -1), 'attach to domain -1');
      thrown(
        () => machine.attach(as, va, 2 * PAGE, space.info.defaultDomain),
        'attach over a range that is partly unmapped',
      );
      expect(JSON.stringify(machine.translate(as, va)) === before, 'a refused map or attach changed the mapping');
      expect(machine.translate(as, va + PAGE) === undefined, 'a refused attach mapped the page after the range');
    });
  },
};

const rebootPersistence: ConformanceCheck = {
  id: 'reboot-persistence',
  title: 'reboot keeps persistent memory and loses RAM',
  run(make) {
    const machine = make();
    const bytes = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    const pmem = machine.allocatePhysical(PAGE, { persistent: true });
    const ram = machine.allocatePhysical(PAGE);
    machine.writePhysical(pmem, bytes);
    machine.writePhysical(ram, bytes);
    machine.reboot();
    expect(
      Array.from(machine.readPhysical(pmem, 4)).join() === Array.from(bytes).join(),
      'persistent memory lost its contents across reboot',
    );
    let after: Uint8Array | undefined;
    try {
      after = machine.readPhysical(ram, 4);
    } catch {
      after = undefined; // RAM that no longer exists is lost too.
    }
    expect(
      after === undefined || Array.from(after).join() !== Array.from(bytes).join(),
      'RAM kept its contents across reboot',
    );
  },
};

/** Every check, in the order the suite runs them. */
export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = Object.freeze([
  infoCoherent,
  domainRange,
  unsupportedDenials,
  withDenialsPure,
  loadRead,
  rightsScope,
  denialBlocks,
  domainFaultCause,
  translateDomain,
  attachRetags,
  refusalsLeaveState,
  rebootPersistence,
  ...USER_ABI_CHECKS,
]);
