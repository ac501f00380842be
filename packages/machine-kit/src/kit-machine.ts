/**
 * A base Machine for architectures built from the kit: sparse physical memory, a radix page-table
 * engine, per-CPU TLBs, address spaces, map/unmap/attach with large-page splitting and counted
 * invalidations, translate, byte reads and writes, and the checked access with its fault record.
 *
 * An architecture supplies its descriptor codec, its domain spaces, its access check (read rights at
 * access time, from its own per-CPU registers) and the text of its fault reports.
 *
 * Address spaces share the upper (kernel) half, as Linux arranges on every architecture, in one of
 * two layouts: 'split', the arm64 TTBR0/TTBR1 layout (Arm ARM D8.2): the lower half [0, 2^vaBits)
 * has a root per address space and the upper half [-2^vaBits, 0) one root shared by all; or
 * 'shared-upper', the x86 CR3 layout: one root per space covering both halves, whose upper-half
 * top-level entries are the same in every root (Linux pgd_alloc copies them, sync_global_pgds
 * keeps them in sync).
 */
import {
  ACCESS_OK,
  AccessKind,
  DEFAULT_MACHINE_CONFIG,
  DomainError,
  EventCounters,
  MACHINE_EVENT_COUNT,
  MachineEvent,
  PageSize,
  Privilege,
  type AccessFault,
  type AddressSpaceId,
  type DomainSpace,
  type FaultCause,
  type Machine,
  type MappingAttributes,
  type Translation,
} from '@pkeysim/core';
import { formatAddress, PAGE_SIZE, toAddress } from './address';
import { faultCauseOf, FaultKind } from './fault-codes';
import { PAGE_RESERVED, type DescriptorCodec } from './descriptor-codec';
import { RadixPageTable, WALK_INVALID, WALK_OK, WALK_RESERVED } from './page-table';
import { PhysicalMemory } from './physical-memory';
import { Tlb, WALK_CACHE_ENTRIES } from './tlb';
import { ViewCarver } from './view-carver';
import {
  TF_ARCH_SHIFT,
  TF_DIRTY,
  TF_DOMAIN_SHIFT,
  TF_PRIV_EXEC,
  TF_PRIV_WRITE,
  TF_USER,
  TF_USER_EXEC,
  TF_USER_WRITE,
  translationDomain,
  translationLevel,
} from './translation-flags';
import { checkAccessAddress, checkAccessKind, checkBytes, checkInteger, invalidArgument } from './validate';

/** What an architecture tells {@link KitMachine} when it constructs it. */
export interface KitMachineOptions {
  /** The plugin name (Machine.arch). */
  readonly arch: string;
  readonly cpus?: number;
  readonly codec: DescriptorCodec;
  readonly ramBytes?: number;
  readonly persistentBytes?: number;
  /** Physical address width (default 48). */
  readonly maxPhysAddr?: number;
  /** Entries of each CPU's direct-mapped TLB (power of two, default 512). */
  readonly tlbEntries?: number;
  /**
   * A range invalidation flushes page by page up to this many pages, else the whole TLB (default 33,
   * Linux x86 tlb_single_page_flush_ceiling; arm64 uses MAX_DVM_OPS in asm/tlbflush.h).
   */
  readonly flushCeiling?: number;
  /** The domain a mapping gets when MappingAttributes.domain is absent (default 0). */
  readonly defaultDomain?: number;
  /** How many domains the architecture lets software use (default: every value the tag field holds). */
  readonly usableDomains?: number;
  /** 'split' (default, arm64 TTBR0/TTBR1) or 'shared-upper' (x86 CR3): see the file comment. */
  readonly layout?: 'split' | 'shared-upper';
  /** A fault drops the TLB entry of the faulting page (x86: Intel SDM 4.10.4.1). Default false. */
  readonly faultInvalidates?: boolean;
  /**
   * Bits of a check result kept in the fault record for describeFault but not returned by access
   * (e.g. x86 marks SMEP/SMAP faults, which share their error code with other causes). Default 0.
   */
  readonly internalFaultBits?: number;
  /**
   * A table-driven access check (the default checkAccess): the CPU's current {@link ModeCheckTables}
   * table (set with setCheckTable when its mode changes) indexed by a few bits of the translation
   * flags, the access kind and the rights bits of the page's domain, taken from the rights word that
   * governs the page's privilege (set with setRights: e.g. x86 PKRS for supervisor pages, PKRU for
   * user pages). Rights stay live: a rights write is two word stores, no table change, no flush.
   */
  readonly tableCheck?: TableCheckOptions;
}

/** Where the table-driven access check finds its index and rights bits. */
export interface TableCheckOptions {
  /** The check index: `indexBits` bits of the translation flags from bit `indexShift`. */
  readonly indexShift: number;
  readonly indexBits: number;
  /** Bits of one domain's rights in a rights word (the domain's field starts at domain * rightsBits). */
  readonly rightsBits: number;
}

/** A fault as the machine recorded it: what an architecture needs to write its report. */
export interface KitFaultRecord {
  readonly cpu: number;
  /** The nonzero access result (fault-codes.ts). */
  readonly code: number;
  readonly address: number;
  readonly access: AccessKind;
  readonly mode: Privilege;
  /** Level of the leaf (permission faults) or of the invalid entry (translation faults). */
  readonly level: number;
  /** TF_* flags of the translation, 0 when the walk failed. */
  readonly flags: number;
}

/** The architecture's part of an AccessFault. */
export interface FaultReport {
  readonly detail: Readonly<Record<string, string | number | boolean>>;
  readonly summary: string;
  /** Set only if the hardware reports the domain. */
  readonly domain?: number;
  /** The cause, when the fault code's low four bits are not a FaultKind (architecture-defined codes). */
  readonly cause?: FaultCause;
}

const PAGE_SIZES: readonly number[] = [PageSize.Size4K, PageSize.Size2M, PageSize.Size1G];

/** Addresses are exact numbers: |address| < 2^53. */
const EXACT = 2 ** 53;
/**
 * The one shape of the table-driven check (KitMachineOptions.tableCheck), fixed so that the access
 * path computes with constants, not fields (V8 folds constants): 3 index bits at TF_ARCH_SHIFT and 2 rights bits per domain (x86 AD/WD), so a
 * table has 3 kinds x 8 x 4 = 96 entries; each CPU's stretch of the check state is 128 words, the
 * table then its two rights words.
 */
const CHECK_INDEX_BITS = 3;
const CHECK_RIGHTS_BITS = 2;
const CHECK_RIGHTS_AT = (3 << CHECK_INDEX_BITS) << CHECK_RIGHTS_BITS;
const CHECK_STATE_SHIFT = 7;
// The hit path (access, checkAccess) and the batch loops spell their constants as literals. In the
// built package under Node 20's V8 a binding read on every access costs a load even when it never
// changes, and is not folded: a module-level const of this bundle (x / PAGE_SIZE is a division,
// x / 4096 a multiplication: the batch bench fell from 0.64x to 0.45x of the bare loop), more so a
// binding imported from another package (the per-access bench fell from 0.37x to 0.24x when the hit
// path counted with MachineEvent.Access). This checks, once, that every literal is what it spells.
const EVENT_STRIDE = MACHINE_EVENT_COUNT;
const ACCESS_EVENT = MachineEvent.Access;
const PAGE_WALK_EVENT = MachineEvent.PageWalk;
if (
  EVENT_STRIDE !== 14 ||
  PAGE_WALK_EVENT !== 6 ||
  ACCESS_EVENT !== 12 ||
  ACCESS_OK !== 0 ||
  AccessKind.Read !== 0 ||
  AccessKind.Write !== 1 ||
  AccessKind.Fetch !== 2 ||
  PAGE_SIZE !== 4096 ||
  TF_DIRTY !== 0x1000000 ||
  TF_USER !== 1 << 6 ||
  TF_ARCH_SHIFT !== 10 ||
  TF_DOMAIN_SHIFT !== 16 ||
  CHECK_INDEX_BITS !== 3 ||
  CHECK_RIGHTS_BITS !== 2 ||
  CHECK_RIGHTS_AT !== 96 ||
  CHECK_STATE_SHIFT !== 7
)
  throw new Error('internal: a literal of the access path no longer matches the constant it spells');
