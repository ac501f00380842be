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
  for (let i = 0; i < 20; i++) loop();
  const start = performance.now();
  let rounds = 0;
  while (performance.now() - start < 300) {
    loop();
    rounds++;
  }
  return (rounds * STREAM) / ((performance.now() - start) / 1000);
}

const base = rate(plain);
const via = rate(checked);
console.log(
  `plain accesses ${(base / 1e6).toFixed(2)} M/s, through a capability ${(via / 1e6).toFixed(2)} M/s: ` +
    `${(via / base).toFixed(2)}x the baseline`,
);

describe('capability checks (TLB-hit stream)', () => {
  bench('plain access (baseline)', () => void plain());
  bench('accessVia (capability checked)', () => void checked());
});
