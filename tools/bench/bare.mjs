// The bare reference of the access benchmarks: an Int32Array direct-mapped TLB (512 entries, tag =
// page number, the domain in the flags), the rights-register AD bit test, and its own walk-and-refill
// over 4-level page tables in a Uint32Array. No validation, no counting, no faults: the floor.

const ROOT = 0;

/** Bare TLB and page tables mapping `pages` pages from `base` (page numbers below 2^31) with `domain`. */
export function makeBare({ base, pages, domain }) {
  const tags = new Int32Array(512).fill(-1);
  const flags = new Int32Array(512);
  const memory = new Uint32Array(64 * 1024); // 64 pages of "physical memory" as words
  let nextTable = 1;
  const ensure = (table, index) => {
    const at = table * 1024 + index * 2;
    if ((memory[at] & 1) === 0) memory[at] = ((nextTable++ * 0x1000) | 1) >>> 0;
    return (memory[at] >>> 12) & 0xfffff;
  };
  for (let p = 0; p < pages; p++) {
    const vpn = base / 0x1000 + p;
    let table = ROOT;
    for (let shift = 27; shift >= 9; shift -= 9) table = ensure(table, (vpn >>> shift) & 511);
    const at = table * 1024 + (vpn & 511) * 2;
    memory[at] = ((p * 0x1000) | 0x7) >>> 0; // present, writable, user; frame p
    memory[at + 1] = domain << 27; // the domain in bits 62:59
  }
  const bare = { tags, flags, memory, base };
  bare.warm = (hotPages) => {
    for (let p = 0; p < hotPages; p++) bareWalk(bare, base / 0x1000 + p);
  };
  return bare;
}

/** The bare walk: four levels of shifts and typed-array reads, then the refill. Page numbers < 2^31. */
export function bareWalk(bare, vpn) {
  const memory = bare.memory;
  let table = ROOT;
  for (let shift = 27; shift >= 0; shift -= 9) {
    const at = table * 1024 + ((vpn >>> shift) & 511) * 2;
    const lo = memory[at];
    if ((lo & 1) === 0) return -1;
    if (shift === 0) {
      const slot = vpn & 511;
      bare.tags[slot] = vpn;
      bare.flags[slot] = ((memory[at + 1] >>> 27) & 15) << 8;
      return slot;
    }
    table = (lo >>> 12) & 0xfffff;
  }
  return -1;
}

/** TLB hits only: tag compare and the AD bit of the domain in `rights`; the number denied. */
export function bareHitLoop(bare, addresses, rights) {
  const tags = bare.tags;
  const flags = bare.flags;
  let denied = 0;
  for (let i = 0; i < addresses.length; i++) {
    const vpn = Math.floor(addresses[i] / 4096);
    const slot = vpn & 511;
    if (tags[slot] === vpn) {
      if (((rights >>> (((flags[slot] >>> 8) & 15) << 1)) & 1) !== 0) denied++;
    } else denied++;
  }
  return denied;
}

/** Walk and refill on a miss, then the same check. */
export function bareRefillLoop(bare, addresses, rights) {
  const tags = bare.tags;
  const flags = bare.flags;
  let denied = 0;
  for (let i = 0; i < addresses.length; i++) {
    const vpn = Math.floor(addresses[i] / 4096);
    let slot = vpn & 511;
    if (tags[slot] !== vpn) slot = bareWalk(bare, vpn);
    if (slot < 0 || ((rights >>> (((flags[slot] >>> 8) & 15) << 1)) & 1) !== 0) denied++;
  }
  return denied;
}
