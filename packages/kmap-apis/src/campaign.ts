import { listPlugins, MachineEvent } from '@pkeysim/core';
import {
  type CampaignOptions,
  type CampaignResult,
  type CampaignRunner,
  type CampaignTable,
  campaignSpawner,
  createKernel,
  createKmapApi,
  DEFAULT_STATIC_CONSUMERS,
  KernelError,
  KMAP_API_DESIGNS,
  type KmapApi,
  type KmapApiName,
  type KmapBlock,
  type KmapMapping,
  type KmapMisuseKind,
  PAGE_SIZE,
  Prng,
  runMeasuredCampaign,
  Scheduler,
  snapshotEvents,
  type StaticConsumer,
  type StrayCount,
  type StrayKind,
  StrayTally,
  type ThreadContext,
} from '@pkeysim/kernel';
import { KMAP_CAMPAIGN_SHAPE, MAX_WAIT } from './shape';
import { UnprotectedKmap } from './unprotected';

/** The two keys Btrfs metadata pages alternate between (a block spans pages and keys), write-disabled at rest. */
export const BTRFS_KEYS: readonly StaticConsumer[] = Object.freeze([
  { name: 'PKS_KEY_BTRFS_META_A', defaultRights: 'wd' },
  { name: 'PKS_KEY_BTRFS_META_B', defaultRights: 'wd' },
]);

/** The stray-access kinds the kmap campaign injects and tallies. */
export const KMAP_STRAY_KINDS: readonly StrayKind[] = [
  'random-address',
  'wrong-thread',
  'write-after-kunmap',
  'out-of-bounds',
  'missing-permission',
];

/** The fault modes the kmap campaign accepts (strict or relaxed). */
export const KMAP_MODES = ['strict', 'relaxed'] as const;

/** The capability design runs on a machine with pointer authority: this plugin, when it is registered. */
export const CAPABILITY_ARCH = 'capability';

/** What one design did with the workload. */
export interface KmapDesignResult {
  readonly design: KmapApiName | 'unprotected';
  readonly source: string;
  readonly arch: string;
  /** Set when the design could not run on this machine: why. */
  readonly unsupported?: string;
  readonly strays_attempted: number;
  readonly strays_caught: number;
  readonly by_kind: Readonly<Partial<Record<StrayKind, StrayCount>>>;
  /** Byte-ticks a block was writable by threads other than the one that mapped it. */
  readonly exposure: number;
  readonly misuses_detected: number;
  readonly misuses_by_kind: Readonly<Partial<Record<KmapMisuseKind, number>>>;
  /** Legitimate accesses that failed (a design that breaks correct code). */
  readonly legit_failures: number;
  /** Blocks whose contents differ from what their writers meant. */
  readonly blocks_corrupted: number;
  readonly rights_writes: number;
  readonly pte_writes: number;
  readonly tlb_flushes: number;
  readonly shootdowns: number;
  readonly capability_checks: number;
  /** Changes of the live rights (opening and closing windows, context switches, entries). */
  readonly domain_switches: number;
  /** Modeled cycles of the switching traffic (register writes, PTE writes, flushes, shootdowns). */
  readonly switch_cycles: number;
  readonly modeled_cycles: number;
  readonly first_misuse?: string;
}

/** A kmap campaign's result: the common campaign fields plus one entry per design. */
export interface KmapCampaignResult extends CampaignResult {
  readonly designs: readonly KmapDesignResult[];
}

const ITEM_REGION_END = KMAP_CAMPAIGN_SHAPE.blockPages * PAGE_SIZE - 16;

/**
 * Run the Btrfs-like metadata workload under one design on a fresh kernel: writers fill items in
 * 16 KiB blocks (holding their mapping across preemption points), some hand their mapping to a
 * flusher thread that writes the checksum (a long-lived mapping crossing threads), readers read,
 * while unrelated or buggy code injects stray writes and API misuse.
 */
