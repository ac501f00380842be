// Checked accesses through the BUILT x86 package against a bare Int32Array TLB + PKRU loop in the same
// process: per-access machine.access(), machine.accessBatch(), a stream where every access misses the
// TLB (walk + refill), and the bare loop's own walk-and-refill over typed-array page tables. Rounds
// interleave the loops; the figures are medians of per-round ratios. `--check` exits 1 on a missed
// target. Also checks that a rights-register write is O(1) and flushes nothing.
import { AccessKind, MachineEvent } from '@pkeysim/core';
import { CR4, X86Machine } from '../dist/index.js';
import { interleave, median, rate, report, requireThat } from '../../../tools/bench/harness.mjs';

const TITLE = 'x86 bench';
const STREAM = 1 << 12; // 32 KiB of addresses: the stream measures CPU work, not memory bandwidth
const READ = AccessKind.Read;
const HOT_PAGES = 64;
const MISS_PAGES = 4096; // > the 512-entry TLB, visited in order: every access misses
const USER_BASE = 0x10000000;
const KEY = 1;
const PKRU = 0x55555550; // keys 0 and 1 open, others access-disabled

function setup(pages, tlbEntries = 512) {
  const machine = new X86Machine({ cpus: 1, tlbEntries });
  const cpu = machine.cpu(0);
  const pa = machine.allocatePhysical(pages * 0x1000);
  machine.map(0, USER_BASE, pa, pages * 0x1000, { user: true, writable: true, executable: false, domain: KEY });
  cpu.movToCr4(cpu.cr4 | CR4.PKE);
  cpu.wrpkru(PKRU);
  cpu.setCpl(3);
  const addresses = new Float64Array(STREAM);
  let seed = 12345;
  for (let i = 0; i < STREAM; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const page = pages === HOT_PAGES ? seed % pages : i % pages;
    addresses[i] = USER_BASE + page * 0x1000 + (seed & 0xfff);
  }
  return { machine, cpu, addresses };
}

const hot = setup(HOT_PAGES);
const miss = setup(MISS_PAGES);
const out = new Int32Array(STREAM);

// ---- the bare reference: an Int32Array direct-mapped TLB (tag = page number), key in the flags,
// the PKRU AD bit test; and its own walk-and-refill over 4-level page tables in a Uint32Array.
const bareTags = new Int32Array(512).fill(-1);
const bareFlags = new Int32Array(512);
const bareMemory = new Uint32Array(16 * 1024); // 16 pages of "physical memory" as words
let nextTable = 1;
const ROOT = 0;
function bareEnsure(table, index) {
  const at = table * 1024 + index * 2;
  if ((bareMemory[at] & 1) === 0) bareMemory[at] = ((nextTable++ * 0x1000) | 1) >>> 0;
  return (bareMemory[at] >>> 12) & 0xfffff;
}
for (let p = 0; p < MISS_PAGES; p++) {
  const vpn = USER_BASE / 0x1000 + p;
  let table = ROOT;
  for (let level = 3; level >= 1; level--) table = bareEnsure(table, Math.floor(vpn / 2 ** (9 * level)) & 511);
  const at = table * 1024 + (vpn & 511) * 2;
  bareMemory[at] = ((p * 0x1000) | 0x7) >>> 0; // present, writable, user; frame p
  bareMemory[at + 1] = KEY << 27; // the key in bits 62:59
}

// The page numbers of the bench fit in 31 bits, so the bare walk may index with shifts.
function bareWalk(vpn) {
  let table = ROOT;
  for (let shift = 27; shift >= 0; shift -= 9) {
    const at = table * 1024 + ((vpn >>> shift) & 511) * 2;
    const lo = bareMemory[at];
    if ((lo & 1) === 0) return -1;
    if (shift === 0) {
      const slot = vpn & 511;
      bareTags[slot] = vpn;
      bareFlags[slot] = ((bareMemory[at + 1] >>> 27) & 15) << 8;
      return slot;
    }
    table = (lo >>> 12) & 0xfffff;
  }
  return -1;
}

function bareLoop(addresses, pkru) {
  let denied = 0;
  for (let i = 0; i < addresses.length; i++) {
    const vpn = Math.floor(addresses[i] / 4096);
    const slot = vpn & 511;
    if (bareTags[slot] === vpn) {
      if (((pkru >>> (((bareFlags[slot] >>> 8) & 15) << 1)) & 1) !== 0) denied++;
    } else denied++;
  }
  return denied;
}

