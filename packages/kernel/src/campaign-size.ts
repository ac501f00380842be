import type { CampaignKnob, CampaignOptions } from './campaign';
import { KernelError } from './errors';

/**
 * The bounds of the size knobs, inclusive. They keep one run's memory and time bounded (the largest
 * run, 64 workers x 10,000 ops, takes minutes, not hours) and the scheduler's step limit meaningful.
 */
export const CAMPAIGN_LIMITS: Readonly<Record<CampaignKnob, { readonly min: number; readonly max: number }>> =
  Object.freeze({
    threads: { min: 1, max: 64 },
    ops: { min: 1, max: 10_000 },
    spaces: { min: 1, max: 64 },
    cpus: { min: 1, max: 64 },
  });

/** Stray writes injected per worker thread: 24 for the default 3 workers, as before the knobs existed. */
export const STRAYS_PER_WORKER = 8;

/** A campaign's resolved size. */
export interface CampaignSize {
  readonly workers: number;
  readonly opsPerWorker: number;
  readonly strays: number;
  readonly spaces: number;
  readonly cpus: number;
}

/**
 * The size a run uses: the options' knobs over the consumer's default shape, each checked against
 * {@link CAMPAIGN_LIMITS} (EINVAL naming the knob and its bounds).
 */
export function campaignSize(
  options: CampaignOptions,
  shape: { readonly workers: number; readonly opsPerWorker: number; readonly addressSpaces?: number },
): CampaignSize {
  const pick = (knob: CampaignKnob, value: number | undefined, fallback: number): number => {
    const n = value ?? fallback;
    const { min, max } = CAMPAIGN_LIMITS[knob];
    if (!Number.isInteger(n) || n < min || n > max)
      throw new KernelError(
        'EINVAL',
        `campaign: ${knob} must be a whole number from ${min} to ${max}, got ${String(n)}`,
      );
    return n;
  };
  const workers = pick('threads', options.threads, shape.workers);
  return {
    workers,
    opsPerWorker: pick('ops', options.ops, shape.opsPerWorker),
    strays: workers * STRAYS_PER_WORKER,
    spaces: pick('spaces', options.spaces, shape.addressSpaces ?? 1),
    cpus: pick('cpus', options.cpus, 2),
  };
}

/**
 * How many scheduling decisions a run of this size may take before it is declared stuck (a bug).
 * The default size gets the fixed limit campaigns always had; larger runs get room in proportion.
 */
export function campaignMaxSteps(size: CampaignSize): number {
  return 200_000 + 200 * (size.workers * size.opsPerWorker + size.strays);
}