export function runKmapDesign(
  design: KmapApiName | 'unprotected',
  options: CampaignOptions,
  arch: string,
): KmapDesignResult {
  const shape = KMAP_CAMPAIGN_SHAPE;
  const kernel = createKernel({
    arch,
    cpus: options.cpus ?? 2,
    seed: options.seed,
    keyDesign: 'static',
    consumers: [...DEFAULT_STATIC_CONSUMERS, ...BTRFS_KEYS],
  });
  let clock = 0;
  const apiOptions = {
    clock: () => clock,
    mode: options.mode === 'relaxed' ? ('relaxed' as const) : ('strict' as const),
  };
  let api: KmapApi;
  const keyA = kernel.keyOf(BTRFS_KEYS[0].name) ?? 0;
  const keyB = kernel.keyOf(BTRFS_KEYS[1].name) ?? 0;
  const blocks: KmapBlock[] = [];
  // One spare block after the last, prepared like the others, so an overrun hits metadata, not free memory.
  // One allocation: blocks are contiguous, so an overrun of one lands in the next (never in a page table).
  const first = kernel.alloc_pages((shape.blocks + 1) * shape.blockPages);
  for (let b = 0; b <= shape.blocks; b++) {
    const physical = first + b * shape.blockPages * PAGE_SIZE;
    blocks.push({
      id: b,
      physical,
      pages: shape.blockPages,
      length: shape.blockPages * PAGE_SIZE,
      directAddress: kernel.page_address(physical),
      keys: Array.from({ length: shape.blockPages }, (_, i) => ((b + i) % 2 === 0 ? keyA : keyB)),
    });
  }
  try {
    api =
      design === 'unprotected' ? new UnprotectedKmap(kernel, apiOptions) : createKmapApi(kernel, design, apiOptions);
    for (const block of blocks) api.prepare(block);
  } catch (error) {
    return unsupportedRow(design, arch, (error as Error).message);
  }
  const source = api.source;
  const work = blocks.slice(0, shape.blocks);
  const shadow = work.map((b) => new Uint8Array(b.length));
  const prng = new Prng((options.seed ^ 0x5bd1e995) >>> 0);
  const scheduler = new Scheduler(kernel, options.seed);
  const tally = new StrayTally(KMAP_STRAY_KINDS);
  const busy = new Array<boolean>(work.length).fill(false);
  const open: KmapMapping[] = [];
  const handOff: KmapMapping[] = [];
  const finished = new Set<KmapMapping>();
  let legitFailures = 0;
  let writersLeft = shape.writers;

  const tick = () => clock++;
  const fail = (): void => {
    legitFailures++;
  };

  function* lockBlock(): Generator<unknown, number | undefined> {
    for (let i = 0; i < MAX_WAIT; i++) {
      const b = prng.below(work.length);
      if (!busy[b]) {
        busy[b] = true;
        return b;
      }
      tick();
      yield;
    }
    return undefined;
  }

  function* writer(self: ThreadContext) {
    for (let op = 0; op < shape.opsPerThread; op++) {
      const b = yield* lockBlock();
      if (b === undefined) continue;
      const block = work[b];
      const mapping = api.map(self.cpu, block, true);
      open.push(mapping);
      for (let item = 0; item < shape.itemsPerWrite; item++) {
        const offset = prng.below(ITEM_REGION_END / shape.itemBytes) * shape.itemBytes;
        const bytes = Uint8Array.from({ length: shape.itemBytes }, () => 1 + prng.below(255));
        if (!api.store(self.cpu, mapping.pointer, offset, bytes).ok) {
          fail();
          return;
        }
        shadow[b].set(bytes, offset);
        tick();
        yield;
      }
      if (prng.below(shape.handOverOneIn) === 0) {
        handOff.push(mapping);
        for (let i = 0; i < MAX_WAIT && !finished.has(mapping); i++) {
          tick();
          yield;
        }
      }
      open.splice(open.indexOf(mapping), 1);
      api.unmap(self.cpu, mapping);
      busy[b] = false;
      tick();
      yield;
    }
    writersLeft--;
  }

  function* flusher(self: ThreadContext) {
    for (let i = 0; i < MAX_WAIT * shape.opsPerThread && (writersLeft > 0 || handOff.length > 0); i++) {
      const mapping = handOff.shift();
      if (mapping) {
        api.receive(self.cpu, mapping);
        const sum = checksum(shadow[mapping.block.id]);
        if (!api.store(self.cpu, mapping.pointer, ITEM_REGION_END, sum).ok) {
          fail();
          return;
        }
        shadow[mapping.block.id].set(sum, ITEM_REGION_END);
        api.release(self.cpu, mapping);
        finished.add(mapping);
      }
      tick();
      yield;
    }
  }

  function* reader(self: ThreadContext) {
    for (let op = 0; op < shape.opsPerThread; op++) {
      const block = prng.pick(work);
      const mapping = api.map(self.cpu, block, false);
      if (!api.load(self.cpu, mapping.pointer, prng.below(ITEM_REGION_END / 8) * 8, 8).ok) {
        fail();
        return;
      }
      tick();
      yield;
      api.unmap(self.cpu, mapping);
      tick();
      yield;
    }
  }

  const strayBytes = () => Uint8Array.from({ length: 8 }, () => 0xa0 + prng.below(16));
  const strayOffset = () => prng.below(ITEM_REGION_END / 8) * 8;
  function* stray(self: ThreadContext, kind: StrayKind, delay: number) {
    for (let i = 0; i < delay; i++) {
      tick();
      yield;
    }
    const cpu = self.cpu;
    switch (kind) {
      case 'random-address': {
        const block = prng.pick(work);
        tally.record(kind, api.store(cpu, api.strayPointer(cpu, block.directAddress), strayOffset(), strayBytes()).ok);
        return;
      }
      case 'wrong-thread': {
        for (let i = 0; i < MAX_WAIT && open.length === 0; i++) {
          tick();
          yield;
        }
        const leaked = open.length > 0 ? prng.pick(open).pointer : api.strayPointer(cpu, prng.pick(work).directAddress);
        tally.record(kind, api.store(self.cpu, leaked, strayOffset(), strayBytes()).ok);
        return;
      }
      case 'write-after-kunmap': {
        const block = prng.pick(work);
        const mapping = api.map(cpu, block, true);
        api.unmap(cpu, mapping);
        tick();
        yield;
        tally.record(kind, api.store(self.cpu, mapping.pointer, strayOffset(), strayBytes()).ok);
        return;
      }
      case 'out-of-bounds': {
        const block = prng.pick(work);
        const mapping = api.map(cpu, block, true);
        tally.record(kind, api.store(cpu, mapping.pointer, block.length, strayBytes()).ok);
        api.unmap(cpu, mapping);
        return;
      }
      default: {
        const block = prng.pick(work);
        const mapping = api.map(cpu, block, false);
        tally.record(kind, api.store(cpu, mapping.pointer, strayOffset(), strayBytes()).ok);
        api.unmap(cpu, mapping);
      }
    }
  }

  function* unbalanced(self: ThreadContext, delay: number) {
    for (let i = 0; i < delay; i++) {
      tick();
      yield;
    }
    const mapping = api.map(self.cpu, prng.pick(work), false);
    api.unmap(self.cpu, mapping);
    try {
      api.unmap(self.cpu, mapping);
    } catch (error) {
      if (!(error instanceof KernelError)) throw error;
    }
  }

  function* pageAddress(self: ThreadContext, delay: number) {
    for (let i = 0; i < delay; i++) {
      tick();
      yield;
    }
    api.probePageAddress(self.cpu, prng.pick(work));
  }

  const spawn = campaignSpawner(kernel, scheduler);
  for (let w = 0; w < shape.writers; w++) spawn(`btrfs-writer/${w}`, writer);
  for (let r = 0; r < shape.readers; r++) spawn(`btrfs-reader/${r}`, reader);
  spawn('btrfs-endio', flusher);
  for (let s = 0; s < shape.strays; s++) {
    const kind = KMAP_STRAY_KINDS[s % KMAP_STRAY_KINDS.length];
    const delay = 2 + prng.below(40);
    spawn(`stray/${s}-${kind}`, (self) => stray(self, kind, delay));
  }
  for (let m = 0; m < shape.unbalancedUnmaps; m++) {
    const delay = 2 + prng.below(40);
    spawn(`buggy/unbalanced-${m}`, (self) => unbalanced(self, delay));
  }
  for (let m = 0; m < shape.pageAddressProbes; m++) {
    const delay = 2 + prng.below(40);
    spawn(`buggy/page_address-${m}`, (self) => pageAddress(self, delay));
  }

  const before = snapshotEvents(kernel.machine.events);
  const { cost } = runMeasuredCampaign(kernel, scheduler, {
    name: `kmap-apis (${design})`,
    seed: options.seed,
    costs: options.costs,
  });
  api.finish(kernel.cpu(0));
  const events = kernel.machine.events;
  const spent = (event: MachineEvent) => {
    let n = 0;
    for (let cpu = 0; cpu < events.cpus; cpu++) n += events.get(cpu, event) - before[cpu * 14 + event];
    return n;
  };
  const strays = tally.summary();
  const misusesByKind: Partial<Record<KmapMisuseKind, number>> = {};
  for (const m of api.misuses) misusesByKind[m.kind] = (misusesByKind[m.kind] ?? 0) + 1;
  let corrupted = 0;
  work.forEach((block, b) => {
    const actual = kernel.machine.readPhysical(block.physical, block.length);
    if (!actual.every((v, i) => v === shadow[b][i])) corrupted++;
  });
  const stats = api.stats();
  return {
    design,
    source,
    arch,
    strays_attempted: strays.strays_attempted,
    strays_caught: strays.strays_blocked,
    by_kind: strays.by_kind,
    exposure: stats.exposure,
    misuses_detected: api.misuses.length,
    misuses_by_kind: misusesByKind,
    legit_failures: legitFailures,
    blocks_corrupted: corrupted,
    rights_writes: spent(MachineEvent.RightsWrite),
    pte_writes: spent(MachineEvent.PteWrite),
    tlb_flushes: spent(MachineEvent.TlbFlushPage) + spent(MachineEvent.TlbFlushAll),
    shootdowns: spent(MachineEvent.Shootdown),
    capability_checks: stats.capabilityChecks,
    domain_switches: cost.domain_switches,
    switch_cycles: cost.cycles_per_switch * cost.domain_switches,
    modeled_cycles: cost.modeled_cycles,
    ...(api.misuses.length > 0 ? { first_misuse: api.misuses[0].detail } : {}),
  };
}

