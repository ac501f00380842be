// Checked accesses through the BUILT arm64-poe package against the bare TLB + rights loop in the same
// process (tools/bench/machine-bench.mjs). The issue 13 targets are set for x86; here the ratios are
// reported and the rights write (POR_EL0) is checked: O(1), no flush. `--check` exits 1 on a failure.
import { Arm64PoeMachine } from '../dist/index.js';
import { runMachineBench } from '../../../tools/bench/machine-bench.mjs';

runMachineBench({
  title: 'arm64-poe bench',
  create: (tlbEntries) => new Arm64PoeMachine({ cpus: 1, tlbEntries }),
});
