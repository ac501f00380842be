/**
 * A process's protection-key allocation map (mm->context.pkey_allocation_map and
 * execute_only_pkey, arch/x86/include/asm/pkeys.h), architecture-neutral: the number of keys and
 * the default key come from the user DomainSpace; without one only the default key exists.
 */
export class PkeyMap {
  /** Bit k set: key k is allocated (the default key always is). */
  private map: number;
  /** The key mprotect(PROT_EXEC) uses, allocated on first use; -1 until then. */
  executeOnlyKey = -1;
  /** Bumped each time a key is handed out, to tell a reallocated key from the one a VMA was tagged with. */
  private readonly generations: Uint32Array;

  constructor(
    /** arch_max_pkey(): 16 with OSPKE, else 1 (arch/x86/include/asm/pkeys.h); 8 on arm64; up to 32 on POWER. */
    readonly keys: number,
    readonly defaultKey: number,
    /** Keys never handed out nor accepted (POWER reserved_allocation_mask: __mm_pkey_is_reserved). */
    readonly reserved: readonly number[] = [],
    /** A key the kernel reserves for execute-only mappings from the start (POWER execute_only_key), or -1. */
    fixedExecuteOnlyKey = -1,
  ) {
    if (!Number.isInteger(keys) || keys < 1 || keys > 32)
      throw new RangeError(`a pkey map holds 1..32 keys, not ${keys}`);
    this.map = 1 << defaultKey;
    for (const key of reserved) if (key < keys) this.map |= 1 << key;
    if (fixedExecuteOnlyKey >= 0 && fixedExecuteOnlyKey < keys) {
      this.map |= 1 << fixedExecuteOnlyKey;
      this.executeOnlyKey = fixedExecuteOnlyKey;
    }
    this.map >>>= 0;
    this.generations = new Uint32Array(keys);
  }

  /** A copy of the map (fork() copies the allocation state). */
  clone(): PkeyMap {
    const copy = new PkeyMap(this.keys, this.defaultKey, this.reserved);
    copy.map = this.map;
    copy.executeOnlyKey = this.executeOnlyKey;
    copy.generations.set(this.generations);
    return copy;
  }

  /**
   * mm_pkey_alloc(): the lowest free key (ffz), or -1 when all are taken. The one place that makes
   * sure a key is valid for the hardware.
   */
  alloc(): number {
    const all = this.keys === 32 ? 0xffffffff : (1 << this.keys) - 1;
    if ((this.map & all) >>> 0 === all) return -1;
    let key = 0;
    while ((this.map & (1 << key)) !== 0) key++;
    this.map = (this.map | (1 << key)) >>> 0;
    this.generations[key]++;
    return key;
  }

  /**
   * mm_pkey_is_allocated(): in range, set in the map, and not the execute-only key, which is set in
   * the map but not available to the user interfaces.
   */
  isAllocated(key: number): boolean {
    if (!Number.isInteger(key) || key < 0 || key >= this.keys) return false;
    if (key === this.executeOnlyKey || this.reserved.includes(key)) return false;
    return (this.map & (1 << key)) !== 0;
  }

  /** Set in the map (allocated by the user or as the execute-only key). */
  isTaken(key: number): boolean {
    return Number.isInteger(key) && key >= 0 && key < this.keys && (this.map & (1 << key)) !== 0;
  }

  /** mm_pkey_free(): the default key can never be freed; neither can an unallocated one. */
  free(key: number): boolean {
    if (key === this.defaultKey || !this.isAllocated(key)) return false;
    this.map = (this.map & ~(1 << key)) >>> 0;
    return true;
  }

  /** Undo an allocation that could not be completed (mm_set_pkey_free after a failed PKRU write). */
  release(key: number): void {
    this.map = (this.map & ~(1 << key)) >>> 0;
  }

  /** How many times `key` has been allocated (for use-after-free detection). */
  generation(key: number): number {
    return this.generations[key] ?? 0;
  }

  /** Allocated keys (user-allocated ones, without the default and execute-only key). */
  allocated(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.keys; k++) if (k !== this.defaultKey && this.isAllocated(k)) out.push(k);
    return out;
  }
}
