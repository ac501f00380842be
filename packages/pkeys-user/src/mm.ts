import {
  AccessKind,
  type AddressSpaceId,
  Deny,
  type DomainSpace,
  type Machine,
  type MappingAttributes,
  type RightsState,
  type UserPkeyAbi,
} from '@pkeysim/core';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PKEY_DISABLE_ACCESS,
  PKEY_DISABLE_WRITE,
  PROT_EXEC,
  PROT_READ,
  PROT_VALID_MASK,
  PROT_WRITE,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SEGV_PKUERR,
  UserErrno,
} from './abi';
import { findHazards, type PkeyFreeWarning, type PkeyHazard } from './hazards';
import { isPageAligned, MMAP_BASE, MMAP_END, pageAlignUp, TASK_SIZE, USER_PAGE_SIZE, userPageStart } from './layout';
import { PkeyMap } from './pkey-map';
import { denialsOfInitRights, keyCount } from './rights';
import { type Vma, VmaList } from './vma';

const RWX = PROT_READ | PROT_WRITE | PROT_EXEC;
/** mmap_min_addr's default (mm/Kconfig DEFAULT_MMAP_MIN_ADDR 4096 on x86; distributions use 65536). */
const MMAP_MIN_ADDR = 0x10000;

/** The calling thread's live rights register: syscalls that set key rights write it (WRPKRU). */
export interface CallerRights {
  /** The current rights (RDPKRU). */
  read(): RightsState;
  /** Set the rights (WRPKRU). */
  write(state: RightsState): void;
}

/** What the page-fault path decided for a user address. */
export type FaultDecision =
  { readonly populated: true } | { readonly populated: false; readonly code: number; readonly pkey?: number };

/**
 * One process's memory: its address space on the machine, its VMAs, its pkey allocation map and the
 * frames backing its pages (populated on first touch). Every syscall validates before it changes
 * anything and returns 0 (or an address or key) or a negated errno, as the syscall does.
 */
export class UserMm {
  readonly vmas: VmaList;
  readonly pkeys: PkeyMap;
  /** Page address -> physical frame, for pages touched at least once. */
  private readonly frames: Map<number, number>;
  private readonly freeWarnings: PkeyFreeWarning[] = [];

  constructor(
    private readonly machine: Machine,
    /** The user-key space when the CPUs have it switched on (OSPKE); otherwise there is only key 0. */
    readonly keys: DomainSpace | undefined,
    /** The architecture's pkey ABI; defined whenever `keys` is. */
    readonly abi: UserPkeyAbi | undefined,
    readonly space: AddressSpaceId = machine.createAddressSpace(),
    from?: { vmas: VmaList; pkeys: PkeyMap; frames: Map<number, number> },
  ) {
    this.vmas = from?.vmas ?? new VmaList();
    const fixed = keys && abi?.executeOnly.kind === 'fixed' ? abi.executeOnly.key : -1;
    this.pkeys =
      from?.pkeys ??
      new PkeyMap(
        keyCount(keys),
        keys?.info.defaultDomain ?? 0,
        keys && abi ? abi.reservedKeys.map((r) => r.key) : [],
        fixed,
      );
    this.frames = from?.frames ?? new Map();
  }

  get defaultKey(): number {
    return this.pkeys.defaultKey;
  }

  // --- syscalls ------------------------------------------------------------------------------------

  /** mmap(addr, length, prot, flags) of anonymous memory: the address or -errno (mm/mmap.c do_mmap). */
  mmap(caller: CallerRights, addr: number, length: number, prot: number, flags: number): number {
    if (!Number.isInteger(length) || length <= 0) return -UserErrno.EINVAL;
    if ((flags & (MAP_SHARED | MAP_PRIVATE)) === 0) return -UserErrno.EINVAL;
    if ((flags & MAP_ANONYMOUS) === 0) return -UserErrno.EBADF; // fd -1 without MAP_ANONYMOUS
    const len = pageAlignUp(length);
    if (len > TASK_SIZE) return -UserErrno.ENOMEM;
    let start: number;
    if ((flags & MAP_FIXED) !== 0) {
      if (!Number.isInteger(addr) || !isPageAligned(addr) || addr < 0) return -UserErrno.EINVAL;
      if (addr > TASK_SIZE - len) return -UserErrno.ENOMEM;
      start = addr;
    } else {
      const found = this.unmappedArea(addr, len);
      if (found === undefined) return -UserErrno.ENOMEM;
      start = found;
    }
    // do_mmap: a PROT_EXEC-only mapping gets the execute-only key (0 when none can be had).
    let pkey = this.defaultKey;
    if ((prot & RWX) === PROT_EXEC) pkey = Math.max(this.executeOnlyKey(caller), this.defaultKey);
    if ((flags & MAP_FIXED) !== 0) this.unmapRange(start, start + len);
    this.vmas.insert({ start, end: start + len, prot: prot & RWX, pkey, pkeyGeneration: this.pkeys.generation(pkey) });
    return start;
  }

