export {
  BTRFS_KEYS,
  CAPABILITY_ARCH,
  KMAP_MODES,
  KMAP_STRAY_KINDS,
  designTable,
  kmapApisCampaign,
  runKmapApisCampaign,
  runKmapDesign,
  type KmapCampaignResult,
  type KmapDesignResult,
} from './campaign';
export { KMAP_CAMPAIGN_SHAPE } from './shape';
export { UnprotectedKmap } from './unprotected';
