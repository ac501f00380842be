import type { Cpu } from '../cpu';
import { KernelError } from '../errors';
import { PAGE_SIZE, VMAP_BASE, VMAP_SIZE } from '../layout';
import type { KmapBlock, KmapMapping } from './design';
import { VmapLongTerm } from './vmap-long-term';

/** Areas per lane: one flush of the whole lane and one round of shootdowns per this many vunmaps. */
export const VMAP_LAZY_BATCH = 8;
/** The lanes live in the upper half of the vmalloc area, away from vmap()'s own areas. */
const LANE_BASE = VMAP_BASE + VMAP_SIZE / 2;
const LANE_LIMIT = VMAP_BASE + VMAP_SIZE;

interface Lane {
  readonly base: number;
  next: number;
  live: number;
  freed: number;
  readonly exposed: KmapBlock[];
}

/**
 * A cheaper vmap() for long-term mappings: vunmap() is lazy, as Linux's vmap_purge_lazy
 * (mm/vmalloc.c, lazy_max_pages) already is. Areas are packed into lanes of VMAP_LAZY_BATCH; a lane
 * is torn down with one unmap of its whole range (one flush per CPU, one shootdown per other CPU)
 * once every area in it has been released. The price: a released area stays mapped, and writable
 * through a stale pointer, until its lane is purged. Exposure counts it.
 */
export class VmapBatched extends VmapLongTerm {
  override readonly name = 'vmap-batched' as const;
  override readonly source = 'cheaper vmap() (Wilcox, LSFMM 2022) with lazy, batched purges (mm/vmalloc.c lazy purge)';
  private lane: Lane | undefined;
  private readonly lanes: Lane[] = [];
  private nextLane = LANE_BASE;
  private readonly laneOf = new Map<number, Lane>();

  /** Place the block in the current lazy lane (a new lane when it is full) and map it there. */
  protected override mapArea(block: KmapBlock): number {
    let lane = this.lane;
    const length = block.length;
    if (!lane || lane.next + length > lane.base + VMAP_LAZY_BATCH * length) {
      if (this.nextLane + VMAP_LAZY_BATCH * length > LANE_LIMIT)
        throw new KernelError('ENOSPC', 'vmap-batched: the lazy vmap lanes are full');
      lane = { base: this.nextLane, next: this.nextLane, live: 0, freed: 0, exposed: [] };
      this.nextLane += VMAP_LAZY_BATCH * length + PAGE_SIZE;
      this.lanes.push(lane);
      this.lane = lane;
    }
    const address = lane.next;
    const space = this.kernelSpace();
    for (let i = 0; i < block.pages; i++) {
      this.kernel.machine.map(space, address + i * PAGE_SIZE, block.physical + i * PAGE_SIZE, PAGE_SIZE, {
        user: false,
        writable: true,
        executable: false,
        global: true,
      });
    }
    lane.next += length;
    lane.live++;
    this.laneOf.set(address, lane);
    return address;
  }

  /** Lazy: the area stays mapped (and exposed) until its whole lane can be purged. */
  protected override unmapArea(mapping: KmapMapping): void {
    const lane = this.laneOf.get(mapping.pointer.address);
    if (!lane) throw new KernelError('EINVAL', 'vmap-batched: not a lazy vmap area');
    lane.live--;
    lane.freed++;
    lane.exposed.push(mapping.block);
    if (lane.live === 0 && lane !== this.lane) this.purge(lane);
    else if (lane.live === 0 && lane.freed === VMAP_LAZY_BATCH) {
      this.lane = undefined;
      this.purge(lane);
    }
  }

  override finish(cpu: Cpu): void {
    super.finish(cpu);
    for (const lane of [...this.lanes]) if (lane.live === 0) this.purge(lane);
  }

  private purge(lane: Lane): void {
    if (lane.next > lane.base) this.kernel.machine.unmap(this.kernelSpace(), lane.base, lane.next - lane.base);
    for (const block of lane.exposed) this.exposeEnd(block);
    lane.exposed.length = 0;
    this.lanes.splice(this.lanes.indexOf(lane), 1);
    if (this.lane === lane) this.lane = undefined;
  }

  private kernelSpace(): number {
    return this.kernel.machine.activeSpace(0);
  }
}