  /** munmap(addr, length): 0 or -EINVAL (mm/mmap.c do_vmi_munmap). Unmapping nothing succeeds. */
  munmap(addr: number, length: number): number {
    if (!Number.isInteger(addr) || !isPageAligned(addr) || addr < 0 || addr > TASK_SIZE) return -UserErrno.EINVAL;
    if (!Number.isInteger(length) || length < 0 || length > TASK_SIZE - addr) return -UserErrno.EINVAL;
    const len = pageAlignUp(length);
    if (len === 0) return -UserErrno.EINVAL;
    this.unmapRange(addr, addr + len);
    return 0;
  }

  /**
   * mprotect(start, len, prot) when `pkey` is -1, pkey_mprotect otherwise (mm/mprotect.c
   * do_mprotect_pkey). Linux applies the change VMA by VMA and stops at a hole with -ENOMEM, leaving
   * the part before it changed; pkeysim checks the whole range first and changes nothing on
   * -ENOMEM (team rule: a failed operation leaves state as it was).
   */
  mprotectPkey(caller: CallerRights, start: number, length: number, prot: number, pkey: number): number {
    if (!Number.isInteger(start) || !isPageAligned(start) || start < 0) return -UserErrno.EINVAL;
    if (!Number.isInteger(length) || length < 0) return -UserErrno.EINVAL;
    if (length === 0) return 0;
    const end = start + pageAlignUp(length);
    if (end > TASK_SIZE) return -UserErrno.ENOMEM;
    if (!Number.isInteger(prot) || (prot & ~PROT_VALID_MASK) !== 0) return -UserErrno.EINVAL; // arch_validate_prot
    if (pkey !== -1 && !this.pkeys.isAllocated(pkey)) return -UserErrno.EINVAL;
    if (!this.vmas.covers(start, end)) return -UserErrno.ENOMEM;
    const rwx = prot & RWX;
    this.vmas.update(start, end, (piece) => {
      const key = this.overrideMprotectPkey(caller, piece, rwx, pkey);
      // An explicit pkey_mprotect (or a key change) tags the VMA with the key's current owner.
      const restamp = pkey !== -1 || key !== piece.pkey;
      return {
        ...piece,
        prot: rwx,
        pkey: key,
        pkeyGeneration: restamp ? this.pkeys.generation(key) : piece.pkeyGeneration,
      };
    });
    this.syncRange(start, end);
    return 0;
  }

  /** pkey_alloc(flags, init_rights): a key, -EINVAL or -ENOSPC (mm/mprotect.c). Sets the caller's rights for it. */
  pkeyAlloc(caller: CallerRights, flags: number, initRights: number): number {
    if (flags !== 0) return -UserErrno.EINVAL; // no flags supported yet
    // PKEY_ACCESS_MASK is the architecture's: x86 ACCESS|WRITE, arm64 adds READ and EXECUTE, POWER EXECUTE.
    const mask = this.abi?.allocRights ?? PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE;
    if (!Number.isInteger(initRights) || (initRights & ~mask) !== 0) return -UserErrno.EINVAL;
    const key = this.pkeys.alloc();
    if (key === -1) return -UserErrno.ENOSPC;
    const set = this.setCallerKeyRights(caller, key, initRights);
    if (set !== 0) {
      this.pkeys.release(key);
      return set;
    }
    return key;
  }

  /**
   * pkey_free(key): 0 or -EINVAL (key 0, out of range, not allocated, the execute-only key).
   * Mappings keep the key: the use-after-free hazard, recorded as a warning and in hazards().
   */
  pkeyFree(key: number): number {
    if (!this.pkeys.free(key)) return -UserErrno.EINVAL;
    const attached = this.vmas.all().filter((v) => v.pkey === key).length;
    if (attached > 0) {
      this.freeWarnings.push({
        key,
        mappings: attached,
        message: `pkey_free(${key}): ${attached} mapping(s) still carry key ${key} (use-after-free hazard)`,
      });
    }
    return 0;
  }

  /** Mappings that carry a freed (or freed and reallocated) key, now. */
  hazards(): PkeyHazard[] {
    return findHazards(
      this.vmas.all(),
      (k) => this.pkeys.isAllocated(k),
      (k) => this.pkeys.generation(k),
      this.defaultKey,
      this.pkeys.executeOnlyKey,
    );
  }

  /** Every pkey_free that left mappings behind with the key, in order. */
  warnings(): readonly PkeyFreeWarning[] {
    return this.freeWarnings;
  }

