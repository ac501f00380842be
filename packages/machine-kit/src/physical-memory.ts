/**
 * Sparse physical memory: 4 KiB frames exist only once written, so gigabytes of RAM cost only what
 * is touched. RAM starts at 0; a persistent (PMEM) region follows at the next 1 GiB boundary.
 * `reboot()` loses RAM and keeps PMEM, as core's Machine.reboot documents (an NVDIMM). Frames are
 * Uint32Arrays so descriptors are read as two words without BigInt; bytes use a Uint8Array view.
 *
 * Frames are found through typed arrays, never a Map: the frames of both regions are numbered
 * densely (RAM first, then PMEM), a directory of 512-frame chunks points into a chunk table, and
 * the chunk table gives the frame's slot in a plain array of frames. A page walk step is three
 * array loads.
 */
import { DomainError } from '@pkeysim/core';
import { PAGE_SIZE } from './address';
import { invalidArgument } from './validate';

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('@pkeysim/machine-kit needs a little-endian host (frames are shared between byte and word views)');
}

/** A region of physical memory: RAM or persistent memory (PMEM), `[base, base+size)`. */
export interface PhysicalRegion {
  readonly kind: 'ram' | 'pmem';
  readonly base: number;
  readonly size: number;
}

/** Sizes of the regions to create and the physical address width. */
export interface PhysicalMemoryOptions {
  readonly ramBytes: number;
  readonly persistentBytes: number;
  /** Physical address width: every region must lie below 2^maxPhysAddr. */
  readonly maxPhysAddr: number;
}

const GIB = 0x40000000;
/** Frames per directory chunk (2 MiB of physical memory). */
const CHUNK_SHIFT = 9;
const CHUNK_FRAMES = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_FRAMES - 1;
/** Frames of the first slab; each next slab doubles, up to MAX_SLAB_FRAMES (256 KiB). */
const FIRST_SLAB_FRAMES = 8;
const MAX_SLAB_FRAMES = 64;
/** Named limit: at most 2^22 chunks (8 TiB of RAM plus PMEM, a 16 MiB directory); frame numbers stay below 2^31. */
const MAX_DIRECTORY_CHUNKS = 2 ** 22;

/** Copy n bytes: a loop for the few bytes of most accesses (no view object), a block copy beyond. */
function copyBytes(from: Uint8Array, fromAt: number, to: Uint8Array, toAt: number, n: number): void {
  if (n <= 64) for (let i = 0; i < n; i++) to[toAt + i] = from[fromAt + i];
  else to.set(from.subarray(fromAt, fromAt + n), toAt);
}

function checkSize(name: string, bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 0 || bytes % PAGE_SIZE !== 0) {
    throw invalidArgument(`${name} ${String(bytes)} must be a non-negative multiple of 4096`);
  }
}

/** Sparse physical memory of lazily created 4 KiB frames: RAM at 0, PMEM at the next 1 GiB boundary. */
export class PhysicalMemory {
  readonly ram: PhysicalRegion;
  readonly pmem: PhysicalRegion;
  /** Dense frame numbering: RAM frames 0..ramFrames-1, then PMEM frames. */
  private readonly ramFrames: number;
  private readonly pmemFirst: number;
  private readonly pmemFrames: number;
  /** Chunk (512 dense frames) -> 1 + its index in `chunkSlots` (0 = no frame of it was written). */
  private readonly directory: Int32Array;
  /** (chunk index << 9 | frame in chunk) -> 1 + slot in `slots` (0 = absent). Grows by doubling. */
  private chunkSlots: Int32Array;
  private chunkCount = 0;
  /** Slot -> the frame's words. */
  private slots: Uint32Array[] = [];
  /**
   * Slot -> the bytes of the slab holding the frame, and the frame's first byte in it (views made
   * once per slab: reads and writes allocate nothing).
   */
  private byteSlots: Uint8Array[] = [];
  private byteBase: number[] = [];
  /**
   * Frames are cut from slabs (one ArrayBuffer for several frames, each slab twice the last, up to
   * MAX_SLAB_FRAMES): an ArrayBuffer per 4 KiB frame cost more than the frame's use on a short run.
   * A frame is never handed out twice, so a new one reads as zeros.
   */
  private slabBytes: Uint8Array | undefined;
  private slabUsed = 0;
  private slabFrames = FIRST_SLAB_FRAMES / 2;
  private ramNext = 0;
  private pmemNext: number;

