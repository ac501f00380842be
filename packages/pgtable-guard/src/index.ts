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
  type StoreWatch,
  type WatchedEntry,
} from './guard';
export { EntryFormat, LEVELS, USER_PGD_ENTRIES, indexAt, levelSpan, type RightBits } from './entry-format';
export { LeafReport, grantedBy, describeLeaf, leafChanges, type EffectiveLeaf, type LeafChange } from './leaf-report';
export * from './pte';
export {
  runPgtableCampaign,
  pgtableCampaign,
  PGTABLE_MODES,
  PGTABLE_STRAY_KINDS,
  PGTABLE_CAMPAIGN_SHAPE,
} from './campaign';
