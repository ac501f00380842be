// Checked accesses through the BUILT power package against the bare TLB + rights loop in the same
// process (tools/bench/machine-bench.mjs). The issue 13 targets are set for x86; here the ratios are
// reported and the rights write (AMR) is checked: O(1), no flush. `--check` exits 1 on a failure.
import { PowerMachine } from '../dist/index.js';
import { runMachineBench } from '../../../tools/bench/machine-bench.mjs';

runMachineBench({
  title: 'power bench',
  create: (tlbEntries) => new PowerMachine({ cpus: 1, tlbEntries }),
});
