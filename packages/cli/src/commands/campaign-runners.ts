import type { CampaignRunner } from '@pkeysim/kernel';
import { pgtableCampaign } from '@pkeysim/pgtable-guard';
import { pmemCampaign } from '@pkeysim/pmem';
import { roAtRestCampaign } from '@pkeysim/ro-at-rest';

/**
 * Every consumer's campaign. To add one, import its `CampaignRunner` here and name its package in
 * campaign.ts's CAMPAIGN_PACKAGES: the command, its help, option checks, table and JSON line work
 * for it unchanged (docs/campaigns.md). `pkeysim campaign NAME` imports only NAME's package; the
 * demo, which runs them all, imports this module.
 */
export const CAMPAIGN_RUNNERS: readonly CampaignRunner[] = [pmemCampaign, pgtableCampaign, roAtRestCampaign];
