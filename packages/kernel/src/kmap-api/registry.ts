import type { Kernel } from '../kernel';
import { CapabilityKmap } from './capability';
import type { KmapApi, KmapApiName, KmapApiOptions } from './design';
import { KmapRedefined } from './kmap-redefined';
import { KmapLocalHooks } from './local-hooks';
import { KmapLocalRange } from './local-range';
import { NoDirectMap } from './no-direct-map';
import { VmapBatched } from './vmap-batched';
import { VmapLongTerm } from './vmap-long-term';

/** Every kmap API design, selectable by name, in the order reports list them. */
export const KMAP_API_DESIGNS: readonly KmapApiName[] = [
  'kmap-local',
  'kmap-local-range',
  'kmap-redefined',
  'vmap',
  'vmap-batched',
  'no-direct-map',
  'capability',
];

const FACTORIES: Record<KmapApiName, new (kernel: Kernel, options: KmapApiOptions) => KmapApi> = {
  'kmap-local': KmapLocalHooks,
  'kmap-local-range': KmapLocalRange,
  'kmap-redefined': KmapRedefined,
  vmap: VmapLongTerm,
  'vmap-batched': VmapBatched,
  'no-direct-map': NoDirectMap,
  capability: CapabilityKmap,
};

/** Select a kmap API design for a booted kernel (the kernel option `kmap_api=<name>`). */
export function createKmapApi(kernel: Kernel, name: KmapApiName, options: KmapApiOptions): KmapApi {
  const factory = FACTORIES[name];
  if (!factory) throw new RangeError(`no kmap API design "${String(name)}" (designs: ${KMAP_API_DESIGNS.join(', ')})`);
  return new factory(kernel, options);
}
