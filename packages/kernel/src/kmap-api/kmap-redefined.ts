import type { Cpu } from '../cpu';
import { KernelError } from '../errors';
import { PAGE_SIZE } from '../layout';
import { KmapApiBase, type KmapBlock, type KmapMapping } from './design';

/**
 * kmap() redefined as "give me a kernel-accessible address for this page" (Ira Weiny at LSFMM 2022).
 * Such an address may be kept and handed to any thread, but PKS rights are per thread (the series
 * could not support global kmaps: V6 cover letter, "supporting global kmaps had many problems").
 * This design makes the promise hold the only way it can: while any kmap of a block exists, the
 * block's direct-map pages go back to the default key (set_memory_pks: PTE writes, a flush and a
 * shootdown each way) and every thread can write it. The exposure column shows what that costs.
 */
export class KmapRedefined extends KmapApiBase {
  readonly name = 'kmap-redefined' as const;
  readonly source = 'kmap() as "an address for this page" (Weiny, LSFMM 2022); global kmaps vs per-thread rights (V6)';
  private readonly holders = new Map<number, number>();

  prepare(block: KmapBlock): void {
    this.keyDirectMap(block);
    this.installFaultCallbacks(block.keys);
  }

  map(cpu: Cpu, block: KmapBlock, write: boolean): KmapMapping {
    const held = this.holders.get(block.id) ?? 0;
    if (held === 0) {
      for (let i = 0; i < block.pages; i++) {
        const result = this.kernel.set_memory_pks(block.directAddress + i * PAGE_SIZE, 1, 0);
        if (result < 0) throw new KernelError('EINVAL', `kmap-redefined: cannot open block ${block.id} (${result})`);
      }
      this.exposeStart(block);
    }
    this.holders.set(block.id, held + 1);
    return this.newMapping(cpu, block, write, { address: block.directAddress, cap: 0 });
  }

  protected unmapOpen(_cpu: Cpu, mapping: KmapMapping): void {
    const block = mapping.block;
    const held = (this.holders.get(block.id) ?? 1) - 1;
    this.holders.set(block.id, held);
    if (held > 0) return;
    this.keyDirectMap(block);
    this.exposeEnd(block);
  }
}
