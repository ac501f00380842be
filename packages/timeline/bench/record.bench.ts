import '@pkeysim/x86';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseScenario, runScenario } from '@pkeysim/scenario';
import { bench, describe } from 'vitest';
import { recordScenario, toTraceEvents } from '../src/index';

/**
 * What recording costs: a plain scenario run (the baseline, no observer) against the same run
 * recorded step by step, and recorded then exported as Chrome Trace Events, in the same process.
 */
const options = { iterations: 50, warmupIterations: 5, time: 0, warmupTime: 0 } as const;

for (const name of ['rfc-v1-interrupt.yaml', 'pmem-stray-write.yaml']) {
  const loaded = parseScenario(readFileSync(resolve(import.meta.dirname, '../../../examples', name), 'utf8'), name);
  describe(name, () => {
    bench('plain run (baseline)', () => void runScenario(loaded), options);
    bench('recorded', () => void recordScenario(loaded), options);
    bench(
      'recorded + trace export',
      () => void JSON.stringify(toTraceEvents(recordScenario(loaded).timeline)),
      options,
    );
  });
}