function bareRefillLoop(addresses, pkru) {
  let denied = 0;
  for (let i = 0; i < addresses.length; i++) {
    const vpn = Math.floor(addresses[i] / 4096);
    let slot = vpn & 511;
    if (bareTags[slot] !== vpn) slot = bareWalk(vpn);
    if (slot < 0 || ((pkru >>> (((bareFlags[slot] >>> 8) & 15) << 1)) & 1) !== 0) denied++;
  }
  return denied;
}

const warmBare = () => {
  for (let p = 0; p < HOT_PAGES; p++) bareWalk(USER_BASE / 0x1000 + p); // the hot stream hits
};
warmBare();

function perAccessLoop(machine, addresses) {
  let faults = 0;
  for (let i = 0; i < addresses.length; i++) if (machine.access(0, addresses[i], READ) !== 0) faults++;
  return faults;
}

const batchLoop = (machine, addresses) => machine.accessBatch(0, addresses, READ, out);

// Every stream must be all-allowed accesses, or the loops would measure faults.
const checks = [
  perAccessLoop(hot.machine, hot.addresses),
  batchLoop(hot.machine, hot.addresses),
  bareLoop(hot.addresses, PKRU),
  perAccessLoop(miss.machine, miss.addresses),
  bareRefillLoop(miss.addresses, PKRU),
];
if (checks.some((n) => n !== 0)) throw new Error(`benchmark streams must be all allowed, got faults ${checks}`);
warmBare();

const loops = {
  bare: { run: () => bareLoop(hot.addresses, PKRU), ops: STREAM },
  perAccess: { run: () => perAccessLoop(hot.machine, hot.addresses), ops: STREAM },
  batch: { run: () => batchLoop(hot.machine, hot.addresses), ops: STREAM },
  miss: { run: () => perAccessLoop(miss.machine, miss.addresses), ops: STREAM },
  bareMiss: {
    run: () => {
      const denied = bareRefillLoop(miss.addresses, PKRU);
      warmBare();
      return denied;
    },
    ops: STREAM,
  },
};
miss.machine.events.reset();
const result = interleave(loops, 'bare');
const missWalks = miss.machine.events.get(0, MachineEvent.PageWalk);
const missAccesses = miss.machine.events.get(0, MachineEvent.Access);
requireThat(
  TITLE,
  missWalks === missAccesses,
  `the miss stream must walk on every access (${missWalks} walks, ${missAccesses} accesses)`,
);
report(
  TITLE,
  'bare',
  result,
  { perAccess: 0.5, batch: 0.8, miss: 0.07 },
  {
    bare: 'bare Int32Array TLB + PKRU loop (TLB hit)',
    perAccess: 'machine.access() per access (TLB hit)',
    batch: 'machine.accessBatch() (TLB hit)',
    miss: 'every access a TLB miss (walk + refill)',
    bareMiss: 'bare loop walk + refill (reference)',
  },
);

// A rights-register write is O(1) and flushes nothing: WRPKRU costs the same with a 512-entry and a
// 65536-entry TLB, leaves every TLB entry in place and counts no flush.
const small = setup(HOT_PAGES, 512);
const large = setup(HOT_PAGES, 65536);
for (const m of [small, large]) perAccessLoop(m.machine, m.addresses);
const flushes = (m) =>
  m.machine.events.get(0, MachineEvent.TlbFlushAll) + m.machine.events.get(0, MachineEvent.TlbFlushPage);
const state = () => [flushes(small), flushes(large), small.cpu.tlb.validEntries, large.cpu.tlb.validEntries];
const before = state();
const wrpkru = (m) => () => {
  for (let i = 0; i < 1024; i++) m.cpu.wrpkru(i & 1 ? PKRU : 0);
  return 0;
};
const sizeRatios = [];
for (let r = 0; r < 9; r++) sizeRatios.push(rate(wrpkru(large), 1024, 20) / rate(wrpkru(small), 1024, 20));
const after = state();
const sizeRatio = median(sizeRatios);
console.log(
  `${TITLE}: WRPKRU rate with a 65536-entry / a 512-entry TLB: ${sizeRatio.toFixed(2)} (O(1): about 1); ` +
    `flushes and TLB entries before ${before.join(',')}, after ${after.join(',')}`,
);
requireThat(
  TITLE,
  before.every((v, i) => v === after[i]),
  'a rights-register write flushed or dropped TLB entries',
);
requireThat(TITLE, sizeRatio > 0.5, `WRPKRU slows down with the TLB size (ratio ${sizeRatio.toFixed(2)}): not O(1)`);