function checksum(bytes: Uint8Array): Uint8Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < ITEM_REGION_END; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = (h >>> ((i % 4) * 8)) & 0xff;
  return out;
}

function unsupportedRow(design: KmapApiName | 'unprotected', arch: string, why: string): KmapDesignResult {
  return {
    design,
    source: '',
    arch,
    unsupported: why,
    strays_attempted: 0,
    strays_caught: 0,
    by_kind: {},
    exposure: 0,
    misuses_detected: 0,
    misuses_by_kind: {},
    legit_failures: 0,
    blocks_corrupted: 0,
    rights_writes: 0,
    pte_writes: 0,
    tlb_flushes: 0,
    shootdowns: 0,
    capability_checks: 0,
    domain_switches: 0,
    switch_cycles: 0,
    modeled_cycles: 0,
  };
}

/** Which architecture each design runs on: the selected one, except capabilities where it has no pointer authority. */
function designArch(design: KmapApiName, arch: string): string | undefined {
  if (design !== 'capability') return arch;
  if (arch !== 'x86') return arch;
  return listPlugins().some((p) => p.name === CAPABILITY_ARCH) ? CAPABILITY_ARCH : undefined;
}

/**
 * `pkeysim campaign kmap-apis`: the same Btrfs-like workload under every kmap API design. Protection
 * off runs the unprotected baseline alone. The totals are over the designs that ran on the selected
 * architecture (so the demo can compare schemes); the per-design table is the point.
 */
