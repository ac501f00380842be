export * from './design';
export { KMAP_API_DESIGNS, createKmapApi } from './registry';
export { KmapLocalHooks } from './local-hooks';
export { KmapLocalRange } from './local-range';
export { KmapRedefined } from './kmap-redefined';
export { VmapLongTerm } from './vmap-long-term';
export { VmapBatched, VMAP_LAZY_BATCH } from './vmap-batched';
export { NoDirectMap } from './no-direct-map';
export { CapabilityKmap } from './capability';
