import {
  ACCESS_OK,
  AccessKind,
  Deny,
  type DomainSpace,
  getPlugin,
  listPlugins,
  type Machine,
  Privilege,
  type RightsState,
  USER_PKEY_ABI,
  type UserPkeyAbi,
} from '@pkeysim/core';
import { container as rootContainer } from 'tsyringe';
import type { ConformanceCheck } from './checks';
import { describeSpace, expect, mapTestPage, prepare, stateText, statesEqual } from './fixture';
import type { ConformanceOptions, MakeMachine } from './options';

/**
 * The user-space pkey ABI contract (core user-pkey-abi.ts): an architecture whose CPUs have a
 * per-thread user key register registers a UserPkeyAbi that matches its DomainSpace, so the
 * kernel's pkey_alloc, pkey_set, signal delivery and ptrace work on it as on x86, arm64 and POWER.
 */

/** A user key register the pkey syscalls can program: per thread, a bounded number of keys. */
function userKeySpace(machine: Machine): DomainSpace | undefined {
  const space = machine.domainSpace(Privilege.User);
  if (!space || space.info.governs === Privilege.Supervisor) return undefined;
  if (space.info.scope !== 'thread' || !Number.isFinite(space.info.domains) || space.info.domains > 32)
    return undefined;
  return space;
}

/** The ABI the machine's plugin registers, as the kernel finds it; undefined when it registers none. */
function registeredAbi(machine: Machine): UserPkeyAbi | undefined {
  if (!listPlugins().some((p) => p.name === machine.arch)) return undefined;
  const scope = rootContainer.createChildContainer();
  getPlugin(machine.arch).register(scope, { arch: machine.arch, cpus: machine.cpuCount });
  return scope.isRegistered(USER_PKEY_ABI) ? scope.resolve(USER_PKEY_ABI) : undefined;
}

/** Run `body` with the machine's user key space and ABI; a machine without user keys passes. */
function withAbi(make: MakeMachine, body: (machine: Machine, space: DomainSpace, abi: UserPkeyAbi) => void): void {
  const machine = make();
  const space = userKeySpace(machine);
  const abi = registeredAbi(machine);
  if (!space) return;
  expect(
    abi !== undefined,
    `${describeSpace(space)} is a per-thread user key register, but plugin "${machine.arch}" registers no USER_PKEY_ABI: the pkey syscalls stay disabled`,
  );
  try {
    body(machine, space, abi);
  } catch (error) {
    if (error instanceof Error) error.message = `${abi.arch} user pkey ABI: ${error.message}`;
    throw error;
  }
}

/** Keys pkey_alloc may hand out: not the default, not reserved, not the fixed execute-only key. */
function allocatable(abi: UserPkeyAbi): number[] {
  const fixed = abi.executeOnly.kind === 'fixed' ? abi.executeOnly.key : -1;
  const out: number[] = [];
  for (let k = 0; k < abi.keys; k++) {
    if (k !== abi.defaultKey && k !== fixed && !abi.reservedKeys.some((r) => r.key === k)) out.push(k);
  }
  return out;
}

const abiMatchesSpace: ConformanceCheck = {
  id: 'user-abi-matches-space',
  title: 'a user key register comes with a registered pkey ABI whose keys match it',
  run(make) {
    withAbi(make, (machine, space, abi) => {
      expect(abi.arch === machine.arch, `names arch "${abi.arch}", the machine is "${machine.arch}"`);
      expect(abi.spaceId === space.info.id, `speaks for "${abi.spaceId}", the user space is "${space.info.id}"`);
      expect(abi.register.length > 0 && abi.sources.length > 0, 'needs a register name and its Linux sources');
      expect(abi.keys === space.info.domains, `arch_max_pkey() ${abi.keys}, the space has ${space.info.domains}`);
      expect(
        abi.defaultKey === space.info.defaultDomain,
        `default key ${abi.defaultKey}, the space's is ${space.info.defaultDomain}`,
      );
      const special = [...abi.reservedKeys.map((r) => r.key)];
      if (abi.executeOnly.kind === 'fixed') special.push(abi.executeOnly.key);
      for (const key of special) {
        expect(Number.isInteger(key) && key > 0 && key < abi.keys, `reserved key ${key} is not in 1..${abi.keys - 1}`);
        expect(key !== abi.defaultKey, `key ${key} is both default and reserved`);
      }
      expect(new Set(special).size === special.length, `reserved keys repeat: ${special.join(', ')}`);
      expect(allocatable(abi).length > 0, 'leaves no key for pkey_alloc');
    });
  },
};

