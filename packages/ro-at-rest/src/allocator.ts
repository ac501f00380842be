import { type Denials } from '@pkeysim/core';
import {
  acquireConsumerKey,
  describeThread,
  DIRECT_MAP_BASE,
  formatAddress,
  type Kernel,
  KernelError,
  type KeyUnavailableReason,
  PAGE_SIZE,
  relaxReadFault,
  type Thread,
} from '@pkeysim/kernel';

/** What a stray write to read-only-at-rest data does: oops (strict), or warn and let it through (relaxed). */
export type RoMode = 'strict' | 'relaxed';
/** Every accepted {@link RoMode}. */
export const RO_MODES: readonly RoMode[] = ['strict', 'relaxed'];

/** The static key of read-only-at-rest data (write-disabled by default), in the V7..V10 PKS_KEY_* naming. */
export const RO_KEY_NAME = 'PKS_KEY_RO_AT_REST';

/** Where the allocator stands: protecting, switched off, or without a key (and why). */
export type RoState = 'enabled' | 'disabled' | KeyUnavailableReason;

/** An object type: its name and its fields, each an unsigned 32-bit word in declaration order. */
export interface RoTypeSpec<F extends string> {
  readonly name: string;
  readonly fields: readonly F[];
}

/** An object's value: each field as an unsigned 32-bit word. */
export type RoValue<F extends string> = Readonly<Record<F, number>>;

/** A stray write the key caught, reported with the object's type and the writers that should have been used. */
export interface RoStrayReport {
  readonly type: string;
  readonly address: number;
  readonly offset: number;
  /** The field the write hit (undefined for a slab slot that holds no live object). */
  readonly field: string | undefined;
  readonly thread: string;
  readonly writers: readonly string[];
  readonly outcome: 'oops' | 'allowed';
  readonly message: string;
}

/** Options for the read-only-at-rest allocator: protection on or off, the fault mode and the slab size. */
export interface RoAllocatorOptions {
  /** false allocates the same objects on the default key, unprotected (for comparison). Default true. */
  readonly protection?: boolean;
  /** What a stray write does (default strict). */
  readonly mode?: RoMode;
  /** Pages per slab (default 1). */
  readonly slabPages?: number;
}

/** One allocated object: its type's cache and its kernel address. */
export class RoObject<F extends string> {
  /** @internal */ live = true;
  constructor(
    readonly cache: RoCache<F>,
    readonly address: number,
  ) {}
  get type(): string {
    return this.cache.name;
  }
}

/** What a declared writer may do with the object it was called for. */
export interface RoWriterContext<F extends string> {
  readonly cpu: number;
  /** The object's current value (a checked read). */
  get(): RoValue<F>;
  /** Store some fields (checked stores, inside the window). */
  set(value: Partial<RoValue<F>>): void;
}

/** A function declared as a writer of one type: the only code roWrite opens the key for. */
export interface RoWriter<F extends string, A> {
  readonly name: string;
  readonly cache: RoCache<F>;
  /** The writer's code, run with the key open for the running thread. */
  readonly body: (w: RoWriterContext<F>, arg: A) => void;
}

/** An open write window (the two halves of roWrite, for a writer that sleeps inside it). */
export interface RoWindow<F extends string> {
  readonly cpu: number;
  readonly thread: Thread;
  readonly object: RoObject<F>;
  readonly writer: string;
  readonly context: RoWriterContext<F>;
  open: boolean;
}

/** @internal Where {@link RoCache.storeFields} sends each field's word: true when the store landed. */
export interface RoWordStore {
  storeWord(address: number, bytes: Uint8Array): boolean;
}

/**
 * An open window and its writer's context in one object (the context is the window itself): a
 * window allocates no closures, and its stores go through {@link storeWord}.
 */
class WriteWindow<F extends string> implements RoWindow<F>, RoWriterContext<F>, RoWordStore {
  open = true;
  constructor(
    private readonly kernel: Kernel,
    readonly cpu: number,
    readonly thread: Thread,
    readonly object: RoObject<F>,
    readonly writer: string,
  ) {}

  get context(): RoWriterContext<F> {
    return this;
  }

