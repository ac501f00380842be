export {
  RoAllocator,
  RoCache,
  RoObject,
  RO_KEY_NAME,
  RO_MODES,
  type RoAllocatorOptions,
  type RoMode,
  type RoState,
  type RoStrayReport,
  type RoTypeSpec,
  type RoValue,
  type RoWindow,
  type RoWriter,
  type RoWriterContext,
} from './allocator';
export * from './examples';
export {
  runRoAtRestCampaign,
  roAtRestCampaign,
  RO_STRAY_KINDS,
  RO_CAMPAIGN_SHAPE,
  roKernelConsumers,
} from './campaign';
