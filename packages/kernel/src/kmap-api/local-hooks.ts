import type { Cpu } from '../cpu';
import { PAGE_SIZE } from '../layout';
import { KmapApiBase, type KmapBlock, type KmapMapping, restoreReceiverKeys } from './design';

/**
 * Today's hooks (V10 "mm/pkeys: Add PKS support to kmap", include/linux/highmem-internal.h):
 * kmap_local_page()/kunmap_local() open and close the page's key for the calling thread, one page
 * at a time. A 16 KiB block is four nested windows; a window handed to another thread faults there.
 */
export class KmapLocalHooks extends KmapApiBase {
  readonly name = 'kmap-local' as const;
  readonly source = 'V10 kmap_local_page()/kmap_atomic() hooks (PKS series, April 2022)';

  prepare(block: KmapBlock): void {
    this.keyDirectMap(block);
    this.installFaultCallbacks(block.keys);
  }

  map(cpu: Cpu, block: KmapBlock): KmapMapping {
    for (let i = 0; i < block.pages; i++) cpu.kmap_local_page(block.physical + i * PAGE_SIZE);
    return this.newMapping(cpu, block, true, { address: block.directAddress, cap: 0 });
  }

  protected unmapOpen(cpu: Cpu, mapping: KmapMapping): void {
    for (let i = mapping.block.pages - 1; i >= 0; i--) cpu.kunmap_local(mapping.block.directAddress + i * PAGE_SIZE);
  }

  /** The receiver's key was opened by the fault callback; put its default back. */
  override release(cpu: Cpu, mapping: KmapMapping): void {
    super.release(cpu, mapping);
    restoreReceiverKeys(this.kernel, cpu, mapping);
  }
}