  get(): RoValue<F> {
    return this.object.cache.read(this.thread.cpu, this.object);
  }

  set(value: Partial<RoValue<F>>): void {
    if (!this.open) throw new KernelError('EINVAL', `roWrite: ${this.writer}'s window is closed`);
    this.object.cache.storeFields(this.object, value, this);
  }

  storeWord(address: number, bytes: Uint8Array): boolean {
    const result = this.kernel.cpu(this.thread.cpu).write(address, bytes);
    if (!result.ok) throw new KernelError('EFAULT', `ro-at-rest: ${this.writer} store oopsed: ${result.oops.reason}`);
    return true;
  }
}

/**
 * A slab-style cache of one object size over key-protected pages: slabs of `slabPages` pages, keyed
 * in the direct map as a whole, carved into fixed-size slots.
 */
export class RoCache<F extends string> {
  readonly objectSize: number;
  readonly writers: RoWriter<F, never>[] = [];
  private readonly slabs: number[] = [];
  private readonly freeSlots: number[] = [];
  private readonly objects = new Map<number, RoObject<F>>();
  /** The 4-byte word storeFields writes each field through. */
  private readonly scratch = new Uint8Array(4);

  constructor(
    private readonly ro: RoAllocator,
    readonly spec: RoTypeSpec<F>,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(spec.name))
      throw new KernelError('EINVAL', `ro-at-rest: type name "${spec.name}" must be a C identifier`);
    if (spec.fields.length === 0 || new Set(spec.fields).size !== spec.fields.length) {
      throw new KernelError('EINVAL', `ro-at-rest: ${spec.name} needs distinct fields`);
    }
    // Slots are 8-byte aligned, as kmalloc caches' objects are at least.
    this.objectSize = Math.ceil((spec.fields.length * 4) / 8) * 8;
    if (this.objectSize > ro.slabBytes) throw new KernelError('EINVAL', `ro-at-rest: ${spec.name} does not fit a slab`);
  }

  get name(): string {
    return this.spec.name;
  }

  /** Declare `name` as a writer of this type; roWrite opens the key only for declared writers. */
  writer<A>(name: string, body: (w: RoWriterContext<F>, arg: A) => void): RoWriter<F, A> {
    if (this.writers.some((w) => w.name === name))
      throw new KernelError('EINVAL', `ro-at-rest: ${this.name} already has a writer ${name}`);
    const writer: RoWriter<F, A> = Object.freeze({ name, cache: this, body });
    this.writers.push(writer as unknown as RoWriter<F, never>);
    return writer;
  }

  /** kmem_cache_alloc(), initialised inside the allocator's own window. */
  alloc(cpu: number, initial: RoValue<F>): RoObject<F> {
    this.checkValue(initial, true);
    if (this.freeSlots.length === 0) this.grow();
    const address = this.freeSlots.pop()!;
    const object = new RoObject(this, address);
    this.objects.set(address, object);
    this.ro.withWindow(cpu, object, `${this.name}_alloc`, (w) => w.set(initial));
    return object;
  }

  /** kmem_cache_free(): the slot goes back to the cache (its contents stay until reused). */
  free(object: RoObject<F>): void {
    if (object.cache !== this || !object.live)
      throw new KernelError('EINVAL', `ro-at-rest: ${this.name} object is not live`);
    object.live = false;
    this.objects.delete(object.address);
    this.freeSlots.push(object.address);
  }

  /** A checked read of the object (reads are allowed at rest). */
  read(cpu: number, object: RoObject<F>): RoValue<F> {
    this.checkLive(object);
    const result = this.ro.kernel.cpu(cpu).read(object.address, this.objectSize);
    if (!result.ok) throw new KernelError('EFAULT', `ro-at-rest: reading ${this.name} oopsed: ${result.oops.reason}`);
    return this.decode(result.data);
  }

  /** The object's bytes as memory holds them (no access check), for verification. */
  peek(object: RoObject<F>): RoValue<F> {
    return this.decode(this.ro.kernel.machine.readPhysical(this.ro.physicalOf(object.address), this.objectSize));
  }

  /** Whether `address` is inside one of this cache's slabs. */
  containsAddress(address: number): boolean {
    // A loop, not slabs.some(): the fault callback asks this of every cache on every key fault.
    const slabs = this.slabs;
    const bytes = this.ro.slabBytes;
    for (let i = 0; i < slabs.length; i++) if (address >= slabs[i] && address < slabs[i] + bytes) return true;
    return false;
  }

  /** The slab page addresses (for reports and campaigns). */
  slabAddresses(): readonly number[] {
    return this.slabs;
  }

  /** The live object and field at `address`, for stray reports. */
  locate(address: number): { object: RoObject<F> | undefined; offset: number; field: F | undefined } {
    const slab = this.slabs.find((s) => address >= s && address < s + this.ro.slabBytes)!;
    const slot = slab + Math.floor((address - slab) / this.objectSize) * this.objectSize;
    const offset = address - slot;
    return { object: this.objects.get(slot), offset, field: this.spec.fields[Math.floor(offset / 4)] };
  }

  /**
   * @internal Store the given fields of `value` with one checked 4-byte write per field, in field
   * order, through `write.storeWord`; stops at the first store it reports failed (it may also throw).
   * One scratch word serves every store: the machine copies the bytes it writes.
   */
  storeFields(object: RoObject<F>, value: Partial<RoValue<F>>, write: RoWordStore): void {
    this.checkValue(value, false);
    const fields = this.spec.fields;
    const word = this.scratch;
    for (let i = 0; i < fields.length; i++) {
      const v = value[fields[i]];
      if (v === undefined) continue;
      putWord(word, v);
      if (!write.storeWord(object.address + i * 4, word)) return;
    }
  }

  /** @internal */
  decode(bytes: Uint8Array): RoValue<F> {
    const value = {} as Record<F, number>;
    const fields = this.spec.fields;
    // Every field starts as a heap number: a u32 often exceeds the small-integer range, and a field
    // that changed representation at its first large word would retire the value's shape and
    // deoptimize every reader compiled against it (the campaign's workers, again and again).
    for (let i = 0; i < fields.length; i++) value[fields[i]] = HEAP_NUMBER;
    for (let i = 0; i < fields.length; i++) {
      const at = i * 4;
      value[fields[i]] = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
    }
    return Object.freeze(value);
  }

  /** @internal */
  checkLive(object: RoObject<F>): void {
    if (!(object instanceof RoObject) || object.cache !== this || !object.live) {
      throw new KernelError('EINVAL', `ro-at-rest: not a live ${this.name} object`);
    }
  }

  private checkValue(value: Partial<RoValue<F>>, complete: boolean): void {
    const fields = this.spec.fields;
    let present = 0;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i];
      const v = value[field];
      if (v === undefined) {
        if (complete) throw new KernelError('EINVAL', `ro-at-rest: ${this.name}.${field} missing`);
      } else if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new KernelError('EINVAL', `ro-at-rest: ${this.name}.${field} must be a u32, got ${String(v)}`);
      } else present++;
    }
    // Every own key must be a field: more keys than fields found means an unknown one (checked slowly).
    const keys = Object.keys(value);
    if (keys.length === present) return;
    for (const key of keys) {
      if (!fields.includes(key as F)) throw new KernelError('EINVAL', `ro-at-rest: ${this.name} has no field ${key}`);
    }
  }

  private grow(): void {
    const pages = this.ro.slabBytes / PAGE_SIZE;
    const physical = this.ro.kernel.alloc_pages(pages);
    const address = this.ro.kernel.page_address(physical);
    this.ro.keySlab(address, pages);
    this.slabs.push(address);
    const slots = Math.floor(this.ro.slabBytes / this.objectSize);
    for (let i = slots - 1; i >= 0; i--) this.freeSlots.push(address + i * this.objectSize);
  }
}

