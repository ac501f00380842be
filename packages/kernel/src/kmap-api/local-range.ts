import type { Cpu } from '../cpu';
import { KmapApiBase, type KmapBlock, type KmapMapping, restoreReceiverKeys } from './design';

/**
 * kmap_local_range(addr, len) over several pages and keys (proposed by Matthew Wilcox at LSFMM 2022;
 * Josef Bacik: Btrfs maps 16 KiB metadata blocks). One call opens every key of the block for the
 * calling thread and one kunmap_local() closes them; rights stay per thread, as with kmap_local_page.
 */
export class KmapLocalRange extends KmapApiBase {
  readonly name = 'kmap-local-range' as const;
  readonly source = 'kmap_local_range() proposed at LSFMM 2022 (Wilcox; Bacik: Btrfs 16 KiB blocks)';

  prepare(block: KmapBlock): void {
    this.keyDirectMap(block);
    this.installFaultCallbacks(block.keys);
  }

  map(cpu: Cpu, block: KmapBlock): KmapMapping {
    const address = cpu.kmap_local_range(block.directAddress, block.length);
    return this.newMapping(cpu, block, true, { address, cap: 0 });
  }

  protected unmapOpen(cpu: Cpu, mapping: KmapMapping): void {
    cpu.kunmap_local(mapping.pointer.address);
  }

  override release(cpu: Cpu, mapping: KmapMapping): void {
    super.release(cpu, mapping);
    restoreReceiverKeys(this.kernel, cpu, mapping);
  }
}
