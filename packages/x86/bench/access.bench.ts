/**
 * Checked accesses per second on a TLB-hit stream (per-access call and batch API) against, in the
 * same run, a bare loop doing only a direct-mapped typed-array tag compare and the PKRU bit test;
 * plus a TLB-miss stream (walk and refill). Prints the figures and ratios, then lets vitest bench
 * time the same loops.
 */
import { bench, describe } from 'vitest';
import { AccessKind } from '@pkeysim/core';
import { CR4, X86Machine, type X86Cpu } from '../src/index';

const STREAM = 1 << 12; // 32 KiB of addresses: the stream measures CPU work, not memory bandwidth
// A local copy: vitest turns each use of an imported binding into a property read.
const READ = AccessKind.Read;
const HOT_PAGES = 64;
const MISS_PAGES = 4096;
const USER_BASE = 0x10000000;
const PKRU = 0x55555550; // keys 0 and 1 open, others access-disabled

function setup(pages: number): { cpu: X86Cpu; addresses: Float64Array } {
  const machine = new X86Machine({ cpus: 1, tlbEntries: 512 });
  const cpu = machine.cpu(0);
  const pa = machine.allocatePhysical(pages * 0x1000);
  machine.map(0, USER_BASE, pa, pages * 0x1000, { user: true, writable: true, executable: false, domain: 1 });
  cpu.movToCr4(cpu.cr4 | CR4.PKE);
  cpu.wrpkru(PKRU);
  cpu.setCpl(3);
  const addresses = new Float64Array(STREAM);
  let seed = 12345;
  for (let i = 0; i < STREAM; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const page = pages === HOT_PAGES ? seed % pages : i % pages; // the miss stream cycles > TLB size
    addresses[i] = USER_BASE + page * 0x1000 + (seed & 0xfff);
  }
  return { cpu, addresses };
}

const hot = setup(HOT_PAGES);
const miss = setup(MISS_PAGES);
const out = new Int32Array(STREAM);

// The bare baseline: a direct-mapped TLB of the same shape, tag compare + PKRU AD bit test only.
const bareTags = new Float64Array(512).fill(NaN);
const bareFlags = new Int32Array(512);
for (let p = 0; p < HOT_PAGES; p++) {
  const vpn = USER_BASE / 0x1000 + p;
  bareTags[vpn & 511] = vpn;
  bareFlags[vpn & 511] = 1 << 8; // key 1
}

function bareLoop(addresses: Float64Array, pkru: number): number {
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

function perAccessLoop(cpu: X86Cpu, addresses: Float64Array): number {
  let faults = 0;
  for (let i = 0; i < addresses.length; i++) if (cpu.access(addresses[i], READ) !== 0) faults++;
  return faults;
}

function batchLoop(cpu: X86Cpu, addresses: Float64Array): number {
  return cpu.accessBatch(addresses, READ, out);
}

/** Accesses per second of one ~`ms` round. */
function round(run: () => number, ms: number): number {
  let n = 0;
  let sink = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    sink += run();
    n += STREAM;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  if (sink < 0) console.log(sink);
  return (n / elapsed) * 1000;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];

function verify(): void {
  if (
    perAccessLoop(hot.cpu, hot.addresses) !== 0 ||
    batchLoop(hot.cpu, hot.addresses) !== 0 ||
    bareLoop(hot.addresses, PKRU) !== 0
  ) {
    throw new Error('benchmark streams must be all-allowed TLB hits');
  }
}

verify();
// Rounds interleave the three loops, so each ratio compares runs made under the same machine load;
// the figures are the medians over the rounds (the machine may be shared).
const bareRuns: number[] = [];
const perRuns: number[] = [];
const batchRuns: number[] = [];
const perRatios: number[] = [];
const batchRatios: number[] = [];
for (let r = 0; r < 25; r++) {
  const bare = round(() => bareLoop(hot.addresses, PKRU), 40);
  const per = round(() => perAccessLoop(hot.cpu, hot.addresses), 40);
  const batch = round(() => batchLoop(hot.cpu, hot.addresses), 40);
  if (r < 5) continue; // warm-up rounds
  bareRuns.push(bare);
  perRuns.push(per);
  batchRuns.push(batch);
  perRatios.push(per / bare);
  batchRatios.push(batch / bare);
}
const missRate = median([0, 1, 2, 3, 4].map(() => round(() => perAccessLoop(miss.cpu, miss.addresses), 40)));
const bare = median(bareRuns);
const m = (r: number): string => `${(r / 1e6).toFixed(1).padStart(7)} M accesses/s`;
console.log(
  [
    `x86 bench: bare loop (tag compare + PKRU bit)  ${m(bare)}`,
    `x86 bench: per-access cpu.access() TLB hit     ${m(median(perRuns))}  per-access/bare = ${median(perRatios).toFixed(2)} (target >= 0.25)`,
    `x86 bench: batch cpu.accessBatch() TLB hit     ${m(median(batchRuns))}  batch/bare = ${median(batchRatios).toFixed(2)} (target >= 0.5)`,
    `x86 bench: TLB-miss stream (walk + refill)     ${m(missRate)}  miss/bare = ${(missRate / bare).toFixed(3)}`,
  ].join('\n'),
);

describe('x86 checked accesses (4096 per iteration)', () => {
  bench('bare tag compare + PKRU bit', () => void bareLoop(hot.addresses, PKRU));
  bench('per-access cpu.access (TLB hit)', () => void perAccessLoop(hot.cpu, hot.addresses));
  bench('batch cpu.accessBatch (TLB hit)', () => void batchLoop(hot.cpu, hot.addresses));
  bench('per-access cpu.access (TLB miss: walk + refill)', () => void perAccessLoop(miss.cpu, miss.addresses));
});
