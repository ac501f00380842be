export { parsePgtableBootParams, type PgtableBootParams, type PgtableMode } from './boot-params';
export { GroupedPageCache, type GroupedPageCacheOptions, type GroupedPageCacheStats } from './grouped-cache';
export {
  PgtableGuard,
  PGTABLE_KEY_NAME,
  PGTABLE_WARNING,
  type GuardState,
  type GuardedMm,
  type PgtableFault,
  type PgtableGuardOptions,
} from './guard';
export { TableMirror, grantedBy, describeLeaf, type EffectiveLeaf, type LeafChange } from './mirror';
export * from './pte';
export {
  runPgtableCampaign,
  pgtableCampaign,
  PGTABLE_MODES,
  PGTABLE_STRAY_KINDS,
  PGTABLE_CAMPAIGN_SHAPE,
} from './campaign';
