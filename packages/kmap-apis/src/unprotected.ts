import { type Cpu, KmapApiBase, type KmapBlock, type KmapMapping } from '@pkeysim/kernel';

/**
 * The workload with protection off: page_address() and no keys, the baseline every design is
 * compared with (what `--protection off` runs).
 */
export class UnprotectedKmap extends KmapApiBase {
  readonly name = 'unprotected' as const;
  readonly source = 'no protection: page_address() of an unkeyed direct map';

  /** Every block is writable by every thread for the whole run. */
  prepare(block: KmapBlock): void {
    this.exposeStart(block);
  }

  /** Map a block at its direct-map address, with no key and no capability. */
  map(cpu: Cpu, block: KmapBlock, write: boolean): KmapMapping {
    return this.newMapping(cpu, block, write, { address: block.directAddress, cap: 0 });
  }

  protected unmapOpen(): void {}
}