if (CHECK_RIGHTS_AT + 2 > 1 << CHECK_STATE_SHIFT)
  throw new Error('internal: a CPU check state holds its table and rights');
/** MappingAttributes with the types the interface promises (a JS caller may pass anything). */
function checkMappingAttributes(attrs: MappingAttributes): void {
  if (typeof attrs !== 'object' || attrs === null) throw invalidArgument('mapping attributes must be an object');
  for (const key of ['user', 'writable', 'executable'] as const) {
    if (typeof attrs[key] !== 'boolean') throw invalidArgument(`mapping attribute ${key} must be true or false`);
  }
  if (attrs.global !== undefined && typeof attrs.global !== 'boolean')
    throw invalidArgument('mapping attribute global must be true or false');
  if (attrs.domain !== undefined && (typeof attrs.domain !== 'number' || !Number.isInteger(attrs.domain)))
    throw invalidArgument(`mapping attribute domain ${String(attrs.domain)} must be an integer`);
}

/** Throws DomainError('invalid') unless every address from `from` on is an integer with |address| < 2^53. */
function validateAddresses(addresses: Float64Array, from: number): void {
  for (let i = from; i < addresses.length; i++) {
    const address = addresses[i];
    if (Math.floor(address) !== address || address >= EXACT || address <= -EXACT) checkAccessAddress(address);
  }
}

/** slotKeys until the first batch that uses them (most machines never run one that long). */
const NO_KEYS = new Float64Array(0);

/** The root of a released address space (releaseAddressSpace): no page is at -1. */
const RELEASED_ROOT = -1;

/** Named limit: one read() returns at most 1 GiB. */
const MAX_IO_BYTES = 2 ** 30;

/** A base Machine for architectures built from the kit (see the module description). */
export abstract class KitMachine implements Machine {
  readonly arch: string;
  readonly cpuCount: number;
  readonly events: EventCounters;
  readonly memory: PhysicalMemory;
  readonly pageTable: RadixPageTable;
  readonly codec: DescriptorCodec;
  /** Each half of the address space spans 2^vaBits bytes. */
  readonly vaBits: number;
  readonly defaultDomain: number;
  readonly usableDomains: number;
  protected readonly tlbs: readonly Tlb[];
  /**
   * The hit path reads two arrays, whatever the CPU: `hitNumbers` holds every CPU's TLB tags (entry
   * = cpu << tlbShift | slot) and then the event counters (the EventCounters' storage, from
   * `countsAt`); `checkState` holds every CPU's check state and then every CPU's TLB flags (from
   * `flagsAt`). The Tlb objects and events.counts are views of them.
   */
  private readonly hitNumbers: Float64Array;
  private readonly flagsAt: number;
  /** Index in hitNumbers of CPU 0's Access counter (CPU c's is 14 further per CPU). */
  private readonly accessCountAt: number;
  private readonly tlbShift: number;
  private readonly tlbMask: number;
  /** Whether the current batch's remaining addresses were validated (before its first state change). */
  private batchValidated = false;
  /** Scratch of slotCodeBatch: per TLB slot, its page's first address if an access through it is allowed, else NaN. */
  private slotKeys: Float64Array = NO_KEYS;
  /**
   * What slotKeys were derived from: the CPU, the kind, its TLB's version and the check version
   * (keysCpu -1: nothing). A batch that finds them current skips recomputing every slot.
   */
  private keysCpu = -1;
  private keysKind = 0;
  private keysTlbVersion = 0;
  private keysCheckVersion = 0;
  /** Bumped by every change of a CPU's check table or rights words (setCheckTable, setRights). */
  private checkVersion = 0;
  /** Privilege of each CPU's accesses. */
  protected readonly modes: Uint8Array;
  /** Scratch of read and write: the physical address of each page of the range (checkPages). */
  private pagePhysical = new Float64Array(2);
  private readonly counts: Float64Array;
  private readonly flushCeiling: number;
  private readonly half: number;
  /** Per space: the lower-half root ('split') or the whole root ('shared-upper'). */
  private lowerRoots: number[] = [];
  /** The shared upper-half root ('split'), or -1 ('shared-upper': each space's root covers both). */
  private upperRoot = -1;
  private readonly split: boolean;
  private readonly faultInvalidates: boolean;
  /** Returned code = check result & resultMask (internalFaultBits removed). */
  private readonly resultMask: number;
  /**
   * Per CPU: the architecture's walk-control word, handed to the codec on every walk of that CPU
   * (e.g. x86 reserved address bits for its MAXPHYADDR and EFER.NXE, and CR4.PGE).
   */
  protected readonly walkControl: Int32Array;
  /**
   * Table-driven check, one typed array for every CPU (an access reads one array): CPU c's stretch
   * starts at c << checkStateShift and holds a copy of its current mode's check table, then at
   * `rightsOffset` the rights word governing supervisor pages and the one governing user pages.
   * After every CPU's stretch, from `flagsAt`, the TLB flags (see hitNumbers).
   */
  private readonly checkState: Int32Array;
  private readonly checkStateShift: number;
  private readonly rightsOffset: number;
  /** 1 / pages per leaf table (a power of two: exact): page number -> paging-structure-cache region. */
  private readonly regionScale: number;
  private readonly tableDriven: boolean;
  private readonly indexShift: number;
  private readonly indexMask: number;
  private readonly indexBits: number;
  private readonly rightsBits: number;
  private readonly rightsMask: number;
  private readonly active: Int32Array;
  /** Root of the lower half each CPU walks (from its active space). */
  private readonly activeRoot: Float64Array;
  // The last fault of each CPU, as numbers: a faulting access allocates nothing.
  private readonly faultCode: Int32Array;
  private readonly faultAddress: Float64Array;
  private readonly faultKind: Uint8Array;
  private readonly faultMode: Uint8Array;
  private readonly faultLevel: Int8Array;
  private readonly faultFlags: Int32Array;