  // --- keys ------------------------------------------------------------------------------------------

  /** arch_set_user_pkey_access(): write the key's PKEY_DISABLE_* bits into the caller's live register. */
  private setCallerKeyRights(caller: CallerRights, key: number, rights: number): number {
    if (!this.keys) return -UserErrno.EINVAL; // no OSPKE
    caller.write(this.keys.withDenials(caller.read(), key, denialsOfInitRights(rights)));
    return 0;
  }

  /**
   * __execute_only_pkey() (arch/x86/mm/pkeys.c): allocate the process's execute-only key on first
   * use and make sure the caller's rights deny data access to it. -1 when no key can be had.
   */
  executeOnlyKey(caller: CallerRights): number {
    if (!this.keys || !this.abi) return this.defaultKey; // no OSPKE: ARCH_DEFAULT_PKEY
    // arm64: execute_only_pkey() is -1, EPAN gives execute-only pages (arch/arm64/include/asm/pkeys.h).
    if (this.abi.executeOnly.kind === 'none') return -1;
    // POWER: the boot-time execute_only_key, denied in default_amr (arch/powerpc/mm/book3s64/pkeys.c).
    if (this.abi.executeOnly.kind === 'fixed') return this.abi.executeOnly.key;
    let key = this.pkeys.executeOnlyKey;
    const fresh = key === -1;
    if (fresh) {
      key = this.pkeys.alloc();
      if (key === -1) return -1;
    } else if ((this.keys.denialsOf(caller.read(), key) & Deny.Access) !== 0) {
      return key; // already access-disabled: skip the costly PKRU write
    }
    this.setCallerKeyRights(caller, key, 1 /* PKEY_DISABLE_ACCESS */);
    if (fresh) this.pkeys.executeOnlyKey = key;
    return key;
  }

  /** arch_override_mprotect_pkey() (arch/x86/mm/pkeys.c): the key a plain mprotect leaves or moves to. */
  private overrideMprotectPkey(caller: CallerRights, vma: Vma, prot: number, pkey: number): number {
    if (!this.keys) return this.defaultKey; // no OSPKE: everything is key 0
    if (pkey !== -1) return pkey; // pkey_mprotect: never override the caller's key
    if (prot === PROT_EXEC) {
      const key = this.executeOnlyKey(caller);
      if (key > 0) return key;
    } else if (vma.prot === PROT_EXEC && vma.pkey === this.pkeys.executeOnlyKey) {
      return this.defaultKey; // leaving execute-only: back to the default key
    }
    return vma.pkey;
  }

  // --- faults and pages ------------------------------------------------------------------------------

  /**
   * arch_vma_access_permitted(): on x86 pkeys never affect fetches; arm64 (por_el0_allows_pkey) and
   * POWER (pkey_access_permitted) check execute too. Data needs the key's rights in `rights`.
   */
  keyPermits(vma: Vma, access: AccessKind, rights: RightsState | undefined): boolean {
    if (!this.keys || rights === undefined) return true;
    if (access === AccessKind.Fetch) {
      return !this.abi?.keysGovernFetch || (this.keys.denialsOf(rights, vma.pkey) & Deny.Execute) === 0;
    }
    const denied = this.keys.denialsOf(rights, vma.pkey);
    if ((denied & Deny.Access) !== 0) return false;
    if (access === AccessKind.Write) return (denied & Deny.Write) === 0;
    return (denied & Deny.Read) === 0;
  }

  /**
   * The decision of do_user_addr_fault() / access_error() / bad_area_access_error() (arch/x86/mm/
   * fault.c) for a fault at `address`: populate the page (handle_mm_fault) or the si_code to
   * signal. `pkFault` is the hardware's PK bit; `walkedKey` the key of the present PTE.
   */
  resolveFault(
    address: number,
    access: AccessKind,
    present: boolean,
    pkFault: boolean,
    walkedKey: number | undefined,
    rights: RightsState | undefined,
  ): FaultDecision {
    const vma = address >= 0 && address < TASK_SIZE ? this.vmas.find(address) : undefined;
    if (!vma) return { populated: false, code: SEGV_MAPERR };
    // The hardware does not report the key (SDM 4.7): the PTE's key comes from a walk, as the PKS
    // fault path does; Linux reports vma_pkey(), which is the same key unless a racing
    // pkey_mprotect re-tagged the VMA (the race its comment describes).
    if (pkFault) return { populated: false, code: SEGV_PKUERR, pkey: walkedKey ?? vma.pkey };
    if (!this.keyPermits(vma, access, rights)) return { populated: false, code: SEGV_PKUERR, pkey: vma.pkey };
    if (access === AccessKind.Write && (vma.prot & PROT_WRITE) === 0) return { populated: false, code: SEGV_ACCERR };
    if (access === AccessKind.Fetch && (vma.prot & PROT_EXEC) === 0) return { populated: false, code: SEGV_ACCERR };
    if (present || (vma.prot & RWX) === 0) return { populated: false, code: SEGV_ACCERR };
    this.populate(userPageStart(address), vma);
    return { populated: true };
  }

