import { type DomainSpace, formatDenials, Deny, Privilege, type RightsState } from '@pkeysim/core';
import { formatAddress } from '@pkeysim/kernel';
import type { RunView } from '@pkeysim/scenario';
import type { CpuView, KeyRights, MappingView, RegisterView, StepState, ThreadView, TlbEntryView } from './model';
import { tlbOf, validEntries } from './tlb';

/** Keys decoded per register: every hardware key, at most this many (POWER has 32). */
const MAX_KEYS_SHOWN = 32;
/** Pages of one object listed in the page-table view. */
const MAX_PAGES_PER_OBJECT = 64;
const PAGE = 4096;

/**
 * Which keys a register view lists: every key of a hardware space (up to 32); for an unbounded
 * scheme (page tables, virtual keys) the keys the kernel has allocated plus the default.
 */
export function keysToShow(space: DomainSpace, allocated: readonly number[]): number[] {
  if (Number.isFinite(space.info.domains))
    return Array.from({ length: Math.min(space.info.domains, MAX_KEYS_SHOWN) }, (_, k) => k);
  return [...new Set([space.info.defaultDomain, ...allocated])].sort((a, b) => a - b).slice(0, MAX_KEYS_SHOWN);
}

/** The register decoded through the plugin's own `format` and `denialsOf`. */
export function decodeRegister(space: DomainSpace, state: RightsState, keys: readonly number[]): RegisterView {
  const withExecute = (space.info.deniable & Deny.Execute) !== 0;
  const decoded: KeyRights[] = [];
  for (const key of keys) {
    let denials: number;
    try {
      denials = space.denialsOf(state, key);
    } catch {
      continue; // a key the state does not cover (an unbounded scheme's sparse state)
    }
    decoded.push({ key, denials, rights: formatDenials(denials, withExecute) });
  }
  return { register: space.info.register, value: space.format(state), keys: decoded };
}

/**
 * The machine and kernel as they stand now, as plain data. Reading a register counts as a read
 * (RDMSR) on some machines: the counters are put back afterwards, so recording never changes the
 * modeled cost of the run it records.
 */
export function snapshot(view: RunView): StepState {
  const counts = view.machine.events.counts;
  const before = counts.slice();
  try {
    return readState(view, view.costs.total(view.machine.events));
  } finally {
    counts.set(before);
  }
}

function readState(view: RunView, cycles: number): StepState {
  const { machine, kernel } = view;
  const listing = kernel.pks_keys_allocated();
  const allocated = listing.rows.map((r) => r.key);
  const supervisor = kernel.supported ? kernel.space : undefined;
  const superKeys = supervisor ? keysToShow(supervisor, allocated) : [];
  const userSpace = machine.domainSpace(Privilege.User);
  const userKeys = userSpace ? keysToShow(userSpace, []) : [];
  const objectAt = objectFinder(view);

  const cpus: CpuView[] = [];
  for (let id = 0; id < kernel.cpuCount; id++) {
    const cpu = kernel.cpu(id);
    const thread = cpu.current;
    const frames = thread.frames.map((f) => ({
      vector: f.vector,
      kind: f.kind,
      depth: f.depth,
      saved: f.aux && supervisor ? supervisor.format(f.aux.pkrs) : null,
    }));
    const user =
      userSpace && userSpace.available(id) && userSpace.enabled(id)
        ? decodeRegister(userSpace, userSpace.read(id), userKeys)
        : null;
    cpus.push({
      cpu: id,
      thread: thread.name,
      frames,
      supervisor: supervisor ? decodeRegister(supervisor, supervisor.read(id), superKeys) : null,
      user,
      tlb: tlbView(view, id, objectAt),
    });
  }

  const threads: ThreadView[] = kernel.threads().map((t) => ({
    name: t.name,
    tid: t.tid,
    cpu: t.cpu,
    state: t.state,
    saved: supervisor && t.pkrs.length > 0 ? decodeRegister(supervisor, t.pkrs, superKeys) : null,
    oops: t.oops ? t.oops.reason : null,
  }));

  return {
    cpus,
    threads,
    keys: listing.rows.map((r) => ({
      key: r.key,
      owner: r.owner,
      defaultRights: r.defaultRights,
      exclusive: r.exclusive,
      callback: r.callback,
    })),
    pages: pagesView(view),
    cycles,
  };
}

type ObjectFinder = (address: number) => string | null;

function objectFinder(view: RunView): ObjectFinder {
  const targets = [...view.objects.values()];
  return (address) => {
    for (const t of targets) {
      if (address >= t.address && address < t.address + t.length) {
        const offset = address - t.address;
        return offset === 0 ? t.name : `${t.name}+0x${offset.toString(16)}`;
      }
    }
    return null;
  };
}

function tlbView(view: RunView, cpu: number, objectAt: ObjectFinder): TlbEntryView[] | null {
  const tlb = tlbOf(view.machine, cpu);
  if (!tlb) return null;
  const space = view.machine.activeSpace(cpu);
  return validEntries(tlb).map(([vpn, frame]) => {
    const virtual = vpn * PAGE;
    return {
      virtual: formatAddress(virtual),
      physical: `0x${frame.toString(16)}`,
      key: view.machine.translate(space, virtual)?.domain ?? null,
      object: objectAt(virtual),
    };
  });
}

/** Each scenario object's pages as the page tables map them now, with the key of every mapping. */
function pagesView(view: RunView): MappingView[] {
  const space = view.machine.activeSpace(0);
  const out: MappingView[] = [];
  for (const target of view.objects.values()) {
    if (target.user) continue; // user memory lives in its process's address space, not the kernel's
    const pages = Math.min(target.pages, MAX_PAGES_PER_OBJECT);
    for (let p = 0; p < pages; p++) {
      const virtual = target.address + p * PAGE;
      const t = view.machine.translate(space, virtual);
      if (!t) continue;
      out.push({
        object: p === 0 ? target.name : `${target.name}+0x${(p * PAGE).toString(16)}`,
        virtual: formatAddress(virtual),
        physical: `0x${t.physical.toString(16)}`,
        writable: t.writable,
        user: t.user,
        executable: t.executable,
        key: t.domain,
      });
    }
  }
  return out;
}
