import type { Cpu } from '../cpu';
import { PAGE_SIZE } from '../layout';
import { KmapApiBase, type KmapBlock, type KmapMapping } from './design';

/**
 * Long-term mappings with vmap() (LSFMM 2022: Wilcox said vmap() could be made efficient enough;
 * Weiny: that would suit long-term mappings, for which kmap() is not intended). The direct map stays
 * write-disabled by the block's keys; a writer gets a new mapping of its own in the vmalloc area with
 * its own permissions. Mapping writes PTEs; vunmap() clears them and flushes every CPU (a shootdown
 * per other CPU). The mapping is global: any thread holding the address can write while it exists.
 */
export class VmapLongTerm extends KmapApiBase {
  readonly name: 'vmap' | 'vmap-batched' = 'vmap';
  readonly source: string = 'vmap() per object for long-term mappings (Wilcox, Weiny at LSFMM 2022)';

  prepare(block: KmapBlock): void {
    this.keyDirectMap(block);
    this.installFaultCallbacks(block.keys);
  }

  map(cpu: Cpu, block: KmapBlock, write: boolean): KmapMapping {
    // Readers need no mapping: the direct map is readable (write-disabled keys).
    if (!write) return this.newMapping(cpu, block, false, { address: block.directAddress, cap: 0 });
    const address = this.mapArea(block);
    this.exposeStart(block);
    return this.newMapping(cpu, block, true, { address, cap: 0 });
  }

  protected unmapOpen(_cpu: Cpu, mapping: KmapMapping): void {
    if (!mapping.write) return;
    this.unmapArea(mapping);
  }

  /** vmap() the block's pages writable; returns the area's address. */
  protected mapArea(block: KmapBlock): number {
    const pages = Array.from({ length: block.pages }, (_, i) => block.physical + i * PAGE_SIZE);
    return this.kernel.vmap(pages, { writable: true });
  }

  /** vunmap() the area and end the block's exposure. */
  protected unmapArea(mapping: KmapMapping): void {
    this.kernel.vunmap(mapping.pointer.address);
    this.exposeEnd(mapping.block);
  }
}