export function runKmapApisCampaign(options: CampaignOptions): KmapCampaignResult {
  if (!(KMAP_MODES as readonly string[]).includes(options.mode)) {
    throw new KernelError(
      'EINVAL',
      `kmap-apis campaign: mode ${JSON.stringify(options.mode)} is not one of ${KMAP_MODES.join(', ')}`,
    );
  }
  const arch = options.arch ?? 'x86';
  const designs: KmapDesignResult[] = [];
  // On a machine with pointer authority (no keys), the capability design is the one that applies.
  const capabilityHere = options.protection && arch !== 'x86' ? runKmapDesign('capability', options, arch) : undefined;
  if (!options.protection) designs.push(runKmapDesign('unprotected', options, arch));
  else if (capabilityHere && capabilityHere.unsupported === undefined) {
    for (const design of KMAP_API_DESIGNS)
      designs.push(
        design === 'capability'
          ? capabilityHere
          : unsupportedRow(design, arch, `${arch} has capabilities, not keys: only the capability design applies`),
      );
  } else
    for (const design of KMAP_API_DESIGNS) {
      const on = designArch(design, arch);
      designs.push(
        on === undefined
          ? unsupportedRow(
              design,
              CAPABILITY_ARCH,
              `no '${CAPABILITY_ARCH}' plugin is registered (import @pkeysim/scheme-capability)`,
            )
          : runKmapDesign(design, options, on),
      );
    }
  const counted = designs.filter((d) => d.arch === arch && d.unsupported === undefined);
  const byKind: Partial<Record<StrayKind, StrayCount>> = {};
  for (const d of counted)
    for (const [kind, n] of Object.entries(d.by_kind) as [StrayKind, StrayCount][]) {
      const sum = byKind[kind] ?? { attempted: 0, blocked: 0, landed: 0 };
      byKind[kind] = {
        attempted: sum.attempted + n.attempted,
        blocked: sum.blocked + n.blocked,
        landed: sum.landed + n.landed,
      };
    }
  const attempted = counted.reduce((s, d) => s + d.strays_attempted, 0);
  const blocked = counted.reduce((s, d) => s + d.strays_caught, 0);
  const cycles = counted.reduce((s, d) => s + d.modeled_cycles, 0);
  const switches = counted.reduce((s, d) => s + d.domain_switches, 0);
  const switchCycles = counted.reduce((s, d) => s + d.switch_cycles, 0);
  const notes = [
    `workload: ${KMAP_CAMPAIGN_SHAPE.blocks} Btrfs-like 16 KiB blocks over 2 keys, ${KMAP_CAMPAIGN_SHAPE.writers} writers, ${KMAP_CAMPAIGN_SHAPE.readers} readers, an end_io thread taking handed-over mappings, ${KMAP_CAMPAIGN_SHAPE.strays} strays per design`,
    `stray totals above are over the designs run on ${arch}; exposure is byte-ticks a block was writable by threads other than its mapper`,
  ];
  for (const d of designs) {
    if (d.unsupported) notes.push(`${d.design}: not run: ${d.unsupported}`);
    else if (d.legit_failures > 0) notes.push(`${d.design}: ${d.legit_failures} legitimate access(es) failed`);
    if (d.first_misuse) notes.push(`${d.design}: first misuse reported: ${d.first_misuse}`);
  }
  return {
    consumer: 'kmap-apis',
    seed: options.seed,
    protection: options.protection,
    mode: options.mode,
    arch,
    strays_attempted: attempted,
    strays_blocked: blocked,
    strays_landed: attempted - blocked,
    domain_switches: switches,
    modeled_cycles: cycles,
    cycles_per_switch: switches === 0 ? 0 : switchCycles / switches,
    by_kind: byKind,
    notes,
    tables: [designTable(designs)],
    designs,
  };
}

