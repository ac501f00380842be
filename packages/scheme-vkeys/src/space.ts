import {
  AccessKind,
  Deny,
  DENY_ALL_FLAGS,
  type Denials,
  DomainError,
  echoValue,
  type DomainSpace,
  type DomainSpaceInfo,
  type RightsState,
  rightsState,
  rightsStateEqual,
} from '@pkeysim/core';
import { PageMap, SparseRights, SPARSE_MAX_DOMAIN } from '@pkeysim/plugin-kit';

/**
 * Hardware keys 1..14 hold virtual keys; key 15 is the parking key, access-disabled on every CPU at
 * all times, that pages of an evicted (or never loaded) virtual key carry. pkeysim's choice: libmpk
 * (USENIX ATC 2019, section 4) protects evicted page groups with page permissions instead; a parking
 * key gives the same protection with an ordinary key fault, at the cost of one hardware key.
 */
export const FIRST_SLOT = 1;
/** The parking key: hardware key 15, access-disabled on every CPU, carried by pages of a virtual key without a hardware key. */
export const PARKING_KEY = 15;
/** Hardware keys available to virtual keys (1..14). */
export const HARDWARE_SLOTS = PARKING_KEY - FIRST_SLOT;

/** Virtual key 0 is the default domain, open; every other virtual key starts access-disabled. */
export const VKEY_RIGHTS = new SparseRights('virtual-key rights', (vkey) => (vkey === 0 ? Deny.None : Deny.Access));

/** A page of a virtual key, in one address space. */
export interface VirtualPage {
  readonly space: number;
  readonly virtual: number;
}

/** What moving pages between hardware keys needs from the machine. */
export interface RetagHost {
  readonly cpuCount: number;
  /** Give `pages` hardware key `key`: PTE writes, local flush, shootdown of every other CPU. */
  retag(pages: Iterable<VirtualPage>, key: number, initiator: number): void;
}

/** The cost of virtualising keys, and what it protects against. */
export interface VirtualKeyStats {
  /** Accesses that found their virtual key without a hardware key (a miss in the key cache). */
  readonly misses: number;
  /** Virtual keys that lost their hardware key to another. */
  readonly evictions: number;
  /** PTEs written and shootdowns sent to move pages between hardware keys. */
  readonly retagPteWrites: number;
  readonly retagShootdowns: number;
  /** Rights-register writes on other CPUs to follow a key moving (inside the shootdown's IPI). */
  readonly remoteSyncs: number;
  /** Other CPUs a key move did not need to touch (their register was already right): the lazy part. */
  readonly syncsAvoided: number;
  readonly hardwareKeysInUse: number;
}

/**
 * libmpk-style virtual keys over one x86 key space (PKS or PKU): unlimited domains, of which 14 at a
 * time own a hardware key. A thread's rights are a virtual state (per virtual key); loading it writes
 * the hardware register the current key assignment implies. A virtual key gets a hardware key when
 * a CPU whose rights allow the access touches one of its pages, evicting the least recently assigned
 * one if none is free. Threads are synchronised lazily: a thread that is not running is never
 * touched (its saved state is virtual, translated when it next runs); a running one gets its
 * register rewritten inside the shootdown the move needs anyway, and only if the value changes.
 */
export class VirtualKeySpace implements DomainSpace {
  readonly info: DomainSpaceInfo;
  private readonly loaded: RightsState[];
  /** The hardware register value each CPU holds, as this space last wrote it (undefined: unknown). */
  private readonly hardware: (RightsState | undefined)[];
  private readonly slotOwner = new Float64Array(PARKING_KEY).fill(-1);
  private readonly slotStamp = new Float64Array(PARKING_KEY);
  private readonly slotOf = new Map<number, number>();
  /** Each virtual key's pages, by address space and page (kernel pages shared by every space). */
  private readonly pagesOf = new Map<number, PageMap<VirtualPage>>();
  private readonly allocated = new Set<number>();
  private clock = 0;
  /**
   * The last hardware words {@link hardwareState} derived, by the identity of their virtual state:
   * states are immutable and the kernel passes the same few around, so a context switch reuses the
   * word instead of building it key by key. Emptied whenever the slot assignment changes.
   */
  private readonly wordFrom: (RightsState | undefined)[] = [undefined, undefined, undefined, undefined];
  private readonly wordOf: (RightsState | undefined)[] = [undefined, undefined, undefined, undefined];
  private nextWord = 0;
  private counters = {
    misses: 0,
    evictions: 0,
    retagPteWrites: 0,
    retagShootdowns: 0,
    remoteSyncs: 0,
    syncsAvoided: 0,
  };