  constructor(options: PhysicalMemoryOptions) {
    checkSize('ramBytes', options.ramBytes);
    checkSize('persistentBytes', options.persistentBytes);
    if (options.ramBytes === 0) throw invalidArgument('ramBytes must be > 0 (page tables live in RAM)');
    const pmemBase = Math.ceil(options.ramBytes / GIB) * GIB;
    if (pmemBase + options.persistentBytes > 2 ** options.maxPhysAddr) {
      throw invalidArgument(
        `RAM and PMEM (${pmemBase + options.persistentBytes} bytes) do not fit below 2^${options.maxPhysAddr}`,
      );
    }
    this.ram = Object.freeze({ kind: 'ram', base: 0, size: options.ramBytes });
    this.pmem = Object.freeze({ kind: 'pmem', base: pmemBase, size: options.persistentBytes });
    this.pmemNext = pmemBase;
    this.ramFrames = options.ramBytes / PAGE_SIZE;
    this.pmemFirst = pmemBase / PAGE_SIZE;
    this.pmemFrames = options.persistentBytes / PAGE_SIZE;
    const chunks = Math.ceil((this.ramFrames + this.pmemFrames) / CHUNK_FRAMES);
    if (chunks > MAX_DIRECTORY_CHUNKS) {
      throw invalidArgument(
        `RAM and PMEM of ${options.ramBytes + options.persistentBytes} bytes exceed the simulator's limit of ${MAX_DIRECTORY_CHUNKS * CHUNK_FRAMES * PAGE_SIZE} bytes`,
      );
    }
    this.directory = new Int32Array(chunks);
    this.chunkSlots = new Int32Array(2 * CHUNK_FRAMES);
  }

  /** Number of 4 KiB frames actually allocated. */
  get allocatedFrames(): number {
    return this.slots.length;
  }

  /** The region holding `physical`, or undefined when it is in neither. */
  regionOf(physical: number): PhysicalRegion | undefined {
    if (physical >= this.ram.base && physical < this.ram.base + this.ram.size) return this.ram;
    if (physical >= this.pmem.base && physical < this.pmem.base + this.pmem.size) return this.pmem;
    return undefined;
  }

  /** The dense number of a frame of RAM or PMEM, or -1 outside both. */
  private denseOf(frameNumber: number): number {
    if (frameNumber >= 0 && frameNumber < this.ramFrames) return frameNumber;
    const p = frameNumber - this.pmemFirst;
    if (p >= 0 && p < this.pmemFrames) return this.ramFrames + p;
    return -1;
  }

  /** A frame's words if it was ever written (walks read absent frames as zeros); never allocates. */
  frameIfPresent(frameNumber: number): Uint32Array | undefined {
    const slot = this.slotOf(frameNumber);
    return slot === 0 ? undefined : this.slots[slot - 1];
  }

  /** True when [physical, physical+length) lies inside one region. */
  containsRange(physical: number, length: number): boolean {
    const region = this.regionOf(physical);
    return region !== undefined && physical + length <= region.base + region.size;
  }

  /** The slot (1-based) of a frame ever written, else 0; never allocates. */
  private slotOf(frameNumber: number): number {
    let dense = frameNumber;
    if (!(dense < this.ramFrames && dense >= 0)) {
      dense = frameNumber - this.pmemFirst;
      if (!(dense >= 0 && dense < this.pmemFrames)) return 0;
      dense += this.ramFrames;
    }
    const chunk = this.directory[dense >>> CHUNK_SHIFT];
    return chunk === 0 ? 0 : this.chunkSlots[(chunk - 1) * CHUNK_FRAMES + (dense & CHUNK_MASK)];
  }

  /** A frame's slot (1-based), allocating it zeroed (the caller checked the address). */
  private slotFor(frameNumber: number): number {
    const slot = this.slotOf(frameNumber);
    if (slot !== 0) return slot;
    this.frame(frameNumber);
    return this.slots.length;
  }