const abiRights: ConformanceCheck = {
  id: 'user-abi-rights',
  title: 'pkey_alloc and pkey_set accept PKEY_DISABLE_ACCESS and _WRITE, and only flags the space expresses',
  run(make) {
    withAbi(make, (_machine, space, abi) => {
      const generic = Deny.Access | Deny.Write;
      expect(
        (abi.allocRights & generic) === generic,
        'pkey_alloc must accept PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE',
      );
      expect((abi.setRights & ~abi.allocRights) === 0, 'pkey_set accepts a flag pkey_alloc refuses');
      expect((abi.allocRights & ~space.info.deniable) === 0, 'accepts a flag the space cannot express');
      if ((abi.allocRights & Deny.Execute) !== 0)
        expect(abi.keysGovernFetch, 'accepts PKEY_DISABLE_EXECUTE but says keys do not govern fetches');
      const key = allocatable(abi)[0];
      const start = abi.initialRights(space);
      for (const flag of [Deny.Access, Deny.Write, Deny.Execute, Deny.Read]) {
        if ((abi.allocRights & flag) === 0) continue;
        const denied = space.denialsOf(space.withDenials(start, key, flag), key);
        expect(
          (denied & (flag | Deny.Access)) !== 0,
          `PKEY_DISABLE flag 0x${flag.toString(16)} on key ${key} denies nothing`,
        );
      }
    });
  },
};

const abiInitial: ConformanceCheck = {
  id: 'user-abi-initial-rights',
  title: 'a new process starts with the default key open and every allocatable key access-disabled',
  run(make) {
    withAbi(make, (_machine, space, abi) => {
      const init = abi.initialRights(space);
      expect(space.denialsOf(init, abi.defaultKey) === Deny.None, `${stateText(space, init)} denies the default key`);
      for (const key of allocatable(abi)) {
        expect(
          (space.denialsOf(init, key) & Deny.Access) !== 0,
          `${stateText(space, init)} leaves key ${key} open before pkey_alloc sets its rights`,
        );
      }
      if (abi.executeOnly.kind === 'fixed') {
        const denied = space.denialsOf(init, abi.executeOnly.key);
        expect((denied & Deny.Access) !== 0, `the execute-only key ${abi.executeOnly.key} is readable`);
        expect((denied & Deny.Execute) === 0, `the execute-only key ${abi.executeOnly.key} is not executable`);
      }
    });
  },
};

const abiUserWrite: ConformanceCheck = {
  id: 'user-abi-user-write',
  title: "user-mode and ptrace writes can open an allocatable key's data access (what pkey_set does)",
  run(make) {
    withAbi(make, (_machine, space, abi) => {
      const init = abi.initialRights(space);
      expect(statesEqual(abi.userWrite(space, init, init), init), 'writing the current value changes it');
      for (const key of allocatable(abi)) {
        const wanted = space.withDenials(init, key, Deny.None);
        for (const [name, write] of [
          ['user-mode write', abi.userWrite],
          ['ptrace write', abi.ptraceWrite],
        ] as const) {
          // Data rights only: POWER's IAMR is privileged, so user space cannot change execute.
          const got = write(space, init, wanted);
          const data = space.denialsOf(got, key) & (Deny.Access | Deny.Write | Deny.Read);
          expect(data === Deny.None, `a ${name} cannot open allocatable key ${key} for data`);
        }
      }
    });
  },
};

