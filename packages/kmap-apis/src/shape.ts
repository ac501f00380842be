/** The size of a kmap-apis campaign run: small enough to run every design in well under a second. */
export const KMAP_CAMPAIGN_SHAPE = Object.freeze({
  /** Btrfs metadata blocks (extent buffers) of BLOCK_PAGES pages each. */
  blocks: 8,
  /** 16 KiB nodesize (Btrfs' default) = 4 pages. */
  blockPages: 4,
  writers: 3,
  readers: 2,
  opsPerThread: 6,
  /** Items a writer stores per mapping, with a preemption point after each. */
  itemsPerWrite: 3,
  itemBytes: 16,
  /** One writer operation in this many hands its mapping to the flusher (an end_io-style completion). */
  handOverOneIn: 3,
  strays: 15,
  unbalancedUnmaps: 2,
  pageAddressProbes: 2,
});

/** How long a thread waits (in its own steps) for something another thread does, before giving up. */
export const MAX_WAIT = 200;
