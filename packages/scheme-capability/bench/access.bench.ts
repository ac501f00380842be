/**
 * The price of a capability check: accesses through a capability (accessVia: bounds, permission and
 * tag read from typed arrays, then the x86 access) against, in the same run, the same stream of
 * plain accesses on the same machine (the baseline: x86 alone). Prints both rates and the ratio,
 * then lets vitest bench time the same loops.
 */
import { bench, describe } from 'vitest';
import { AccessKind, CapPerm, createMachine, Privilege, ROOT_CAPABILITY } from '@pkeysim/core';
import '../src/index';
import type { CapabilityMachine } from '../src/index';

const STREAM = 1 << 12;
const PAGES = 64;
const BASE = -0x778000000000;
const WRITE = AccessKind.Write;

const machine = createMachine({ arch: 'capability', cpus: 1 }).machine as CapabilityMachine;
const space = machine.createAddressSpace();
machine.map(space, BASE, machine.allocatePhysical(PAGES * 0x1000), PAGES * 0x1000, {
  user: false,
  writable: true,
  executable: false,
});
machine.activate(0, space);
machine.setMode(0, Privilege.Supervisor);
const cap = machine.derive(ROOT_CAPABILITY, BASE, PAGES * 0x1000, CapPerm.Load | CapPerm.Store, 'bench');
const addresses = new Float64Array(STREAM);
let seed = 12345;
for (let i = 0; i < STREAM; i++) {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  addresses[i] = BASE + (seed % PAGES) * 0x1000 + (seed & 0xff8);
}

const x86 = machine.x86;
/** The bare baseline: the x86 machine below, without the capability layer. */
function bare(): number {
  let faults = 0;
  for (let i = 0; i < STREAM; i++) if (x86.access(0, addresses[i], WRITE) !== 0) faults++;
  return faults;
}
function plain(): number {
  let faults = 0;
  for (let i = 0; i < STREAM; i++) if (machine.access(0, addresses[i], WRITE) !== 0) faults++;
  return faults;
}
function checked(): number {
  let faults = 0;
  for (let i = 0; i < STREAM; i++) if (machine.accessVia(0, cap, addresses[i], WRITE) !== 0) faults++;
  return faults;
}

function rate(loop: () => number): number {
  const start = performance.now();
  let rounds = 0;
  while (performance.now() - start < 200) {
    loop();
    rounds++;
  }
  return (rounds * STREAM) / ((performance.now() - start) / 1000);
}

// Warm every loop up first, then alternate the measurements and keep each one's median.
for (const loop of [bare, plain, checked]) for (let i = 0; i < 30; i++) loop();
const runs: Record<string, number[]> = { bare: [], plain: [], checked: [] };
for (let k = 0; k < 5; k++) {
  runs.bare.push(rate(bare));
  runs.plain.push(rate(plain));
  runs.checked.push(rate(checked));
}
const median = (x: number[]) => x.sort((a, b) => a - b)[2];
const [b, p, c] = [median(runs.bare), median(runs.plain), median(runs.checked)];
console.log(
  `x86 alone ${(b / 1e6).toFixed(2)} M/s, plain ${(p / 1e6).toFixed(2)} M/s, through a capability ` +
    `${(c / 1e6).toFixed(2)} M/s: ${(c / p).toFixed(2)}x plain, ${(c / b).toFixed(2)}x x86 alone`,
);

describe('capability checks (TLB-hit stream)', () => {
  bench('x86 alone (baseline)', () => void bare());
  bench('plain access', () => void plain());
  bench('accessVia (capability checked)', () => void checked());
});
