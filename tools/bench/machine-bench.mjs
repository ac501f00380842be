// The access benchmark of an architecture package, through the core Machine API only: per-access
// machine.access(), machine.accessBatch(), every access a TLB miss, against the bare Int32Array TLB +
// rights-register loop of bare.mjs in the same process; then the rights-register write: O(1) (the
// same cost with a 512-entry and a 65536-entry TLB) and no TLB flush.
import { AccessKind, Deny, MachineEvent, Privilege } from '@pkeysim/core';
import { bareHitLoop, bareRefillLoop, makeBare } from './bare.mjs';
import { interleave, median, rate, report, requireThat } from './harness.mjs';

export const STREAM = 1 << 12;
export const HOT_PAGES = 64;
export const MISS_PAGES = 4096;
const USER_BASE = 0x10000000;
const DOMAIN = 1;

/** A stream of STREAM addresses over `pages` pages (random for the hot set, in order for the miss set). */
export function addressStream(pages, base = USER_BASE) {
  const addresses = new Float64Array(STREAM);
  let seed = 12345;
  for (let i = 0; i < STREAM; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const page = pages === HOT_PAGES ? (seed >>> 8) % pages : i % pages;
    addresses[i] = base + page * 0x1000 + (seed & 0xfff);
  }
  return addresses;
}

/**
 * `create(tlbEntries)` returns a fresh Machine of the architecture. The bench maps user pages tagged
 * with domain 1, opens domain 1 in the user domain space, runs CPU 0 in user mode.
 */
function setup(create, pages, tlbEntries = 512) {
  const machine = create(tlbEntries);
  const pa = machine.allocatePhysical(pages * 0x1000);
  machine.map(0, USER_BASE, pa, pages * 0x1000, { user: true, writable: true, executable: false, domain: DOMAIN });
  const space = machine.domainSpace(Privilege.User);
  if (space.available(0) && !space.enabled(0)) space.enable(0);
  const open = space.withDenials(space.initialState(), DOMAIN, Deny.None);
  const closed = space.withDenials(open, DOMAIN + 1, Deny.Access);
  space.load(0, open);
  machine.setMode(0, Privilege.User);
  return { machine, space, open, closed, addresses: addressStream(pages) };
}

export function runMachineBench({ title, create, targets = {} }) {
  const READ = AccessKind.Read;
  const hot = setup(create, HOT_PAGES);
  const miss = setup(create, MISS_PAGES);
  const bare = makeBare({ base: USER_BASE, pages: MISS_PAGES, domain: DOMAIN });
  const rights = 0x55555550; // the bare loop's register: domains 0 and 1 open
  const out = new Int32Array(STREAM);
  const perAccess = (machine, addresses) => {
    let faults = 0;
    for (let i = 0; i < addresses.length; i++) if (machine.access(0, addresses[i], READ) !== 0) faults++;
    return faults;
  };
  const batch = (machine, addresses) => machine.accessBatch(0, addresses, READ, out);
  bare.warm(HOT_PAGES);
  const faults = [
    perAccess(hot.machine, hot.addresses),
    batch(hot.machine, hot.addresses),
    bareHitLoop(bare, hot.addresses, rights),
    perAccess(miss.machine, miss.addresses),
    bareRefillLoop(bare, miss.addresses, rights),
  ];
  if (faults.some((n) => n !== 0)) throw new Error(`${title}: benchmark streams must be all allowed, got ${faults}`);
  bare.warm(HOT_PAGES);
  miss.machine.events.reset();
  const result = interleave(
    {
      bare: { run: () => bareHitLoop(bare, hot.addresses, rights), ops: STREAM },
      perAccess: { run: () => perAccess(hot.machine, hot.addresses), ops: STREAM },
      batch: { run: () => batch(hot.machine, hot.addresses), ops: STREAM },
      miss: { run: () => perAccess(miss.machine, miss.addresses), ops: STREAM },
      bareMiss: {
        run: () => {
          const denied = bareRefillLoop(bare, miss.addresses, rights);
          bare.warm(HOT_PAGES);
          return denied;
        },
        ops: STREAM,
      },
    },
    'bare',
  );
  const walks = miss.machine.events.get(0, MachineEvent.PageWalk);
  const accesses = miss.machine.events.get(0, MachineEvent.Access);
  requireThat(
    title,
    walks === accesses,
    `the miss stream must walk on every access (${walks} walks, ${accesses} accesses)`,
  );
  report(title, 'bare', result, targets, {
    bare: 'bare Int32Array TLB + rights-register loop (hit)',
    perAccess: 'machine.access() per access (TLB hit)',
    batch: 'machine.accessBatch() (TLB hit)',
    miss: 'every access a TLB miss (walk + refill)',
    bareMiss: 'bare loop walk + refill (reference)',
  });

  // A rights-register write: O(1) and no flush.
  const small = setup(create, HOT_PAGES, 512);
  const large = setup(create, HOT_PAGES, 65536);
  for (const m of [small, large]) perAccess(m.machine, m.addresses);
  const flushes = (m) =>
    m.machine.events.get(0, MachineEvent.TlbFlushAll) + m.machine.events.get(0, MachineEvent.TlbFlushPage);
  const state = () => [flushes(small), flushes(large), small.machine.translate(0, USER_BASE) !== undefined];
  const tlbBefore = [Array.from(small.machine.tlb(0).tag), Array.from(large.machine.tlb(0).tag)];
  const before = state();
  const writes = (m) => () => {
    for (let i = 0; i < 256; i++) m.space.load(0, i & 1 ? m.open : m.closed);
    return 0;
  };
  const ratios = [];
  for (let r = 0; r < 9; r++) ratios.push(rate(writes(large), 256, 20) / rate(writes(small), 256, 20));
  const after = state();
  const tlbAfter = [Array.from(small.machine.tlb(0).tag), Array.from(large.machine.tlb(0).tag)];
  const sizeRatio = median(ratios);
  console.log(
    `${title}: rights write with a 65536-entry / a 512-entry TLB: ${sizeRatio.toFixed(2)} (O(1): about 1); ` +
      `TLB flushes before ${before.slice(0, 2).join(',')}, after ${after.slice(0, 2).join(',')}`,
  );
  requireThat(
    title,
    before.every((v, i) => v === after[i]) &&
      tlbBefore.every((t, i) => t.every((v, j) => Object.is(v, tlbAfter[i][j]))),
    'a rights-register write flushed or changed TLB entries',
  );
  requireThat(title, sizeRatio > 0.5, `the rights write slows down with the TLB size (ratio ${sizeRatio.toFixed(2)})`);
}
