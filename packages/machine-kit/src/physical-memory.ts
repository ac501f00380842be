/**
 * Sparse physical memory: 4 KiB frames exist only once written, so gigabytes of RAM cost only what
 * is touched. RAM starts at 0; a persistent (PMEM) region follows at the next 1 GiB boundary.
 * `reboot()` loses RAM and keeps PMEM, as core's Machine.reboot documents (an NVDIMM). Frames are
 * Uint32Arrays so descriptors are read as two words without BigInt; bytes use a Uint8Array view.
 */
import { PAGE_SIZE } from './address';

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('@pkeysim/machine-kit needs a little-endian host (frames are shared between byte and word views)');
}

export interface PhysicalRegion {
  readonly kind: 'ram' | 'pmem';
  readonly base: number;
  readonly size: number;
}

export interface PhysicalMemoryOptions {
  readonly ramBytes: number;
  readonly persistentBytes: number;
  /** Physical address width: every region must lie below 2^maxPhysAddr. */
  readonly maxPhysAddr: number;
}

const GIB = 0x40000000;

function checkSize(name: string, bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 0 || bytes % PAGE_SIZE !== 0) {
    throw new RangeError(`${name} ${String(bytes)} must be a non-negative multiple of 4096`);
  }
}

export class PhysicalMemory {
  readonly ram: PhysicalRegion;
  readonly pmem: PhysicalRegion;
  /** Frame number -> the frame's words. Only frames ever written exist. */
  private readonly frames = new Map<number, Uint32Array>();
  private ramNext = 0;
  private pmemNext: number;

  constructor(options: PhysicalMemoryOptions) {
    checkSize('ramBytes', options.ramBytes);
    checkSize('persistentBytes', options.persistentBytes);
    if (options.ramBytes === 0) throw new RangeError('ramBytes must be > 0 (page tables live in RAM)');
    const pmemBase = Math.ceil(options.ramBytes / GIB) * GIB;
    if (pmemBase + options.persistentBytes > 2 ** options.maxPhysAddr) {
      throw new RangeError(
        `RAM and PMEM (${pmemBase + options.persistentBytes} bytes) do not fit below 2^${options.maxPhysAddr}`,
      );
    }
    this.ram = Object.freeze({ kind: 'ram', base: 0, size: options.ramBytes });
    this.pmem = Object.freeze({ kind: 'pmem', base: pmemBase, size: options.persistentBytes });
    this.pmemNext = pmemBase;
  }

  /** Number of 4 KiB frames actually allocated. */
  get allocatedFrames(): number {
    return this.frames.size;
  }

  regionOf(physical: number): PhysicalRegion | undefined {
    if (physical >= this.ram.base && physical < this.ram.base + this.ram.size) return this.ram;
    if (physical >= this.pmem.base && physical < this.pmem.base + this.pmem.size) return this.pmem;
    return undefined;
  }

  /** A frame's words if it was ever written (walks read absent frames as zeros); never allocates. */
  frameIfPresent(frameNumber: number): Uint32Array | undefined {
    return this.frames.get(frameNumber);
  }

  /** True when [physical, physical+length) lies inside one region. */
  containsRange(physical: number, length: number): boolean {
    const region = this.regionOf(physical);
    return region !== undefined && physical + length <= region.base + region.size;
  }

  /** A frame's words, allocating it zeroed. Throws for an address outside RAM and PMEM. */
  frame(frameNumber: number): Uint32Array {
    let words = this.frames.get(frameNumber);
    if (words === undefined) {
      if (this.regionOf(frameNumber * PAGE_SIZE) === undefined) {
        throw new RangeError(`physical address 0x${(frameNumber * PAGE_SIZE).toString(16)} is outside RAM and PMEM`);
      }
      words = new Uint32Array(PAGE_SIZE / 4);
      this.frames.set(frameNumber, words);
    }
    return words;
  }

  /** Read the 8-byte descriptor at `physical` (8-aligned) into `out[0]` (bits 31:0) and `out[1]` (63:32). */
  readEntry(physical: number, out: Int32Array): void {
    const words = this.frames.get(Math.floor(physical / PAGE_SIZE));
    const index = (physical & 0xfff) >>> 2;
    out[0] = words === undefined ? 0 : words[index];
    out[1] = words === undefined ? 0 : words[index + 1];
  }

  writeEntry(physical: number, lo: number, hi: number): void {
    const words = this.frame(Math.floor(physical / PAGE_SIZE));
    const index = (physical & 0xfff) >>> 2;
    words[index] = lo;
    words[index + 1] = hi;
  }

  private checkRange(physical: number, length: number): void {
    if (!Number.isInteger(physical) || !Number.isInteger(length) || physical < 0 || length < 0) {
      throw new RangeError(`physical range ${String(physical)}+${String(length)} must be non-negative integers`);
    }
    if (length !== 0 && !this.containsRange(physical, length)) {
      throw new RangeError(
        `physical range 0x${physical.toString(16)}+0x${length.toString(16)} is not inside one RAM or PMEM region`,
      );
    }
  }

  read(physical: number, length: number): Uint8Array {
    this.checkRange(physical, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = physical + done;
      const offset = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - offset, length - done);
      const words = this.frames.get(Math.floor(at / PAGE_SIZE));
      if (words !== undefined) out.set(new Uint8Array(words.buffer, offset, n), done);
      done += n;
    }
    return out;
  }

  write(physical: number, bytes: Uint8Array): void {
    this.checkRange(physical, bytes.length);
    let done = 0;
    while (done < bytes.length) {
      const at = physical + done;
      const offset = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - offset, bytes.length - done);
      new Uint8Array(this.frame(Math.floor(at / PAGE_SIZE)).buffer, offset, n).set(bytes.subarray(done, done + n));
      done += n;
    }
  }

  /**
   * Reserve `length` bytes (rounded up to 4 KiB) from RAM or PMEM, aligned to `align` (a power of
   * two >= 4096). Reads as zeros until written. A bump allocator: nothing is freed.
   */
  allocate(length: number, options: { persistent?: boolean; align?: number } = {}): number {
    const align = options.align ?? PAGE_SIZE;
    if (!Number.isInteger(length) || length <= 0)
      throw new RangeError(`allocation length ${String(length)} must be a positive integer`);
    if (!Number.isInteger(align) || align < PAGE_SIZE || !Number.isInteger(Math.log2(align))) {
      throw new RangeError(`alignment ${String(align)} must be a power of two >= 4096`);
    }
    const persistent = options.persistent === true;
    const region = persistent ? this.pmem : this.ram;
    const next = persistent ? this.pmemNext : this.ramNext;
    const start = Math.ceil(next / align) * align;
    const end = start + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    if (end > region.base + region.size) {
      throw new RangeError(
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
    for (const frameNumber of [...this.frames.keys()]) {
      if (this.regionOf(frameNumber * PAGE_SIZE)?.kind !== 'pmem') this.frames.delete(frameNumber);
    }
    this.ramNext = 0;
    this.pmemNext = this.pmem.base;
  }
}