const abiSignal: ConformanceCheck = {
  id: 'user-abi-signal',
  title: 'signal delivery either restores the interrupted rights at sigreturn or never changes them',
  run(make) {
    withAbi(make, (_machine, _space, abi) => {
      const s = abi.signal;
      expect(s.frameRecord.length > 0 && s.source.length > 0, 'needs the frame record and its Linux source');
      // A handler that starts from the init value must get the interrupted rights back at sigreturn.
      if (s.handler === 'init')
        expect(s.sigreturnRestores, 'the handler starts at init but sigreturn does not restore');
      for (const c of abi.selftest.compiledOut) expect(c.reason.length > 0, `compiled-out ${c.name} gives no reason`);
    });
  },
};

/** Map a user page tagged `key`, load `state` everywhere, and try `kind` in `mode`. */
function tryAccess(
  machine: Machine,
  space: DomainSpace,
  options: ConformanceOptions,
  key: number,
  state: RightsState,
  kind: AccessKind,
  mode: Privilege,
  index: number,
): { ok: boolean; cause: string | undefined } {
  const as = prepare(machine, { space, privilege: Privilege.User });
  const va = mapTestPage(machine, as, { space, privilege: Privilege.User }, options, index, key);
  for (let cpu = 0; cpu < machine.cpuCount; cpu++) space.load(cpu, state);
  machine.setMode(0, mode);
  const ok = machine.access(0, va, kind) === ACCESS_OK;
  const cause = ok ? undefined : machine.lastFault(0)?.cause;
  machine.setMode(0, Privilege.User);
  return { ok, cause };
}

const abiEnforced: ConformanceCheck = {
  id: 'user-abi-enforced',
  title: 'the machine enforces the ABI: copies in its uaccess mode and fetches follow the user register',
  run(make, options) {
    withAbi(make, (machine, space, abi) => {
      const key = allocatable(abi)[0];
      const init = abi.initialRights(space);
      const mode = abi.uaccess === 'unprivileged' ? Privilege.User : Privilege.Supervisor;
      const open = space.withDenials(init, key, Deny.None);
      const closed = space.withDenials(init, key, Deny.Access);
      const allowed = tryAccess(machine, space, options, key, open, AccessKind.Write, mode, 0);
      expect(allowed.ok, `a ${abi.uaccess} copy to key ${key} faulted (${String(allowed.cause)}) with the key open`);
      const denied = tryAccess(machine, space, options, key, closed, AccessKind.Write, mode, 1);
      expect(
        !denied.ok && denied.cause === 'domain',
        `a ${abi.uaccess} copy to access-disabled key ${key} ${denied.ok ? 'succeeded' : `faulted with ${String(denied.cause)}`}: copy_to_user must fail`,
      );
      const noExec = (abi.allocRights & Deny.Execute) !== 0 ? Deny.Execute : Deny.Access;
      const fetch = tryAccess(
        machine,
        space,
        options,
        key,
        space.withDenials(init, key, noExec),
        AccessKind.Fetch,
        Privilege.User,
        2,
      );
      expect(
        abi.keysGovernFetch ? !fetch.ok && fetch.cause === 'domain' : fetch.ok,
        abi.keysGovernFetch
          ? `a fetch from key ${key} with execute denied ${fetch.ok ? 'succeeded' : `faulted with ${String(fetch.cause)}`}`
          : `keys are said not to govern fetches, but a fetch from access-disabled key ${key} faulted (${String(fetch.cause)})`,
      );
    });
  },
};

/** The user-space pkey ABI checks, run after the DomainSpace and Machine checks. */
export const USER_ABI_CHECKS: readonly ConformanceCheck[] = Object.freeze([
  abiMatchesSpace,
  abiRights,
  abiInitial,
  abiUserWrite,
  abiSignal,
  abiEnforced,
]);
