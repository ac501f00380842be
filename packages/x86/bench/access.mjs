// Checked accesses through the BUILT x86 package against a bare Int32Array TLB + PKRU loop in the
// same process (tools/bench/machine-bench.mjs): per-access machine.access(), machine.accessBatch(),
// a stream where every access misses the TLB (walk + refill), and the bare loop's own walk-and-refill.
// Rounds interleave the loops, timed in CPU time; the figures are medians of per-round ratios with
// their range. Targets of issue 13; `--check` exits 1 when one is missed, or when a PKRU write
// (WRPKRU, through the PKU domain space) is not O(1) or flushes the TLB.
import { X86Machine } from '../dist/index.js';
import { runMachineBench } from '../../../tools/bench/machine-bench.mjs';

runMachineBench({
  title: 'x86 bench',
  create: (tlbEntries) => new X86Machine({ cpus: 1, tlbEntries }),
  targets: { perAccess: 0.5, batch: 0.8, miss: 0.07 },
});
