import type { CampaignRunner } from '@pkeysim/kernel';
import { pgtableCampaign } from '@pkeysim/pgtable-guard';
import { pmemCampaign } from '@pkeysim/pmem';
import { roAtRestCampaign } from '@pkeysim/ro-at-rest';

/** The consumers' campaigns a sweep can run, by the name `campaigns:` uses (their `consumer`). */
export const SWEEP_CAMPAIGNS: readonly CampaignRunner[] = [pmemCampaign, pgtableCampaign, roAtRestCampaign];

export function findCampaign(name: string): CampaignRunner | undefined {
  return SWEEP_CAMPAIGNS.find((r) => r.consumer === name);
}
