import type { CampaignRunner } from '@pkeysim/kernel';
import { kmapApisCampaign } from '@pkeysim/kmap-apis';

/**
 * Campaigns that compare kernel API designs rather than protect a consumer: `pkeysim campaign` runs
 * them like the others, but the demo's per-scheme totals leave them out (several of their designs
 * are meant to let strays through: that is what they measure).
 */
export const API_CAMPAIGN_RUNNERS: readonly CampaignRunner[] = [kmapApisCampaign];