/**
 * Read-only-at-rest kernel data (Kees Cook's reply to the PKS RFC, Jul 2020: data "only written by
 * a few functions ... kept write-disabled by a key", needing slab plumbing). Objects live in slabs
 * keyed with one write-disabled key; `roWrite` opens the key only while a declared writer runs and
 * only for the running thread. A stray store faults and is reported with the object's type and the
 * writer that should have been used.
 */
export class RoAllocator {
  readonly slabBytes: number;
  readonly mode: RoMode;
  readonly reports: RoStrayReport[] = [];
  private readonly stateValue: RoState;
  private readonly key: number | undefined;
  private readonly restDenials: Denials;
  private readonly caches: RoCache<string>[] = [];
  private readonly depth = new WeakMap<Thread, { depth: number; saved: Denials }>();
  private warned = false;

  constructor(
    readonly kernel: Kernel,
    options: RoAllocatorOptions = {},
  ) {
    const slabPages = options.slabPages ?? 1;
    if (!Number.isInteger(slabPages) || slabPages < 1 || slabPages > 512) {
      throw new KernelError('EINVAL', `ro-at-rest: slabPages must be 1..512, got ${String(slabPages)}`);
    }
    const mode = options.mode ?? 'strict';
    if (!RO_MODES.includes(mode))
      throw new KernelError('EINVAL', `ro-at-rest: mode must be ${RO_MODES.join(' or ')}, got ${JSON.stringify(mode)}`);
    this.mode = mode;
    this.slabBytes = slabPages * PAGE_SIZE;
    let state: RoState = 'disabled';
    let key: number | undefined;
    let rest: Denials = 0;
    if (options.protection === false) {
      kernel.log.info('ro-at-rest: protection off: objects are writable at rest');
    } else {
      const got = acquireConsumerKey(kernel, RO_KEY_NAME, 'ro-at-rest');
      if (got.ok) {
        state = 'enabled';
        key = got.key;
        rest = got.restDenials;
        kernel.pks_set_fault_callback(key, (frame, address, write) => {
          const cache = this.cacheAt(address);
          if (!cache) return false;
          if (!write) return relaxReadFault(kernel, frame, got.key, write);
          const allowed = this.report(frame.cpu, cache, address);
          return allowed && kernel.pks_update_exception(frame, got.key, 0) === 0;
        });
        kernel.log.info(`ro-at-rest: objects write-protected with key ${key} (${mode} mode)`);
      } else {
        state = got.reason;
        kernel.log.info(`ro-at-rest: objects are not write-protected: ${got.message}`);
      }
    }
    this.stateValue = state;
    this.key = key;
    this.restDenials = rest;
  }