  constructor(options: KitMachineOptions) {
    const cpus = options.cpus ?? DEFAULT_MACHINE_CONFIG.cpus;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 4096)
      throw new DomainError('invalid', `cpus ${String(cpus)} must be a whole number 1..4096`);
    const maxPhysAddr = options.maxPhysAddr ?? 48;
    if (!Number.isInteger(maxPhysAddr) || maxPhysAddr < 32 || maxPhysAddr > 52) {
      throw new DomainError('invalid', `maxPhysAddr ${String(maxPhysAddr)} must be a whole number 32..52`);
    }
    const ceiling = options.flushCeiling ?? 33;
    if (!Number.isInteger(ceiling) || ceiling < 0)
      throw new DomainError('invalid', `flushCeiling ${String(ceiling)} must be a whole number >= 0`);
    this.arch = options.arch;
    this.cpuCount = cpus;
    this.codec = options.codec;
    const entries = options.tlbEntries ?? 512;
    if (!Number.isInteger(entries) || entries < 1 || (entries & (entries - 1)) !== 0 || entries > 1 << 20)
      throw invalidArgument(`tlbEntries ${String(entries)} must be a power of two between 1 and 2^20`);
    if (cpus * entries > 2 ** 26)
      throw invalidArgument(`cpus x tlbEntries ${cpus * entries} exceeds the limit of 2^26 TLB entries per machine`);
    const tlbSize = cpus * entries;
    const walkEntries = cpus * WALK_CACHE_ENTRIES;
    // Every array of the TLBs, the counters and the check state in one buffer (view-carver.ts).
    const carver = new ViewCarver(
      tlbSize + cpus * MACHINE_EVENT_COUNT + tlbSize + 2 * walkEntries,
      (cpus << CHECK_STATE_SHIFT) + tlbSize + walkEntries + tlbSize,
      tlbSize,
    );
    this.hitNumbers = carver.float64(tlbSize + cpus * MACHINE_EVENT_COUNT);
    this.events = new EventCounters(cpus, this.hitNumbers.subarray(tlbSize));
    this.counts = this.events.counts;
    this.accessCountAt = tlbSize + ACCESS_EVENT;
    this.memory = new PhysicalMemory({
      ramBytes: options.ramBytes ?? DEFAULT_MACHINE_CONFIG.ramBytes,
      persistentBytes: options.persistentBytes ?? DEFAULT_MACHINE_CONFIG.persistentBytes,
      maxPhysAddr,
    });
    this.split = (options.layout ?? 'split') === 'split';
    if (options.layout !== undefined && options.layout !== 'split' && options.layout !== 'shared-upper')
      throw new DomainError('invalid', `layout ${String(options.layout)} must be 'split' or 'shared-upper'`);
    this.pageTable = new RadixPageTable(this.memory, options.codec, {
      entryWritten: () => this.events.count(0, MachineEvent.PteWrite),
      upperTopEntry: this.split
        ? undefined
        : (root, index, entry) => {
            for (const other of this.lowerRoots)
              if (other !== root && other >= 0)
                this.memory.writeEntry(other + index * 8, entry.lo >>> 0, entry.hi >>> 0);
          },
    });
    this.half = this.split ? this.pageTable.coverage : this.pageTable.coverage / 2;
    this.faultInvalidates = options.faultInvalidates === true;
    this.resultMask = ~(options.internalFaultBits ?? 0);
    this.vaBits = Math.log2(this.half);
    // Halves up to 2^56 (x86 5-level paging); addresses themselves are exact numbers, |a| < 2^53.
    if (this.half > 2 ** 56)
      throw new DomainError(
        'invalid',
        `codec ${options.codec.name} covers 2^${this.vaBits} bytes per half; at most 2^56`,
      );
    this.defaultDomain = options.defaultDomain ?? 0;
    this.usableDomains = options.usableDomains ?? options.codec.domainCount;
    if (
      !Number.isInteger(this.usableDomains) ||
      this.usableDomains < 1 ||
      this.usableDomains > options.codec.domainCount
    ) {
      throw new DomainError(
        'invalid',
        `usableDomains ${String(this.usableDomains)} must be 1..${options.codec.domainCount}`,
      );
    }
    this.flushCeiling = ceiling;
    this.tlbShift = Math.log2(entries);
    this.tlbMask = entries - 1;
    this.checkStateShift = CHECK_STATE_SHIFT;
    this.flagsAt = cpus << CHECK_STATE_SHIFT;
    this.checkState = carver.int32(this.flagsAt + tlbSize);
    // -1 (a fault) until the architecture sets each CPU's table with setCheckTable: it must.
    this.checkState.fill(-1, 0, this.flagsAt);
    const tlbs: Tlb[] = [];
    for (let cpu = 0; cpu < cpus; cpu++) {
      tlbs.push(
        new Tlb(entries, options.codec.bitsPerLevel, {
          tag: this.hitNumbers.subarray(cpu * entries, (cpu + 1) * entries),
          frame: carver.float64(entries),
          flags: this.checkState.subarray(this.flagsAt + cpu * entries, this.flagsAt + (cpu + 1) * entries),
          walkTag: carver.float64(WALK_CACHE_ENTRIES),
          walkTable: carver.float64(WALK_CACHE_ENTRIES),
          walkLimit: carver.int32(WALK_CACHE_ENTRIES),
          largeSlots: carver.int32(entries),
          largeListed: carver.uint8(entries),
        }),
      );
    }
    this.tlbs = tlbs;
    this.modes = new Uint8Array(cpus).fill(Privilege.Supervisor);
    this.active = new Int32Array(cpus);
    this.activeRoot = new Float64Array(cpus);
    this.faultCode = new Int32Array(cpus);
    this.faultAddress = new Float64Array(cpus);
    this.faultKind = new Uint8Array(cpus);
    this.faultMode = new Uint8Array(cpus);
    this.faultLevel = new Int8Array(cpus);
    this.faultFlags = new Int32Array(cpus);
    this.walkControl = new Int32Array(cpus);
    const tableCheck = options.tableCheck;
    this.tableDriven = tableCheck !== undefined;
    this.indexShift = tableCheck?.indexShift ?? 0;
    this.indexBits = tableCheck?.indexBits ?? 0;
    this.indexMask = (1 << this.indexBits) - 1;
    this.rightsBits = tableCheck?.rightsBits ?? 0;
    this.rightsMask = (1 << this.rightsBits) - 1;
    if (
      tableCheck !== undefined &&
      (tableCheck.indexShift !== TF_ARCH_SHIFT ||
        tableCheck.indexBits !== CHECK_INDEX_BITS ||
        tableCheck.rightsBits !== CHECK_RIGHTS_BITS)
    )
      throw new DomainError(
        'invalid',
        `tableCheck must be { indexShift: ${TF_ARCH_SHIFT}, indexBits: ${CHECK_INDEX_BITS}, rightsBits: ${CHECK_RIGHTS_BITS} } (the shape the access path spells out)`,
      );
    this.rightsOffset = CHECK_RIGHTS_AT;
    for (let cpu = 0; cpu < cpus; cpu++) this.setRights(cpu, 0, 0);
    this.regionScale = 1 / 2 ** options.codec.bitsPerLevel;
    this.bootMemory();
  }

  // ---- what an architecture provides ------------------------------------------------------------

  abstract domainSpace(governs: Privilege): DomainSpace | undefined;
  /**
   * The access check, from the cached translation flags and the CPU's registers read NOW: 0, or a
   * fault code whose low four bits are a `FaultKind`. Runs on every access: no allocation.
   * The default is the table-driven check of KitMachineOptions.tableCheck; an architecture whose
   * check does not fit one rights word per page privilege overrides it.
   */
  protected checkAccess(cpu: number, flags: number, kind: AccessKind): number {
    // CHECK_STATE_SHIFT 7, CHECK_RIGHTS_AT 96, TF_USER bit 6, TF_ARCH_SHIFT 10, 3 index bits,
    // TF_DOMAIN_SHIFT 16, 2 rights bits: literals (see the check beside EVENT_STRIDE).
    const state = this.checkState;
    const base = cpu << 7;
    const rights = state[base | 96 | ((flags >>> 6) & 1)];
    return state[
      base | (((((flags >>> 10) & 7) | (kind << 3)) << 2) | ((rights >>> (((flags >>> 16) & 0xff) << 1)) & 3))
    ];
  }

  /** Table-driven check: the CPU's mode changed, this is its table now (copied: a few dozen words). */
  protected setCheckTable(cpu: number, table: Int32Array): void {
    if (table.length !== this.rightsOffset)
      throw new Error(`internal: a check table has ${table.length} entries, the tableCheck shape ${this.rightsOffset}`);
    this.checkState.set(table, cpu << this.checkStateShift);
    this.checkVersion++;
  }

  /**
   * Table-driven check: the rights words the CPU's accesses read from now on, the one governing
   * supervisor pages and the one governing user pages. O(1), and nothing cached changes.
   */
  protected setRights(cpu: number, supervisor: number, user: number): void {
    const at = (cpu << this.checkStateShift) + this.rightsOffset;
    this.checkState[at] = supervisor;
    this.checkState[at + 1] = user;
    this.checkVersion++;
  }

  /** The architecture's report of a recorded fault (built only when asked for). */
  protected abstract describeFault(record: KitFaultRecord): FaultReport;
  /** Put every CPU register the architecture owns back to its reset value (reboot). */
  protected abstract resetArchitecture(): void;

  /** The code of a translation fault (no valid leaf) at `level`; architectures may add bits. */
  protected translationFaultCode(_cpu: number, _kind: AccessKind, _level: number): number {
    return FaultKind.NotPresent;
  }

  /** The code of a reserved-bit fault found at `level` (codecs with reservedBits only). */
  protected reservedFaultCode(_cpu: number, _kind: AccessKind, _level: number): number {
    return FaultKind.Reserved;
  }

  /**
   * The code of an access outside both halves, where no walk can start. Default: a translation fault
   * at the root level (Arm ARM D8.2.4); x86 raises #GP for a non-canonical address instead.
   */
  protected outOfRangeFaultCode(cpu: number, kind: AccessKind): number {
    return this.translationFaultCode(cpu, kind, this.codec.levels - 1);
  }

  /** The walk-control word `translate` walks with (software's lookups, no CPU): default 0. */
  protected translationControl(): number {
    return 0;
  }

  /** Called after a fault is recorded (e.g. x86 sets CR2 for a #PF). Not on the allowed path. */
  protected faultRecorded(_cpu: number, _code: number, _address: number): void {}

  // ---- CPUs and counting --------------------------------------------------------------------------

  /** Throws DomainError('invalid') for a CPU the machine does not have. */
  checkCpu(cpu: number): void {
    if (typeof cpu !== 'number' || !Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpuCount) {
      throw invalidArgument(`CPU ${String(cpu)} does not exist (the machine has ${this.cpuCount})`);
    }
  }

  /** Count an event on a CPU (an index increment). */
  protected count(cpu: number, event: MachineEvent, n = 1): void {
    this.counts[cpu * MACHINE_EVENT_COUNT + event] += n;
  }

  /** The CPU's TLB (tests, reports, architecture maintenance instructions). */
  tlb(cpu: number): Tlb {
    this.checkCpu(cpu);
    return this.tlbs[cpu];
  }

  /** Invalidate one page's translations on one CPU (INVLPG, TLBI VAE1, tlbiel): counted. */
  invalidatePage(cpu: number, virtual: number): void {
    this.checkCpu(cpu);
    const address = this.address(virtual);
    this.count(cpu, MachineEvent.TlbFlushPage);
    this.tlbs[cpu].invalidatePage(Math.floor(address / PAGE_SIZE));
  }

  /** A public-API virtual address (number or bigint) in signed number form, else DomainError('invalid'). */
  protected address(virtual: number | bigint): number {
    try {
      return toAddress(virtual, 'virtual address');
    } catch (error) {
      throw invalidArgument((error as Error).message);
    }
  }

  /** Invalidate a CPU's whole TLB (TLBI VMALLE1, tlbiel all): counted. */
  flushTlb(cpu: number): void {
    this.checkCpu(cpu);
    this.count(cpu, MachineEvent.TlbFlushAll);
    this.tlbs[cpu].flushAll();
  }

  // ---- address spaces -----------------------------------------------------------------------------

  private bootMemory(): void {
    this.lowerRoots = [];
    this.upperRoot = this.split ? this.pageTable.allocateTable() : -1;
    this.createAddressSpace();
    for (let cpu = 0; cpu < this.cpuCount; cpu++) {
      this.active[cpu] = 0;
      this.activeRoot[cpu] = this.lowerRoots[0];
    }
  }

  createAddressSpace(): AddressSpaceId {
    const root = this.pageTable.allocateTable();
    // 'shared-upper': a new root starts with the upper half of space 0 (Linux pgd_alloc).
    if (!this.split && this.lowerRoots.length > 0) this.pageTable.copyUpperHalf(this.lowerRoots[0], root);
    this.lowerRoots.push(root);
    return this.lowerRoots.length - 1;
  }

  /**
   * Adopt page tables software placed in physical memory as a new address space: `root` is the
   * physical address of its root table (what CR3 or TTBR0 would hold; in the 'split' layout the
   * lower half's root, the upper half stays the machine's shared one). From then on the walker reads
   * those tables as they are in memory, so an entry written with `memory.writeEntry` is the
   * translation (after the invalidation the architecture requires: `invalidatePage`, `flushTlb` or
   * an `activate`). Nothing is copied into the root: in the 'shared-upper' layout software puts the
   * upper-half entries there itself (Linux pgd_alloc), and later upper-half maps by the machine are
   * copied into it as into every root. map, unmap, attach and translate work on the space too.
   * Refused (DomainError('invalid'), nothing changed): a root that is not a 4 KiB-aligned page of
   * RAM or PMEM, or the root of an existing space.
   */
  adoptAddressSpace(root: number): AddressSpaceId {
    if (typeof root !== 'number' || !Number.isInteger(root) || root < 0 || root % PAGE_SIZE !== 0)
      throw invalidArgument(`root table ${String(root)} must be a 4 KiB-aligned physical address`);
    if (!this.memory.containsRange(root, PAGE_SIZE))
      throw invalidArgument(`root table ${formatAddress(root)} is not inside RAM or PMEM`);
    const existing = this.lowerRoots.indexOf(root);
    if (existing >= 0 || root === this.upperRoot)
      throw invalidArgument(
        `root table ${formatAddress(root)} is already the root of ${existing >= 0 ? `address space ${existing}` : 'the upper half'}`,
      );
    this.lowerRoots.push(root);
    return this.lowerRoots.length - 1;
  }

  /**
   * Release an adopted (or created) address space whose tables software freed (Linux pgd_free):
   * the machine no longer walks its root or writes kernel-half entries into it, so the page may be
   * reused for anything, even as the root of a space adopted later. The id stays taken; using it
   * again is refused. Refused (DomainError('invalid'), nothing changed): space 0, a space that does
   * not exist or was released, or one a CPU is running in (switch away first: its TLB entries go
   * with the switch).
   */
  releaseAddressSpace(space: AddressSpaceId): void {
    this.rootOf(space);
    if (space === 0) throw invalidArgument('address space 0 (the initial one) cannot be released');
    for (let cpu = 0; cpu < this.cpuCount; cpu++)
      if (this.active[cpu] === space) throw invalidArgument(`address space ${space} is active on CPU ${cpu}`);
    this.lowerRoots[space] = RELEASED_ROOT;
  }

  /** Physical address of a space's lower-half root, and of the upper-half root (the same in 'shared-upper'). */
  rootsOf(space: AddressSpaceId): { readonly lower: number; readonly upper: number } {
    const lower = this.rootOf(space);
    return { lower, upper: this.split ? this.upperRoot : lower };
  }

  /** Physical address of a space's own root (what TTBR0 or CR3 holds). */
  rootOf(space: AddressSpaceId): number {
    const root = typeof space === 'number' && Number.isInteger(space) ? this.lowerRoots[space] : undefined;
    if (root === undefined) throw invalidArgument(`address space ${String(space)} does not exist`);
    if (root === RELEASED_ROOT) throw invalidArgument(`address space ${space} was released`);
    return root;
  }

  private rootFor(space: AddressSpaceId, address: number): number {
    const root = this.rootOf(space);
    return address < 0 && this.split ? this.upperRoot : root;
  }

  /**
   * Switch a CPU to an address space. The TLB has no address-space tags, so non-global entries are
   * flushed (counted as TlbFlushAll), as a CR3 write does and as arm64 would without ASIDs.
   */
  activate(cpu: number, space: AddressSpaceId): void {
    this.checkCpu(cpu);
    const root = this.rootOf(space);
    this.switchRoot(cpu, root);
    this.active[cpu] = space;
  }

  /** Load `root` as the CPU's root and flush its non-global translations (an architecture may do it by instruction). */
  protected switchRoot(cpu: number, root: number): void {
    this.loadRoot(cpu, root);
    this.count(cpu, MachineEvent.TlbFlushAll);
    this.tlbs[cpu].flushNonGlobal();
  }

  /** Set the root the CPU walks (lower half, or both halves in 'shared-upper'); no flush. */
  protected loadRoot(cpu: number, root: number): void {
    this.activeRoot[cpu] = root;
    // The paging-structure cache is keyed by address alone: a new root invalidates it.
    this.tlbs[cpu].flushWalkCache();
  }

  /** The address space the CPU is currently running in. */
  activeSpace(cpu: number): AddressSpaceId {
    this.checkCpu(cpu);
    return this.active[cpu];
  }

  /** Whether `address` lies in one of the two halves. */
  inRange(address: number): boolean {
    return address >= -this.half && address < this.half;
  }

  /** Validate a virtual range: integers, aligned to `size`, inside one half. */
  private checkRange(virtual: number | bigint, length: number, size: number): number {
    const start = this.address(virtual);
    if (typeof length !== 'number' || !Number.isInteger(length) || length <= 0 || length % size !== 0) {
      throw invalidArgument(`length ${String(length)} must be a positive multiple of 0x${size.toString(16)}`);
    }
    if (Math.floor(start / size) * size !== start)
      throw invalidArgument(`virtual address ${formatAddress(start)} is not aligned to 0x${size.toString(16)}`);
    const last = start + length - 1;
    if (!this.inRange(start) || !this.inRange(last) || start < 0 !== last < 0) {
      throw invalidArgument(
        `range ${formatAddress(start)}+0x${length.toString(16)} is not inside one ${this.vaBits}-bit half of the address space`,
      );
    }
    return start;
  }

  /** Throws DomainError('invalid') for a domain the architecture cannot tag pages with. */
  checkDomain(domain: number): void {
    if (!Number.isInteger(domain) || domain < 0 || domain >= this.usableDomains) {
      throw new DomainError(
        'invalid',
        `${this.arch} domain ${String(domain)} must be 0..${this.usableDomains - 1} (${this.codec.domainField})`,
      );
    }
  }

  private checkFullyMapped(root: number, start: number, length: number, space: AddressSpaceId): void {
    const hole = this.pageTable.firstUnmapped(root, start, start + length);
    if (hole !== undefined) throw invalidArgument(`${formatAddress(hole)} is not mapped in address space ${space}`);
  }

  map(space: AddressSpaceId, virtual: number, physical: number, length: number, attrs: MappingAttributes): void {
    checkMappingAttributes(attrs);
    const pageSize = attrs.pageSize ?? PageSize.Size4K;
    const level = PAGE_SIZES.indexOf(pageSize);
    if (level < 0 || !this.pageTable.leafLevelAllowed(level) || this.pageTable.span(level) !== pageSize) {
      throw invalidArgument(`page size 0x${Number(pageSize).toString(16)} is not a leaf size of ${this.codec.name}`);
    }
    const start = this.checkRange(virtual, length, pageSize);
    const root = this.rootFor(space, start);
    if (!Number.isInteger(physical) || physical < 0 || physical % pageSize !== 0) {
      throw invalidArgument(
        `physical address ${String(physical)} must be a non-negative multiple of 0x${pageSize.toString(16)}`,
      );
    }
    if (!this.memory.containsRange(physical, length)) {
      throw invalidArgument(
        `physical range 0x${physical.toString(16)}+0x${length.toString(16)} is not inside RAM or PMEM`,
      );
    }
    const domain = attrs.domain ?? this.defaultDomain;
    this.checkDomain(domain);
    const mapped = this.pageTable.firstMapped(root, start, start + length);
    if (mapped !== undefined)
      throw invalidArgument(`${formatAddress(mapped)} is already mapped in address space ${space}`);
    this.pageTable.map(root, start, physical, length, level, {
      user: attrs.user,
      writable: attrs.writable,
      executable: attrs.executable,
      global: attrs.global ?? false,
      domain,
    });
    // No invalidation: invalid entries are never cached (Arm ARM D8.13.1; Intel SDM 4.10.2.3).
  }

  /** Remove the mappings of `[virtual, virtual+length)`. */
  unmap(space: AddressSpaceId, virtual: number, length: number): void {
    const start = this.checkRange(virtual, length, PAGE_SIZE);
    const root = this.rootFor(space, start);
    this.checkFullyMapped(root, start, length, space);
    this.pageTable.unmap(root, start, length);
    this.invalidateRange(start, length, 0);
  }

  /**
   * Re-tag [virtual, virtual+length): split straddling large pages, write the domain into every leaf,
   * then invalidate on the initiating CPU and count one shootdown per other CPU (Linux
   * flush_tlb_kernel_range). `initiator` is the CPU doing it (default 0).
   */
  attach(space: AddressSpaceId, virtual: number, length: number, domain: number, initiator = 0): void {
    const start = this.checkRange(virtual, length, PAGE_SIZE);
    const root = this.rootFor(space, start);
    this.checkDomain(domain);
    this.checkCpu(initiator);
    this.checkFullyMapped(root, start, length, space);
    this.pageTable.setDomain(root, start, length, domain);
    this.invalidateRange(start, length, initiator);
  }

  /** Invalidate a changed range on every CPU: page by page up to the ceiling, else a full flush. */
  private invalidateRange(start: number, length: number, initiator: number): void {
    const pages = length / PAGE_SIZE;
    for (let cpu = 0; cpu < this.cpuCount; cpu++) {
      if (cpu !== initiator) this.count(initiator, MachineEvent.Shootdown);
      if (pages > this.flushCeiling) {
        this.count(cpu, MachineEvent.TlbFlushAll);
        this.tlbs[cpu].flushAll();
      } else {
        this.count(cpu, MachineEvent.TlbFlushPage, pages);
        const tlb = this.tlbs[cpu];
        for (let p = 0; p < pages; p++) tlb.invalidatePage(Math.floor(start / PAGE_SIZE) + p);
      }
    }
  }

  translate(space: AddressSpaceId, virtual: number): Translation | undefined {
    const root = this.rootFor(space, 0);
    const address = this.address(virtual);
    if (!this.inRange(address)) return undefined;
    const walkRoot = address < 0 && this.split ? this.upperRoot : root;
    if (this.pageTable.walk(walkRoot, address, this.translationControl(), false) !== WALK_OK) return undefined;
    const flags = this.pageTable.flags;
    const user = (flags & TF_USER) !== 0;
    return {
      physical: this.pageTable.frame + (address & (PAGE_SIZE - 1)),
      user,
      writable: (flags & (user ? TF_USER_WRITE : TF_PRIV_WRITE)) !== 0,
      executable: (flags & (user ? TF_USER_EXEC : TF_PRIV_EXEC)) !== 0,
      domain: translationDomain(flags),
      pageSize: PAGE_SIZES[translationLevel(flags)] as PageSize,
    };
  }

  // ---- physical memory ----------------------------------------------------------------------------

  allocatePhysical(length: number, options?: { persistent?: boolean; align?: number }): number {
    if (options !== undefined && (typeof options !== 'object' || options === null))
      throw invalidArgument('allocatePhysical options must be an object');
    return this.memory.allocate(length, options);
  }

  /** Read `length` bytes of physical memory starting at `physical`. */
  readPhysical(physical: number, length: number): Uint8Array {
    return this.memory.read(physical, length);
  }

  /** Write `bytes` to physical memory starting at `physical`. */
  writePhysical(physical: number, bytes: Uint8Array): void {
    this.memory.write(physical, checkBytes(bytes));
  }

  /** Power cycle: RAM (page tables included), TLBs and CPU state are lost; PMEM and the event counts are kept. */
  reboot(): void {
    this.memory.reboot();
    for (const tlb of this.tlbs) tlb.flushAll();
    this.modes.fill(Privilege.Supervisor);
    this.faultCode.fill(0);
    this.resetArchitecture();
    this.bootMemory();
  }

  // ---- accesses -----------------------------------------------------------------------------------

  setMode(cpu: number, mode: Privilege): void {
    this.checkCpu(cpu);
    if (mode !== Privilege.User && mode !== Privilege.Supervisor)
      throw new RangeError(`mode ${String(mode)} must be Privilege.User or Privilege.Supervisor`);
    this.modes[cpu] = mode;
  }

  /** The mode (privilege) the CPU's next accesses are made in. */
  mode(cpu: number): Privilege {
    this.checkCpu(cpu);
    return this.modes[cpu] as Privilege;
  }

  /**
   * Check an access through the CPU's TLB: ACCESS_OK, or a fault code with the details kept for
   * lastFault. A hit costs an index computation, a compare and the architecture's check. A bad CPU,
   * access kind or address throws DomainError('invalid') and changes nothing.
   */
  access(cpu: number, virtual: number, kind: AccessKind): number {
    // Core's access kinds as literals (Write is 1): see the check beside CHECK_STATE_SHIFT.
    if (!(cpu >>> 0 === cpu && cpu < this.cpuCount && kind >>> 0 === kind && kind < 3 && typeof virtual === 'number'))
      this.refuse(cpu, kind, virtual);
    const numbers = this.hitNumbers;
    const words = this.checkState;
    // Integer arithmetic on the address (exact modulo 2^32 for an integer): bits 12 up give the
    // slot, and the address less its page offset gives the page number, fractional for a
    // fractional address, which no tag equals (so the miss path refuses it).
    const entry = (cpu << this.tlbShift) | ((virtual >>> 12) & this.tlbMask);
    const flags = words[this.flagsAt + entry];
    // A write through an entry whose dirty state is not cached walks again to set it (Intel SDM 4.8).
    if (numbers[entry] !== (virtual - (virtual & 4095)) / 4096 || (kind === 1 && (flags & 0x1000000) === 0))
      return this.accessMiss(cpu, virtual, kind);
    const code = this.checkAccess(cpu, flags, kind);
    if (code !== 0) return this.fault(cpu, code, virtual, kind, flags);
    numbers[this.accessCountAt + cpu * 14] += 1;
    return 0;
  }

  /**
   * Check every address of `addresses` (one kind) on one CPU; `out[i]` gets each result, exactly what
   * {@link access} would return. Returns the number of faults. A refused batch (bad CPU, kind, array,
   * or any address not an integer with |address| < 2^53) throws DomainError('invalid') and changes
   * nothing: allowed TLB hits change no state until the batch ends, and the remaining addresses are
   * all validated before the first access that would (a miss or a fault). (`out` is scratch until
   * the batch returns: a refused batch may have written some of it.)
   */
  accessBatch(cpu: number, addresses: Float64Array, kind: AccessKind, out: Int32Array | Uint32Array): number {
    // No loop here and nothing after the loops of the helpers: V8 compiles a hot loop on the fly
    // (OSR) before the code after it ever ran, and that code would then deoptimize on every call.
    this.checkCpu(cpu);
    checkAccessKind(kind);
    if (!(addresses instanceof Float64Array)) throw invalidArgument('addresses must be a Float64Array');
    if (!(out instanceof Int32Array) && !(out instanceof Uint32Array))
      throw invalidArgument('out must be an Int32Array or a Uint32Array');
    const n = addresses.length;
    if (out.length < n) throw invalidArgument(`out has ${out.length} slots for ${n} addresses`);
    this.batchValidated = false;
    // The loops return faults * (n + 1) + allowed TLB hits: counting hits here, once, keeps a
    // memory increment out of every iteration.
    let packed: number;
    if (!(this.tableDriven && this.checkAccess === KitMachine.prototype.checkAccess))
      packed = this.genericBatch(cpu, addresses, kind, out);
    else if (n >= 2 * (this.tlbMask + 1)) {
      if (this.slotKeys.length === 0) {
        this.slotKeys = new Float64Array(this.tlbMask + 1);
      }
      packed = this.slotCodeBatch(cpu, addresses, kind, out);
      // The keys now match the TLB and the check state as the batch left them.
      this.keysCpu = cpu;
      this.keysKind = kind;
      this.keysTlbVersion = this.tlbs[cpu].version;
      this.keysCheckVersion = this.checkVersion;
    } else packed = this.tableBatch(cpu, addresses, kind, out);
    const faults = Math.floor(packed / (n + 1));
    this.counts[cpu * EVENT_STRIDE + ACCESS_EVENT] += packed - faults * (n + 1);
    return faults;
  }

  /**
   * A batch access that is not an allowed TLB hit (it may change state): first, once per batch,
   * validate every address from `index` on, then do it as access() would.
   */
  private batchSlowAccess(cpu: number, addresses: Float64Array, index: number, kind: AccessKind): number {
    if (!this.batchValidated) {
      validateAddresses(addresses, index);
      this.batchValidated = true;
    }
    const tlb = this.tlbs[cpu];
    const virtual = addresses[index];
    const vpn = Math.floor(virtual / 4096);
    const slot = vpn & tlb.mask;
    const flags = tlb.flags[slot];
    if (tlb.tag[slot] !== vpn || (kind === AccessKind.Write && (flags & TF_DIRTY) === 0))
      return this.accessMiss(cpu, virtual, kind);
    const code = this.checkAccess(cpu, flags, kind);
    if (code !== ACCESS_OK) return this.fault(cpu, code, virtual, kind, flags);
    this.counts[cpu * EVENT_STRIDE + ACCESS_EVENT] += 1;
    return ACCESS_OK;
  }

  /** accessBatch with the architecture's checkAccess. */
  private genericBatch(cpu: number, addresses: Float64Array, kind: AccessKind, out: Int32Array | Uint32Array): number {
    const n = addresses.length;
    const tlb = this.tlbs[cpu];
    const tag = tlb.tag;
    const tlbFlags = tlb.flags;
    const mask = tlb.mask;
    const dirtyNeeded = kind === AccessKind.Write ? TF_DIRTY : 0;
    let faults = 0;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const address = addresses[i];
      const slot = (address >>> 12) & mask;
      const flags = tlbFlags[slot];
      if (
        tag[slot] === (address - (address & 4095)) / 4096 &&
        (flags & dirtyNeeded) === dirtyNeeded &&
        this.checkAccess(cpu, flags, kind) === 0
      ) {
        out[i] = 0;
        hits++;
      } else {
        const code = this.batchSlowAccess(cpu, addresses, i, kind);
        if (code !== 0) faults++;
        out[i] = code;
      }
    }
    return faults * (n + 1) + hits;
  }

  /** accessBatch with the table-driven check inlined and every per-CPU value read once. */
  private tableBatch(cpu: number, addresses: Float64Array, kind: AccessKind, out: Int32Array | Uint32Array): number {
    const n = addresses.length;
    const tlb = this.tlbs[cpu];
    const tag = tlb.tag;
    const tlbFlags = tlb.flags;
    const mask = tlb.mask;
    const dirtyNeeded = kind === AccessKind.Write ? TF_DIRTY : 0;
    // Nothing a batch does changes the mode (so the table) or the rights words.
    const state = this.checkState;
    const base = cpu << this.checkStateShift;
    const supervisorRights = state[base + this.rightsOffset];
    const userRights = state[base + this.rightsOffset + 1];
    const indexShift = this.indexShift;
    const indexMask = this.indexMask;
    const kindBits = kind << this.indexBits;
    const rightsBits = this.rightsBits;
    const rightsMask = this.rightsMask;
    let faults = 0;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const address = addresses[i];
      const slot = (address >>> 12) & mask;
      const flags = tlbFlags[slot];
      const rights = (flags & TF_USER) !== 0 ? userRights : supervisorRights;
      if (
        tag[slot] === (address - (address & 4095)) / 4096 &&
        (flags & dirtyNeeded) === dirtyNeeded &&
        state[
          base +
            (((((flags >>> indexShift) & indexMask) | kindBits) << rightsBits) |
              ((rights >>> (((flags >>> TF_DOMAIN_SHIFT) & 0xff) * rightsBits)) & rightsMask))
        ] === 0
      ) {
        out[i] = 0;
        hits++;
      } else {
        const code = this.batchSlowAccess(cpu, addresses, i, kind);
        if (code !== 0) faults++;
        out[i] = code;
      }
    }
    return faults * (n + 1) + hits;
  }

  /**
   * tableBatch for batches of at least twice the TLB's size: nothing a batch does changes the mode or
   * the rights words, so the check's outcome is a function of the TLB entry alone. Each slot's key
   * is computed once up front (and again for a slot a miss or fault changes): the cached page's first address
   * when an access of this kind through it is allowed, NaN otherwise. An allowed hit then costs one
   * load and a compare, like a bare TLB loop; everything else takes access()'s path.
   */
  private slotCodeBatch(cpu: number, addresses: Float64Array, kind: AccessKind, out: Int32Array | Uint32Array): number {
    const n = addresses.length;
    const tlb = this.tlbs[cpu];
    const mask = tlb.mask;
    const keys = this.slotKeys;
    if (
      this.keysCpu !== cpu ||
      this.keysKind !== kind ||
      this.keysTlbVersion !== tlb.version ||
      this.keysCheckVersion !== this.checkVersion
    )
      this.fillSlotKeys(cpu, tlb, kind);
    // Every result is 0 (allowed) but those of the accesses that leave the scan, written after it.
    out.fill(0, 0, n);
    let faults = 0;
    let slow = 0;
    let i = 0;
    for (;;) {
      // Allowed hits in a loop with no call and no store in it, so V8 keeps the arrays' bases and
      // lengths in registers; anything else leaves it for access()'s path and comes back.
      for (; i < n; i++) {
        const address = addresses[i];
        // The page's first byte by integer arithmetic, fractional for a fractional address (see access).
        if (keys[(address >>> 12) & mask] !== address - (address & 4095)) break;
      }
      if (i >= n) break;
      const slot = Math.floor(addresses[i] / 4096) & mask;
      const code = this.batchSlowAccess(cpu, addresses, i, kind);
      keys[slot] = this.slotKey(cpu, tlb, slot, kind);
      if (code !== 0) faults++;
      slow++;
      out[i] = code;
      i++;
    }
    return faults * (n + 1) + (n - slow);
  }

  /** Every slot's key, with the table-driven check inlined. */
  private fillSlotKeys(cpu: number, tlb: Tlb, kind: AccessKind): void {
    const keys = this.slotKeys;
    const tag = tlb.tag;
    const tlbFlags = tlb.flags;
    const dirtyNeeded = kind === AccessKind.Write ? TF_DIRTY : 0;
    const state = this.checkState;
    const base = cpu << this.checkStateShift;
    const supervisorRights = state[base + this.rightsOffset];
    const userRights = state[base + this.rightsOffset + 1];
    const indexShift = this.indexShift;
    const indexMask = this.indexMask;
    const kindBits = kind << this.indexBits;
    const rightsBits = this.rightsBits;
    const rightsMask = this.rightsMask;
    for (let slot = 0; slot < keys.length; slot++) {
      const flags = tlbFlags[slot];
      const rights = (flags & TF_USER) !== 0 ? userRights : supervisorRights;
      keys[slot] =
        (flags & dirtyNeeded) === dirtyNeeded &&
        state[
          base +
            (((((flags >>> indexShift) & indexMask) | kindBits) << rightsBits) |
              ((rights >>> (((flags >>> TF_DOMAIN_SHIFT) & 0xff) * rightsBits)) & rightsMask))
        ] === 0
          ? tag[slot] * 4096 // NaN for an empty slot
          : NaN;
    }
  }

  /** The key of a TLB slot for slotCodeBatch: its page's first address if an access of `kind` through it is allowed now, else NaN. */
  private slotKey(cpu: number, tlb: Tlb, slot: number, kind: AccessKind): number {
    const tag = tlb.tag[slot];
    const flags = tlb.flags[slot];
    if (tag !== tag || (kind === AccessKind.Write && (flags & TF_DIRTY) === 0)) return NaN;
    return this.checkAccess(cpu, flags, kind) === ACCESS_OK ? tag * 4096 : NaN;
  }

  /** Throw the error a bad access argument deserves (never returns). */
  private refuse(cpu: number, kind: unknown, virtual: unknown): never {
    this.checkCpu(cpu);
    checkAccessKind(kind);
    checkAccessAddress(virtual);
    throw new Error('internal: refuse() called with valid arguments');
  }

  /**
   * TLB miss (or a write needing the dirty bit): validate the address, walk, fill, check, and on an
   * allowed access set the leaf's accessed/dirty bits (codecs that manage them).
   */
  private accessMiss(cpu: number, virtual: number, kind: AccessKind): number {
    if (typeof virtual !== 'number' || Math.floor(virtual) !== virtual || virtual >= EXACT || virtual <= -EXACT)
      checkAccessAddress(virtual);
    // Outside both halves no walk can start.
    if (!(virtual >= -this.half && virtual < this.half)) return this.outOfRange(cpu, virtual, kind);
    // Literals as on the hit path: MachineEvent.PageWalk 6, MachineEvent.Access 12, 14 events per
    // CPU, AccessKind.Write 1, TF_DIRTY 0x1000000 (checked beside EVENT_STRIDE).
    const counts = this.counts;
    counts[cpu * 14 + 6] += 1;
    const tlb = this.tlbs[cpu];
    const table = this.pageTable;
    const control = this.walkControl[cpu];
    const vpn = Math.floor(virtual / 4096);
    // The paging-structure cache first: a hit walks the leaf table only (SDM 4.10.3).
    const region = Math.floor(vpn * this.regionScale); // a multiplication: V8 folds no field
    const cached = tlb.walkSlot(region);
    if (cached >= 0) {
      // A hit: the leaf table's descriptor, read from its frame's words and decoded in one call.
      const words = tlb.walkWords[cached];
      const index = table.leafIndex(virtual);
      const lo = words[index << 1] | 0;
      const hi = words[(index << 1) | 1] | 0;
      const page = table.pageFlags(lo, hi, control);
      if (page < 0) return this.walkFault(cpu, virtual, kind, page === PAGE_RESERVED ? WALK_RESERVED : WALK_INVALID, 0);
      // The limit clears permission bits only: the domain and the dirty state pass.
      const flags = page & tlb.walkLimit[cached];
      const slot = tlb.fill(vpn, this.codec.outputAddress(lo, hi, 0), flags);
      const code = this.checkAccess(cpu, flags, kind);
      if (code !== 0) return this.fault(cpu, code, virtual, kind, flags);
      // The allowed access sets the leaf's accessed flag, and dirty on a write (codecs that manage them).
      const dirty = kind === 1 && (flags & 0x1000000) === 0;
      table.markPage(words, index, lo, hi, dirty);
      if (dirty) tlb.flags[slot] = flags | 0x1000000;
      counts[cpu * 14 + 12] += 1;
      return 0;
    }
    return this.walkAndRefill(cpu, virtual, kind, vpn, region);
  }

  /** accessMiss without a paging-structure-cache hit: the whole walk, which fills that cache too. */
  private walkAndRefill(cpu: number, virtual: number, kind: AccessKind, vpn: number, region: number): number {
    const tlb = this.tlbs[cpu];
    const table = this.pageTable;
    const root = virtual < 0 && this.split ? this.upperRoot : this.activeRoot[cpu];
    const result = table.walk(root, virtual, this.walkControl[cpu], true);
    if (result !== WALK_OK) return this.walkFault(cpu, virtual, kind, result, table.level);
    const leafTable = table.leafTableWords();
    if (leafTable !== undefined) tlb.cacheWalk(region, table.leafTable, table.leafTableLimit, leafTable);
    const flags = table.flags;
    const slot = tlb.fill(vpn, table.frame, flags);
    const code = this.checkAccess(cpu, flags, kind);
    if (code !== 0) return this.fault(cpu, code, virtual, kind, flags);
    // The allowed access sets the leaf's accessed flag, and dirty on a write (codecs that manage them).
    if (kind === 1 && (flags & 0x1000000) === 0) {
      table.markLeaf(true);
      tlb.flags[slot] = flags | 0x1000000;
    } else table.markLeaf(false);
    this.counts[cpu * 14 + 12] += 1;
    return 0;
  }

  /** An access outside both halves: no walk can start. */
  private outOfRange(cpu: number, virtual: number, kind: AccessKind): number {
    const code = this.outOfRangeFaultCode(cpu, kind);
    this.recordFault(cpu, code, virtual, kind, this.modes[cpu] as Privilege, this.codec.levels - 1, 0);
    return code & this.resultMask;
  }

  /** A walk that found no valid leaf (WALK_INVALID) or a reserved bit (WALK_RESERVED). */
  private walkFault(cpu: number, virtual: number, kind: AccessKind, result: number, level: number): number {
    const code =
      result === WALK_RESERVED ? this.reservedFaultCode(cpu, kind, level) : this.translationFaultCode(cpu, kind, level);
    if (this.faultInvalidates) this.tlbs[cpu].dropSlot(Math.floor(virtual / 4096));
    this.recordFault(cpu, code, virtual, kind, this.modes[cpu] as Privilege, level, 0);
    return code & this.resultMask;
  }

  /** A refused access through a cached (or just filled) translation. */
  private fault(cpu: number, code: number, virtual: number, kind: AccessKind, flags: number): number {
    if (typeof virtual !== 'number' || Math.floor(virtual) !== virtual || virtual >= EXACT || virtual <= -EXACT)
      checkAccessAddress(virtual);
    if (this.faultInvalidates) this.tlbs[cpu].dropSlot(Math.floor(virtual / 4096));
    this.recordFault(cpu, code, virtual, kind, this.modes[cpu] as Privilege, translationLevel(flags), flags);
    return code & this.resultMask;
  }

  private recordFault(
    cpu: number,
    code: number,
    address: number,
    kind: AccessKind,
    mode: Privilege,
    level: number,
    flags: number,
  ): void {
    this.faultCode[cpu] = code;
    this.faultAddress[cpu] = address;
    this.faultKind[cpu] = kind;
    this.faultMode[cpu] = mode;
    this.faultLevel[cpu] = level;
    this.faultFlags[cpu] = flags;
    this.counts[cpu * MACHINE_EVENT_COUNT + MachineEvent.Fault] += 1;
    this.faultRecorded(cpu, code, address);
  }

  /**
   * Check every page of the range first: the first fault code, or ACCESS_OK with the physical address
   * of each page's first byte in `pagePhysical` (reused scratch: a read or write allocates nothing
   * here; only a range wider than it grows it).
   */
  private checkPages(cpu: number, start: number, length: number, kind: AccessKind): number {
    const tlb = this.tlbs[cpu];
    const pages = Math.floor((start + length - 1) / PAGE_SIZE) - Math.floor(start / PAGE_SIZE) + 1;
    if (pages > this.pagePhysical.length) this.pagePhysical = new Float64Array(pages);
    const physical = this.pagePhysical;
    let at = start;
    for (let page = 0; page < pages; page++) {
      const code = this.access(cpu, at, kind);
      if (code !== ACCESS_OK) return code;
      const vpn = Math.floor(at / PAGE_SIZE);
      physical[page] = tlb.frame[vpn & tlb.mask] + (at - vpn * PAGE_SIZE);
      at = (vpn + 1) * PAGE_SIZE;
    }
    return ACCESS_OK;
  }

  /** The physical frame the CPU's TLB caches for `virtual`, or -1 (valid right after an allowed access). */
  cachedFrame(cpu: number, virtual: number): number {
    this.checkCpu(cpu);
    const vpn = Math.floor(this.address(virtual) / PAGE_SIZE);
    const tlb = this.tlbs[cpu];
    const slot = vpn & tlb.mask;
    return tlb.tag[slot] === vpn ? tlb.frame[slot] : -1;
  }

  write(cpu: number, virtual: number, bytes: Uint8Array): number {
    this.checkCpu(cpu);
    const start = this.address(virtual);
    checkBytes(bytes);
    if (bytes.length === 0) return ACCESS_OK;
    const code = this.checkPages(cpu, start, bytes.length, AccessKind.Write);
    if (code !== ACCESS_OK) return code;
    let done = 0;
    for (let page = 0; done < bytes.length; page++) {
      const physical = this.pagePhysical[page];
      const n = Math.min(PAGE_SIZE - (physical & (PAGE_SIZE - 1)), bytes.length - done);
      this.memory.copyIn(physical, bytes, done, n);
      done += n;
    }
    return ACCESS_OK;
  }

  read(cpu: number, virtual: number, length: number): Uint8Array | undefined {
    this.checkCpu(cpu);
    const start = this.address(virtual);
    checkInteger(length, 'length', 0, MAX_IO_BYTES);
    const out = new Uint8Array(length);
    if (length === 0) return out;
    if (this.checkPages(cpu, start, length, AccessKind.Read) !== ACCESS_OK) return undefined;
    let done = 0;
    for (let page = 0; done < length; page++) {
      const physical = this.pagePhysical[page];
      const n = Math.min(PAGE_SIZE - (physical & (PAGE_SIZE - 1)), length - done);
      this.memory.copyOut(physical, out, done, n);
      done += n;
    }
    return out;
  }

  lastFault(cpu: number): AccessFault | undefined {
    this.checkCpu(cpu);
    const code = this.faultCode[cpu];
    if (code === 0) return undefined;
    const record: KitFaultRecord = {
      cpu,
      code,
      address: this.faultAddress[cpu],
      access: this.faultKind[cpu] as AccessKind,
      mode: this.faultMode[cpu] as Privilege,
      level: this.faultLevel[cpu],
      flags: this.faultFlags[cpu],
    };
    const report = this.describeFault(record);
    const { address, access, mode } = record;
    const cause = report.cause ?? faultCauseOf(code);
    // Two literals rather than a spread of an optional part: the same keys in the same order.
    return report.domain !== undefined
      ? { cpu, address, access, mode, cause, domain: report.domain, detail: report.detail, summary: report.summary }
      : { cpu, address, access, mode, cause, detail: report.detail, summary: report.summary };
  }
}
