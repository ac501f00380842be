import { CAMPAIGN_LIMITS, type CampaignKnob, type CampaignRunner } from '@pkeysim/kernel';
import { InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors';

/** The size flags `campaign` and `demo` share, as parsed. */
export interface SizeFlags {
  threads?: number;
  ops?: number;
  spaces?: number;
  cpus?: number;
}

const KNOB_HELP: Record<CampaignKnob, string> = {
  threads: 'worker threads (8 stray writers come with each)',
  ops: 'legitimate operations per worker',
  spaces: 'address spaces (pgtable)',
  cpus: 'number of CPUs',
};

/** A whole number inside the knob's bounds (CAMPAIGN_LIMITS), or a usage error naming them. */
function parseKnob(knob: CampaignKnob) {
  const { min, max } = CAMPAIGN_LIMITS[knob];
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** The consumers' shape: what a knob left out means (every campaign has 3 workers, 20 ops; pgtable 2 spaces). */
const SHAPE_DEFAULTS = { threads: 3, ops: 20, spaces: 2 } as const;

/** `--threads`, `--ops`, `--spaces` (and `--cpus` with `defaultCpus`), each with its bounds in the help. */
export function sizeOptions(defaultCpus: number): Option[] {
  const options = (['threads', 'ops', 'spaces'] as const).map((knob) => {
    const { min, max } = CAMPAIGN_LIMITS[knob];
    return new Option(
      `--${knob} <n>`,
      `${KNOB_HELP[knob]}, ${min}..${max} (default: ${SHAPE_DEFAULTS[knob]})`,
    ).argParser(parseKnob(knob));
  });
  const { min, max } = CAMPAIGN_LIMITS.cpus;
  options.push(
    new Option('--cpus <n>', `${KNOB_HELP.cpus}, ${min}..${max}`).argParser(parseKnob('cpus')).default(defaultCpus),
  );
  return options;
}

/** Refuse a size knob the consumer's workload does not have (e.g. --spaces for pmem). */
export function checkKnobs(runner: CampaignRunner, flags: SizeFlags): void {
  for (const knob of ['threads', 'ops', 'spaces'] as const) {
    if (flags[knob] !== undefined && !(runner.knobs ?? []).includes(knob))
      throw new UsageError(`--${knob}: the ${runner.consumer} campaign has no ${knob} to size`);
  }
}

/** The knobs of `flags` the runner honours, as CampaignOptions fields. */
export function knobsFor(
  runner: CampaignRunner,
  flags: SizeFlags,
): { threads?: number; ops?: number; spaces?: number } {
  const knobs = runner.knobs ?? [];
  return {
    ...(flags.threads !== undefined && knobs.includes('threads') ? { threads: flags.threads } : {}),
    ...(flags.ops !== undefined && knobs.includes('ops') ? { ops: flags.ops } : {}),
    ...(flags.spaces !== undefined && knobs.includes('spaces') ? { spaces: flags.spaces } : {}),
  };
}