  get state(): RoState {
    return this.stateValue;
  }
  get protected(): boolean {
    return this.stateValue === 'enabled';
  }
  get roKey(): number | undefined {
    return this.key;
  }

  /** Create the cache of an object type; each type name may be created once. */
  createCache<F extends string>(spec: RoTypeSpec<F>): RoCache<F> {
    if (this.caches.some((c) => c.name === spec.name))
      throw new KernelError('EINVAL', `ro-at-rest: a ${spec.name} cache exists`);
    const cache = new RoCache<F>(this, spec);
    this.caches.push(cache as unknown as RoCache<string>);
    return cache;
  }

  /**
   * roWrite(obj, writer): run a declared writer of the object's type with the key open for the
   * running thread on `cpu` only, and closed again when it returns (or throws).
   */
  roWrite<F extends string, A>(cpu: number, object: RoObject<F>, writer: RoWriter<F, A>, arg: A): void {
    const window = this.roWriteBegin(cpu, object, writer);
    try {
      writer.body(window.context, arg);
    } finally {
      if (this.kernel.cpu(cpu).current === window.thread && !this.kernel.panic) this.roWriteEnd(window);
    }
  }

  /** The first half of roWrite, for a writer that sleeps with its window open; close it with roWriteEnd. */
  roWriteBegin<F extends string, A>(cpu: number, object: RoObject<F>, writer: RoWriter<F, A>): RoWindow<F> {
    object.cache.checkLive(object);
    if (!object.cache.writers.includes(writer as unknown as RoWriter<F, never>)) {
      const declared = object.cache.writers.map((w) => w.name).join(', ') || 'none';
      const name = (writer as { name?: unknown })?.name;
      throw new KernelError(
        'EINVAL',
        `roWrite: ${String(name)} is not a declared writer of ${object.type} (declared: ${declared})`,
      );
    }
    return this.open(cpu, object, writer.name);
  }