  /** A frame's words, allocating it zeroed. Throws for an address outside RAM and PMEM. */
  frame(frameNumber: number): Uint32Array {
    const present = this.frameIfPresent(frameNumber);
    if (present !== undefined) return present;
    const dense = this.denseOf(frameNumber);
    if (dense < 0) {
      throw invalidArgument(`physical address 0x${(frameNumber * PAGE_SIZE).toString(16)} is outside RAM and PMEM`);
    }
    if (this.slabBytes === undefined || this.slabUsed === this.slabFrames) {
      this.slabFrames = Math.min(this.slabFrames * 2, MAX_SLAB_FRAMES);
      this.slabBytes = new Uint8Array(this.slabFrames * PAGE_SIZE);
      this.slabUsed = 0;
    }
    const base = this.slabUsed++ * PAGE_SIZE;
    const words = new Uint32Array(this.slabBytes.buffer, base, PAGE_SIZE / 4);
    this.place(dense, words, this.slabBytes, base);
    return words;
  }

  private place(dense: number, words: Uint32Array, bytes: Uint8Array, base: number): void {
    let chunk = this.directory[dense >>> CHUNK_SHIFT];
    if (chunk === 0) {
      if ((this.chunkCount + 1) * CHUNK_FRAMES > this.chunkSlots.length) {
        const grown = new Int32Array(this.chunkSlots.length * 2);
        grown.set(this.chunkSlots);
        this.chunkSlots = grown;
      }
      chunk = ++this.chunkCount;
      this.directory[dense >>> CHUNK_SHIFT] = chunk;
    }
    this.slots.push(words);
    this.byteSlots.push(bytes);
    this.byteBase.push(base);
    this.chunkSlots[(chunk - 1) * CHUNK_FRAMES + (dense & CHUNK_MASK)] = this.slots.length;
  }

  /** The u32 word at `physical` (4-aligned); zero for a frame never written. The page walk's read. */
  readWord(physical: number): number {
    const words = this.frameIfPresent(Math.floor(physical / PAGE_SIZE));
    return words === undefined ? 0 : words[(physical & 0xfff) >>> 2];
  }

  /** Read the 8-byte descriptor at `physical` (8-aligned) into `out[0]` (bits 31:0) and `out[1]` (63:32). */
  readEntry(physical: number, out: Int32Array): void {
    const words = this.frameIfPresent(Math.floor(physical / PAGE_SIZE));
    const index = (physical & 0xfff) >>> 2;
    out[0] = words === undefined ? 0 : words[index];
    out[1] = words === undefined ? 0 : words[index + 1];
  }

  /** Write the 8-byte descriptor at `physical` (8-aligned) from `lo` (bits 31:0) and `hi` (63:32). */
  writeEntry(physical: number, lo: number, hi: number): void {
    // A present frame without frame()'s call (the frequent case: page-table pages exist).
    const frameNumber = Math.floor(physical / PAGE_SIZE);
    const slot = this.slotOf(frameNumber);
    const words = slot !== 0 ? this.slots[slot - 1] : this.frame(frameNumber);
    const index = (physical & 0xfff) >>> 2;
    words[index] = lo;
    words[index + 1] = hi;
  }

  private checkRange(physical: number, length: number): void {
    if (!Number.isInteger(physical) || !Number.isInteger(length) || physical < 0 || length < 0) {
      throw invalidArgument(`physical range ${String(physical)}+${String(length)} must be non-negative integers`);
    }
    if (length !== 0 && !this.containsRange(physical, length)) {
      throw invalidArgument(
        `physical range 0x${physical.toString(16)}+0x${length.toString(16)} is not inside one RAM or PMEM region`,
      );
    }
  }

  /** Copy `length` bytes starting at `physical` (frames never written read as zero). */
  read(physical: number, length: number): Uint8Array {
    this.checkRange(physical, length);
    const out = new Uint8Array(length);
    this.copyOut(physical, out, 0, length);
    return out;
  }