  constructor(
    readonly hardwareSpace: DomainSpace,
    private readonly host: RetagHost,
    private readonly measure: () => { pteWrites: number; shootdowns: number },
  ) {
    const hw = hardwareSpace.info;
    this.info = Object.freeze({
      id: `vkeys.${hw.id}`,
      register: `${hw.register} (virtual)`,
      governs: hw.governs,
      domains: Infinity,
      defaultDomain: 0,
      reserved: Object.freeze([
        { domain: 0, reason: 'virtual key 0 is the default domain of every mapping and stays open' },
      ]),
      deniable: hw.deniable,
      scope: 'thread',
      switchCost: 'register-write',
      // The virtual state is the kernel's to save per thread; the hardware word is derived from it.
      contextSave: 'software',
      faultReportsDomain: false,
    });
    this.loaded = new Array<RightsState>(host.cpuCount).fill(this.initialState());
    this.hardware = new Array<RightsState | undefined>(host.cpuCount).fill(undefined);
  }

  // ---- DomainSpace --------------------------------------------------------------------------------

  /** A CPU index this machine has; checked here so a bad one never reaches the hardware model. */
  private checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.loaded.length)
      throw new DomainError('invalid', `CPU ${echoValue(cpu)} does not exist (the machine has ${this.loaded.length})`);
  }

  available(cpu: number): boolean {
    this.checkCpu(cpu);
    return this.hardwareSpace.available(cpu);
  }
  enabled(cpu: number): boolean {
    this.checkCpu(cpu);
    return this.hardwareSpace.enabled(cpu);
  }
  /** Enable the hardware keys, then make the CPU's register match its virtual state. */
  enable(cpu: number): void {
    this.checkCpu(cpu);
    this.hardwareSpace.enable(cpu);
    this.syncCpu(cpu, cpu);
  }

  read(cpu: number): RightsState {
    this.checkCpu(cpu);
    this.hardwareSpace.read(cpu); // the hardware's errors (e.g. RDPKRU before CR4.PKE is #UD)
    return this.loaded[cpu];
  }

  load(cpu: number, state: RightsState): void {
    this.checkCpu(cpu);
    VKEY_RIGHTS.check(state);
    const word = this.hardwareState(state);
    this.hardwareSpace.load(cpu, word); // throws before anything changes
    this.hardware[cpu] = word;
    this.loaded[cpu] = state;
  }

  initialState(): RightsState {
    return rightsState();
  }

  denialsOf(state: RightsState, domain: number): Denials {
    VKEY_RIGHTS.check(state);
    checkVirtualKey(domain);
    return VKEY_RIGHTS.denialsOf(state, domain);
  }

  withDenials(state: RightsState, domain: number, denials: Denials): RightsState {
    VKEY_RIGHTS.check(state);
    checkVirtualKey(domain);
    if (domain === 0) throw new DomainError('invalid', 'virtual key 0 is the default domain and cannot be restricted');
    if (!Number.isInteger(denials) || denials < 0 || (denials & ~DENY_ALL_FLAGS) !== 0) {
      throw new DomainError('invalid', `denials 0x${Number(denials).toString(16)} use unknown flags`);
    }
    if ((denials & ~this.info.deniable) !== 0) {
      throw new DomainError(
        'unsupported',
        `${this.hardwareSpace.info.register} keys can deny only access and write, not execute or read alone`,
      );
    }
    return VKEY_RIGHTS.withDenials(state, domain, denials);
  }

  format(state: RightsState): string {
    VKEY_RIGHTS.check(state);
    return VKEY_RIGHTS.format(state);
  }

  // ---- virtual to hardware --------------------------------------------------------------------------

  /** The hardware word for a virtual state: each slot gets its owner's rights; free slots and the parking key stay AD. */
  hardwareState(state: RightsState): RightsState {
    const from = this.wordFrom;
    for (let i = 0; i < from.length; i++) if (from[i] === state) return this.wordOf[i]!;
    let word = this.hardwareSpace.initialState();
    for (let slot = FIRST_SLOT; slot < PARKING_KEY; slot++) {
      const owner = this.slotOwner[slot];
      if (owner >= 0) word = this.hardwareSpace.withDenials(word, slot, VKEY_RIGHTS.denialsOf(state, owner));
    }
    // Only frozen states are remembered: an unfrozen array could change under the same identity.
    if (Object.isFrozen(state)) {
      from[this.nextWord] = state;
      this.wordOf[this.nextWord] = word;
      this.nextWord = (this.nextWord + 1) & 3;
    }
    return word;
  }

  /** The slot assignment changed: every remembered hardware word is stale. */
  private forgetWords(): void {
    this.wordFrom.fill(undefined);
    this.wordOf.fill(undefined);
  }

  /** The hardware key a virtual key's pages carry now: its slot, the parking key, or 0 for the default. */
  hardwareKeyOf(vkey: number): number {
    return vkey === 0 ? 0 : (this.slotOf.get(vkey) ?? PARKING_KEY);
  }

  /** Whether the virtual rights on `cpu` allow an access of `kind` to `vkey`'s pages. */
  allows(cpu: number, vkey: number, kind: AccessKind): boolean {
    const denials = VKEY_RIGHTS.denialsOf(this.loaded[cpu], vkey);
    if (kind === AccessKind.Read) return (denials & Deny.Access) === 0;
    if (kind === AccessKind.Write) return (denials & (Deny.Access | Deny.Write)) === 0;
    return true;
  }

  /**
   * A CPU allowed to access `vkey` faulted on it: give the key a hardware key if it has none (evicting
   * the least recently assigned), then bring the CPU's register up to date. False when nothing
   * needed changing (the fault is real).
   */
  resolveMiss(cpu: number, vkey: number): boolean {
    let changed = false;
    if (!this.slotOf.has(vkey)) {
      this.counters.misses++;
      this.assign(vkey, cpu);
      changed = true;
    }
    return this.syncCpu(cpu, cpu) || changed;
  }

  private assign(vkey: number, initiator: number): void {
    let slot = -1;
    for (let s = FIRST_SLOT; s < PARKING_KEY && slot < 0; s++) if (this.slotOwner[s] < 0) slot = s;
    const before = this.measure();
    if (slot < 0) {
      slot = FIRST_SLOT;
      for (let s = FIRST_SLOT + 1; s < PARKING_KEY; s++) if (this.slotStamp[s] < this.slotStamp[slot]) slot = s;
      const victim = this.slotOwner[slot];
      // Park the victim's pages first, so no page ever carries a key that now means another domain.
      this.host.retag(this.pagesOf.get(victim)?.values() ?? [], PARKING_KEY, initiator);
      this.slotOf.delete(victim);
      this.forgetWords();
      this.counters.evictions++;
    }
    this.slotOwner[slot] = vkey;
    this.forgetWords();
    this.slotStamp[slot] = ++this.clock;
    this.slotOf.set(vkey, slot);
    this.host.retag(this.pagesOf.get(vkey)?.values() ?? [], slot, initiator);
    const after = this.measure();
    this.counters.retagPteWrites += after.pteWrites - before.pteWrites;
    this.counters.retagShootdowns += after.shootdowns - before.shootdowns;
    // Running threads on other CPUs follow inside the shootdown's IPI; sleeping ones when they next run.
    for (let cpu = 0; cpu < this.host.cpuCount; cpu++) {
      if (cpu === initiator) continue;
      if (this.syncCpu(cpu, initiator)) this.counters.remoteSyncs++;
      else this.counters.syncsAvoided++;
    }
  }

  /** Write the CPU's register if it differs from what its virtual state implies; true if written. */
  private syncCpu(cpu: number, _initiator: number): boolean {
    if (!this.hardwareSpace.enabled(cpu)) return false;
    const word = this.hardwareState(this.loaded[cpu]);
    const current = this.hardware[cpu];
    if (current !== undefined && rightsStateEqual(current, word)) return false;
    this.hardwareSpace.load(cpu, word);
    this.hardware[cpu] = word;
    return true;
  }

  // ---- pages ------------------------------------------------------------------------------------------

  /** Record that `page` carries virtual key `vkey`. */
  addPage(vkey: number, page: VirtualPage): void {
    let pages = this.pagesOf.get(vkey);
    if (!pages) this.pagesOf.set(vkey, (pages = new PageMap()));
    pages.set(page.space, page.virtual, page);
  }

  /** Forget that `page` carries virtual key `vkey`. */
  removePage(vkey: number, page: VirtualPage): void {
    const pages = this.pagesOf.get(vkey);
    pages?.delete(page.space, page.virtual);
    if (pages && pages.size === 0) this.pagesOf.delete(vkey);
  }

  /** Pages that carry `vkey`. */
  pageCount(vkey: number): number {
    return this.pagesOf.get(vkey)?.size ?? 0;
  }

  // ---- allocation (key use-after-free protection) -------------------------------------------------

  /**
   * A fresh virtual key: the lowest one that is neither allocated nor still carried by a page. A freed
   * key whose pages were not re-tagged is never handed out again, so a new owner can never get rights
   * over the old owner's memory (the pkey use-after-free libmpk fixes; x86 pkey_alloc reuses keys).
   */
  allocate(): number {
    for (let vkey = 1; vkey <= SPARSE_MAX_DOMAIN; vkey++) {
      if (!this.allocated.has(vkey) && this.pageCount(vkey) === 0) {
        this.allocated.add(vkey);
        return vkey;
      }
    }
    throw new DomainError('exhausted', 'no virtual key left');
  }

  /** Free an allocated virtual key (DomainError('invalid') if it is not); it is reused only once no page carries it. */
  free(vkey: number): void {
    if (!this.allocated.has(vkey)) throw new DomainError('invalid', `virtual key ${String(vkey)} is not allocated`);
    this.allocated.delete(vkey);
  }

  /** Freed virtual keys that pages still carry: held back from `allocate`. */
  quarantined(): number[] {
    return [...this.pagesOf.keys()].filter((vkey) => !this.allocated.has(vkey)).sort((a, b) => a - b);
  }

  /** The virtual key owning hardware key `slot`, or undefined. */
  ownerOf(slot: number): number | undefined {
    const owner = this.slotOwner[slot];
    return owner >= 0 ? owner : undefined;
  }

  /** Cost and protection counters of this space, with the hardware keys now in use. */
  stats(): VirtualKeyStats {
    return { ...this.counters, hardwareKeysInUse: this.slotOf.size };
  }

  /** Power cycle: page tables and registers are gone; every CPU starts from the initial state. */
  reset(): void {
    this.slotOwner.fill(-1);
    this.forgetWords();
    this.slotStamp.fill(0);
    this.slotOf.clear();
    this.pagesOf.clear();
    this.allocated.clear();
    this.loaded.fill(this.initialState());
    this.hardware.fill(undefined);
  }
}

export function checkVirtualKey(vkey: number): void {
  if (!Number.isInteger(vkey) || vkey < 0 || vkey > SPARSE_MAX_DOMAIN) {
    throw new DomainError('invalid', `virtual key ${String(vkey)} must be a whole number 0..${SPARSE_MAX_DOMAIN}`);
  }
}