  /** The second half of roWrite: close a window opened by roWriteBegin, on the thread that opened it. */
  roWriteEnd<F extends string>(window: RoWindow<F>): void {
    if (!window.open) throw new KernelError('EINVAL', `roWrite: the ${window.writer} window is already closed`);
    const current = this.kernel.cpu(window.thread.cpu).current;
    if (current !== window.thread)
      throw new KernelError(
        'EINVAL',
        `roWrite: ${window.writer}'s window must be closed by ${describeThread(window.thread)}`,
      );
    window.open = false;
    const entry = this.depth.get(window.thread)!;
    entry.depth--;
    if (entry.depth === 0 && this.protected)
      this.kernel.cpu(window.thread.cpu).pks_update_protection(this.key!, entry.saved);
  }

  /** @internal The allocator's own window (object initialisation). */
  withWindow<F extends string>(
    cpu: number,
    object: RoObject<F>,
    writer: string,
    fn: (w: RoWriterContext<F>) => void,
  ): void {
    const window = this.open(cpu, object, writer);
    try {
      fn(window.context);
    } finally {
      if (this.kernel.cpu(cpu).current === window.thread && !this.kernel.panic) this.roWriteEnd(window);
    }
  }

  /** @internal Key a new slab in the direct map. */
  keySlab(address: number, pages: number): void {
    if (!this.protected) return;
    const rc = this.kernel.set_memory_pks(address, pages, this.key!);
    if (rc !== 0) throw new KernelError('EINVAL', `ro-at-rest: set_memory_pks failed (${rc})`);
  }

  /** @internal __pa() of a direct-map address. */
  physicalOf(address: number): number {
    return address - DIRECT_MAP_BASE;
  }

  private open<F extends string>(cpu: number, object: RoObject<F>, writer: string): RoWindow<F> {
    const thread = this.kernel.cpu(cpu).current;
    const entry = this.depth.get(thread) ?? { depth: 0, saved: this.restDenials };
    if (entry.depth === 0 && this.protected) {
      entry.saved = this.kernel.space!.denialsOf(thread.pkrs, this.key!);
      this.kernel.cpu(cpu).pks_set_readwrite(this.key!);
    }
    entry.depth++;
    this.depth.set(thread, entry);
    return new WriteWindow(this.kernel, cpu, thread, object, writer);
  }

  /** The cache whose slabs hold `address`, if any. */
  private cacheAt(address: number): RoCache<string> | undefined {
    for (const cache of this.caches) if (cache.containsAddress(address)) return cache;
    return undefined;
  }

  /** The fault callback's report; true when the write may go on (relaxed mode). */
  private report(cpu: number, cache: RoCache<string>, address: number): boolean {
    const thread = this.kernel.cpu(cpu).current;
    const { object, offset, field } = cache.locate(address);
    const writers = cache.writers.map((w) => w.name);
    const allowed = this.mode === 'relaxed';
    const what = object ? `read-only ${cache.name}${field ? `.${field}` : ''}` : `a free read-only ${cache.name} slot`;
    const message = `ro-at-rest: stray write to ${what} at ${formatAddress(address)} by ${describeThread(thread)}; ${cache.name} is written only by ${writers.length > 0 ? writers.map((w) => `${w}()`).join(', ') : 'its allocator'}`;
    this.reports.push({
      type: cache.name,
      address,
      offset,
      field,
      thread: describeThread(thread),
      writers,
      outcome: allowed ? 'allowed' : 'oops',
      message,
    });
    if (!allowed || !this.warned) this.kernel.log.warn(message);
    if (allowed) this.warned = true;
    return allowed;
  }
}

/** `v` as a little-endian unsigned 32-bit word in `bytes[0..3]`. */
function putWord(bytes: Uint8Array, v: number): void {
  const w = v >>> 0;
  bytes[0] = w & 0xff;
  bytes[1] = (w >>> 8) & 0xff;
  bytes[2] = (w >>> 16) & 0xff;
  bytes[3] = w >>> 24;
}

/** A number outside the small-integer representation, that decoded fields are created with. */
const HEAP_NUMBER = 0.5;
