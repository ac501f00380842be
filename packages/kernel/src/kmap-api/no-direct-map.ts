import type { Cpu } from '../cpu';
import { PAGE_SIZE } from '../layout';
import { KmapApiBase, type KmapBlock, type KmapMapping } from './design';

/**
 * No direct map: the blocks' pages are removed from the kernel's identity mapping and every access,
 * read or write, needs an explicit map (Weiny at LSFMM 2022: "eliminate the direct map entirely and
 * always require memory to be mapped explicitly, but that approach probably would not perform
 * well"). A map is a vmap() with the permissions asked for; page_address() leads nowhere.
 */
export class NoDirectMap extends KmapApiBase {
  readonly name = 'no-direct-map' as const;
  readonly source = 'no direct map, always map explicitly (Weiny, LSFMM 2022)';

  prepare(block: KmapBlock): void {
    this.kernel.machine.unmap(this.kernel.machine.activeSpace(0), block.directAddress, block.length);
  }

  map(cpu: Cpu, block: KmapBlock, write: boolean): KmapMapping {
    const pages = Array.from({ length: block.pages }, (_, i) => block.physical + i * PAGE_SIZE);
    const address = this.kernel.vmap(pages, { writable: write });
    if (write) this.exposeStart(block);
    return this.newMapping(cpu, block, write, { address, cap: 0 });
  }

  protected unmapOpen(_cpu: Cpu, mapping: KmapMapping): void {
    this.kernel.vunmap(mapping.pointer.address);
    if (mapping.write) this.exposeEnd(mapping.block);
  }
}