/** The per-design table `pkeysim campaign kmap-apis` prints. */
export function designTable(designs: readonly KmapDesignResult[]): CampaignTable {
  return {
    title: 'per API design',
    columns: [
      'design',
      'strays caught',
      'exposure (B x ticks)',
      'misuses detected',
      'rights writes',
      'PTE writes',
      'flushes',
      'shootdowns',
      'cap. checks',
      'modeled cycles',
      'corrupted blocks',
    ],
    rows: designs.map((d) =>
      d.unsupported !== undefined
        ? [d.design, 'not run', '-', '-', '-', '-', '-', '-', '-', '-', '-']
        : [
            d.design,
            `${d.strays_caught}/${d.strays_attempted}`,
            d.exposure,
            d.misuses_detected,
            d.rights_writes,
            d.pte_writes,
            d.tlb_flushes,
            d.shootdowns,
            d.capability_checks,
            Math.round(d.modeled_cycles),
            d.blocks_corrupted,
          ],
    ),
  };
}

/** The kmap-apis entry of `pkeysim campaign`'s registry. */
export const kmapApisCampaign: CampaignRunner = {
  consumer: 'kmap-apis',
  description: 'a Btrfs-like metadata workload under every kmap API design of LSFMM 2022 (and capabilities)',
  modes: KMAP_MODES,
  run: runKmapApisCampaign,
};