  /** Give the page a zeroed frame and map it with its VMA's protection and key. */
  private populate(page: number, vma: Vma): void {
    let frame = this.frames.get(page);
    if (frame === undefined) {
      frame = this.machine.allocatePhysical(USER_PAGE_SIZE, { align: USER_PAGE_SIZE });
      this.frames.set(page, frame);
    }
    const attrs = attributesOf(vma);
    if (attrs && !this.machine.translate(this.space, page))
      this.machine.map(this.space, page, frame, USER_PAGE_SIZE, attrs);
  }

  /** The frame behind a user page, populating it (for ptrace and get_user_pages, which fault pages in). */
  frameFor(address: number): number | undefined {
    const page = userPageStart(address);
    const vma = this.vmas.find(page);
    if (!vma) return undefined;
    this.populate(page, vma);
    return this.frames.get(page);
  }

  /** Make the PTEs of [start, end) match their VMAs (after mprotect or pkey_mprotect). */
  private syncRange(start: number, end: number): void {
    for (const [page, frame] of this.frames) {
      if (page < start || page >= end) continue;
      const vma = this.vmas.find(page);
      const attrs = vma ? attributesOf(vma) : undefined;
      const pte = this.machine.translate(this.space, page);
      if (!attrs) {
        if (pte) this.machine.unmap(this.space, page, USER_PAGE_SIZE);
      } else if (!pte) {
        this.machine.map(this.space, page, frame, USER_PAGE_SIZE, attrs);
      } else if (pte.writable !== attrs.writable || pte.executable !== attrs.executable) {
        this.machine.unmap(this.space, page, USER_PAGE_SIZE);
        this.machine.map(this.space, page, frame, USER_PAGE_SIZE, attrs);
      } else if (pte.domain !== attrs.domain) {
        this.machine.attach(this.space, page, USER_PAGE_SIZE, attrs.domain ?? this.defaultKey);
      }
    }
  }

  private unmapRange(start: number, end: number): void {
    this.vmas.remove(start, end);
    for (const page of [...this.frames.keys()]) {
      if (page < start || page >= end) continue;
      if (this.machine.translate(this.space, page)) this.machine.unmap(this.space, page, USER_PAGE_SIZE);
      this.frames.delete(page);
    }
  }

  /** get_unmapped_area(): the hint when it is free, else the first gap in the mmap area. */
  private unmappedArea(hint: number, len: number): number | undefined {
    if (Number.isInteger(hint) && hint >= MMAP_MIN_ADDR && isPageAligned(hint) && hint <= TASK_SIZE - len) {
      if (!this.vmas.overlaps(hint, hint + len)) return hint;
    }
    let at = MMAP_BASE;
    for (const v of this.vmas.all()) {
      if (v.end <= at) continue;
      if (v.start >= at + len) break;
      at = v.end;
    }
    return at + len <= MMAP_END ? at : undefined;
  }

  /** fork()'s dup_mmap(): the same VMAs and keys in a new address space, each page copied. */
  fork(): UserMm {
    const frames = new Map<number, number>();
    const child = new UserMm(this.machine, this.keys, this.abi, this.machine.createAddressSpace(), {
      vmas: this.vmas.clone(),
      pkeys: this.pkeys.clone(),
      frames,
    });
    for (const [page, frame] of this.frames) {
      const copy = this.machine.allocatePhysical(USER_PAGE_SIZE, { align: USER_PAGE_SIZE });
      this.machine.writePhysical(copy, this.machine.readPhysical(frame, USER_PAGE_SIZE));
      frames.set(page, copy);
      const vma = this.vmas.find(page);
      const attrs = vma ? attributesOf(vma) : undefined;
      if (attrs) this.machine.map(child.space, page, copy, USER_PAGE_SIZE, attrs);
    }
    return child;
  }
}

/**
 * The PTE a VMA's pages get: none for PROT_NONE (x86 keeps such PTEs not present, _PAGE_PROTNONE);
 * otherwise a user page, writable with PROT_WRITE (x86 cannot express write-only or execute-only
 * in the PTE: both stay readable, execute-only then relies on the key's AD bit).
 */
function attributesOf(vma: Vma): MappingAttributes | undefined {
  if ((vma.prot & RWX) === 0) return undefined;
  return {
    user: true,
    writable: (vma.prot & PROT_WRITE) !== 0,
    executable: (vma.prot & PROT_EXEC) !== 0,
    domain: vma.pkey,
  };
}
