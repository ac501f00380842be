/**
 * One glibc pkey_set (read the user key register, apply the architecture's user-write rule, write
 * it) plus one user-mode load of a page tagged with that key, per architecture, against a bare loop
 * in the same run that only updates a typed-array register word and tests the key's bits. Rounds
 * interleave the loops so the ratios compare runs made under the same machine load.
 */
import '@pkeysim/x86';
import '@pkeysim/arm64-poe';
import '@pkeysim/power';
import { createKernel } from '@pkeysim/kernel';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PKEY_DISABLE_WRITE,
  PROT_READ,
  PROT_WRITE,
  UserKernel,
  type UserThread,
} from '@pkeysim/pkeys-user';
import { bench, describe } from 'vitest';

const STEPS = 1024;
const ARCHES = ['x86', 'arm64-poe', 'power'] as const;

function setup(arch: string): { t: UserThread; key: number; address: number } {
  const u = new UserKernel(createKernel({ arch, cpus: 1 }));
  const p = u.spawn('bench', 0);
  u.switchTo(p.main);
  const t = p.main;
  const key = t.pkey_alloc(0, 0);
  const address = t.mmap(0, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (key < 1 || address < 0 || t.pkey_mprotect(address, 0x1000, PROT_READ | PROT_WRITE, key) !== 0)
    throw new Error(`${arch}: set-up failed`);
  if (!t.load(address, 1).ok) throw new Error(`${arch}: the first load failed`);
  return { t, key, address };
}

const runs = Object.fromEntries(ARCHES.map((a) => [a, setup(a)]));

function userLoop({ t, key, address }: ReturnType<typeof setup>): number {
  let failed = 0;
  for (let i = 0; i < STEPS; i++) {
    t.pkey_set(key, i & 1 ? PKEY_DISABLE_WRITE : 0);
    if (!t.load(address, 1).ok) failed++;
  }
  return failed;
}

const register = new Int32Array(1);
function bareLoop(key: number): number {
  let denied = 0;
  for (let i = 0; i < STEPS; i++) {
    const shift = key << 1;
    register[0] = (register[0] & ~(3 << shift)) | ((i & 1 ? 2 : 0) << shift);
    if (((register[0] >>> shift) & 1) !== 0) denied++;
  }
  return denied;
}

function perSecond(run: () => number, ms: number): number {
  let n = 0;
  let sink = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    sink += run();
    n += STEPS;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  if (sink !== 0) throw new Error('every load must succeed and the bare loop never deny a read');
  return (n / elapsed) * 1000;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];
const ratios: Record<string, number[]> = Object.fromEntries(ARCHES.map((a) => [a, []]));
const rates: Record<string, number[]> = Object.fromEntries([...ARCHES, 'bare'].map((a) => [a, []]));
for (let r = 0; r < 15; r++) {
  const bare = perSecond(() => bareLoop(5), 30);
  const round = ARCHES.map((a) => perSecond(() => userLoop(runs[a]), 30));
  if (r < 3) continue;
  rates.bare.push(bare);
  ARCHES.forEach((a, i) => {
    rates[a].push(round[i]);
    ratios[a].push(round[i] / bare);
  });
}
const m = (v: number): string => `${(v / 1e6).toFixed(2).padStart(6)} M steps/s`;
console.log(
  [
    `user pkeys bench: bare register update + bit test   ${m(median(rates.bare))}`,
    ...ARCHES.map(
      (a) =>
        `user pkeys bench: ${a.padEnd(9)} pkey_set + load      ${m(median(rates[a]))}  /bare = ${median(ratios[a]).toFixed(4)}  /x86 = ${(median(rates[a]) / median(rates.x86)).toFixed(2)}`,
    ),
  ].join('\n'),
);

describe(`user-space pkey_set + load (${STEPS} per iteration)`, () => {
  bench('bare register update + bit test', () => void bareLoop(5));
  for (const a of ARCHES) bench(`${a}: pkey_set + user load`, () => void userLoop(runs[a]));
});