  /**
   * Copy `length` bytes starting at `physical` into `out` from index `at` (frames never written read
   * as zero). Unchecked: the caller validated both ranges.
   */
  copyOut(physical: number, out: Uint8Array, at: number, length: number): void {
    let done = 0;
    while (done < length) {
      const from = physical + done;
      const offset = from % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - offset, length - done);
      const slot = this.slotOf(Math.floor(from / PAGE_SIZE));
      if (slot === 0) out.fill(0, at + done, at + done + n);
      else copyBytes(this.byteSlots[slot - 1], this.byteBase[slot - 1] + offset, out, at + done, n);
      done += n;
    }
  }

  /** Copy `bytes` into physical memory starting at `physical`. */
  write(physical: number, bytes: Uint8Array): void {
    this.checkRange(physical, bytes.length);
    this.copyIn(physical, bytes, 0, bytes.length);
  }

  /** Copy `length` bytes of `bytes` from index `at` to `physical` on. Unchecked: the caller validated both ranges. */
  copyIn(physical: number, bytes: Uint8Array, at: number, length: number): void {
    let done = 0;
    while (done < length) {
      const to = physical + done;
      const offset = to % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - offset, length - done);
      const slot = this.slotFor(Math.floor(to / PAGE_SIZE));
      copyBytes(bytes, at + done, this.byteSlots[slot - 1], this.byteBase[slot - 1] + offset, n);
      done += n;
    }
  }

  /**
   * Reserve `length` bytes (rounded up to 4 KiB) from RAM or PMEM, aligned to `align` (a power of
   * two >= 4096). Reads as zeros until written. A bump allocator: nothing is freed.
   */
  allocate(length: number, options: { persistent?: boolean; align?: number } = {}): number {
    const align = options.align ?? PAGE_SIZE;
    if (typeof length !== 'number' || !Number.isInteger(length) || length <= 0 || length > 2 ** 52)
      throw invalidArgument(`allocation length ${String(length)} must be a positive integer below 2^52`);
    if (
      typeof align !== 'number' ||
      !Number.isInteger(align) ||
      align < PAGE_SIZE ||
      align > 2 ** 52 ||
      !Number.isInteger(Math.log2(align))
    ) {
      throw invalidArgument(`alignment ${String(align)} must be a power of two >= 4096`);
    }
    const persistent = options.persistent === true;
    const region = persistent ? this.pmem : this.ram;
    const next = persistent ? this.pmemNext : this.ramNext;
    const start = Math.ceil(next / align) * align;
    const end = start + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    if (end > region.base + region.size) {
      throw new DomainError(
        'exhausted',
        `out of ${persistent ? 'persistent memory' : 'RAM'}: ${length} bytes aligned to ${align} do not fit (${region.base + region.size - next} bytes left)`,
      );
    }
    if (persistent) this.pmemNext = end;
    else this.ramNext = end;
    return start;
  }

  /**
   * Power cycle: every RAM frame is lost, PMEM frames keep their contents, and both allocators start
   * over, so a deterministic boot finds its PMEM data at the same physical addresses.
   */
  reboot(): void {
    // Keep the PMEM frames (dense numbers >= ramFrames), renumbered into fresh slots.
    const kept: { dense: number; slot: number }[] = [];
    for (let chunkIndex = 0; chunkIndex < this.directory.length; chunkIndex++) {
      const chunk = this.directory[chunkIndex];
      if (chunk === 0) continue;
      for (let i = 0; i < CHUNK_FRAMES; i++) {
        const slot = this.chunkSlots[(chunk - 1) * CHUNK_FRAMES + i];
        const dense = (chunkIndex << CHUNK_SHIFT) | i;
        if (slot !== 0 && dense >= this.ramFrames) kept.push({ dense, slot: slot - 1 });
      }
    }
    this.directory.fill(0);
    this.chunkSlots.fill(0);
    this.chunkCount = 0;
    const { slots, byteSlots, byteBase } = this;
    this.slots = [];
    this.byteSlots = [];
    this.byteBase = [];
    for (const { dense, slot } of kept) this.place(dense, slots[slot], byteSlots[slot], byteBase[slot]);
    this.ramNext = 0;
    this.pmemNext = this.pmem.base;
  }
}
