import { Deny, type DomainSpace, formatRightsState, type RightsState } from '@pkeysim/core';
import { Errno } from '../errors';
import type { KernelLog } from '../log';
import type { LiveRights } from '../rights/live';
import type { PkrsWriter } from '../rights/pkrs-writer';
import type { Protection } from '../rights/protection';
import type { Sched } from '../sched/sched';
import type { TaskStruct } from '../sched/thread';
import { type KeyFaultCallback, type KeyTable, PKS_FLAG_EXCLUSIVE, rightsName } from './key-table';
import type { PksVersionTraits } from './pks-version';

/** One row of the key listing. */
export interface KeyListingRow {
  readonly key: number;
  readonly owner: string;
  /** "rw", "ad" or "wd". */
  readonly defaultRights: string;
  readonly exclusive: boolean;
  readonly callback: boolean;
}

/** The series' debugfs file /sys/kernel/debug/x86/pks_keys_allocated, as data. */
export interface KeyListing {
  readonly supported: boolean;
  readonly design: 'dynamic' | 'static';
  /** The register the keys' rights live in ("PKRS"), or undefined without a supervisor space. */
  readonly register: string | undefined;
  readonly keys: number;
  /** PKS_INIT_VALUE, formatted. */
  readonly initValue: string | undefined;
  readonly rows: readonly KeyListingRow[];
}

/** Key management: the dynamic allocator (RFC..V6) and the static table (V7..V10) behind one API. */
export class PksKeys {
  constructor(
    private readonly space: DomainSpace | undefined,
    private readonly supported: boolean,
    private readonly keys: KeyTable,
    private readonly initValue: RightsState,
    private readonly log: KernelLog,
    private readonly protection: Protection,
    /** The posting whose allocator errnos and flags apply. */
    private readonly version: PksVersionTraits,
    /** What pks_abandon_protections reaches: every thread's saved rights and the live registers (V7). */
    private readonly threads: { readonly sched: Sched; readonly writer: PkrsWriter; readonly live: LiveRights },
  ) {}

  /** pks_key_alloc(owner, flags): 1..15, -ENOSPC when exhausted, -EOPNOTSUPP without PKS or with static keys. */
  alloc(owner: string, flags = 0): number {
    const version = this.version;
    // RFC: -EINVAL without PKS; EOPNOTSUPP from V1 on (V1 changelog "Changes from RFC V3").
    if (!this.supported) return -Errno[version.unsupportedErrno];
    if (this.keys.design === 'static') {
      this.log.warn(`pks_key_alloc(${String(owner)}): keys are assigned statically (PKS_KEY_*); there is no allocator`);
      return -Errno.EOPNOTSUPP;
    }
    if (typeof owner !== 'string' || owner === '') {
      this.log.warn('pks_key_alloc: owner name missing');
      return -Errno.EINVAL;
    }
    if (!Number.isInteger(flags) || (flags & ~PKS_FLAG_EXCLUSIVE) !== 0) {
      this.log.warn(`pks_key_alloc(${owner}): unknown flags ${String(flags)}`);
      return -Errno.EINVAL;
    }
    if (!version.allocFlags && flags !== 0) {
      // RFC: int pks_key_alloc(const char * const pkey_user) has no flags argument.
      this.log.warn(`pks_key_alloc(${owner}): ${version.title} takes no flags`);
      return -Errno.EINVAL;
    }
    // V2/V3 defined PKS_FLAG_EXCLUSIVE as 0x00: a caller asking for an exclusive key passed 0.
    const recorded = version.exclusiveFlag === 0 ? 0 : flags;
    const key = this.keys.firstFree();
    if (key === undefined) {
      // V6 arch/x86/mm/pkeys.c pks_key_alloc.
      this.log.info(`Cannot allocate supervisor key for ${owner}`);
      return -Errno.ENOSPC;
    }
    // Unallocated keys are access-disabled, and stay so when allocated, until the owner opens them.
    this.keys.claim(key, owner, recorded, Deny.Access);
    return key;
  }

  /**
   * pks_key_free(key): sets the key back to access-disabled in the calling context, then frees it.
   * It returns nothing in every version (RFC..V6 `void pks_key_free(int pkey)`): key 0, an
   * out-of-range key, a double free and a call without PKS change nothing and report nothing to
   * the caller; pkeysim logs why (V3 replaced the WARN_ON_ONCE with pr_err).
   */
  free(cpu: number, key: number): void {
    if (!this.supported) return;
    if (this.keys.design === 'static') {
      this.log.warn(`pks_key_free(${String(key)}): keys are assigned statically; nothing to free`);
      return;
    }
    if (!this.keys.isInRange(key) || key === this.keys.shape.defaultDomain) {
      // V6: "if (pkey >= PKS_NUM_PKEYS || pkey <= PKS_KERN_DEFAULT_KEY) return;".
      this.log.warn(`pks_key_free: invalid key ${String(key)}`);
      return;
    }
    if (!this.keys.isAllocated(key)) {
      this.log.warn(`pks_key_free: key ${key} is not allocated`);
      return;
    }
    this.protection.apply(cpu, key, Deny.Access);
    this.keys.release(key);
  }

  /**
   * pks_abandon_protections(key) (V7 10/18): force the key read/write for good, in every thread.
   * V7 cleared the key from a global allowed mask applied on every update, on sched_in and in the
   * fault handler; pkeysim applies it at once to every live thread and register, and the key
   * table keeps later updates of the key read/write. 0, -EOPNOTSUPP where the version lacks it,
   * -EINVAL for a key that is not in use.
   */
  abandon(key: number): number {
    const space = this.space;
    if (!this.supported || !space || !this.version.abandonProtections) {
      this.log.warn(`pks_abandon_protections: not in ${this.version.title}`);
      return -Errno.EOPNOTSUPP;
    }
    if (!this.keys.isAllocated(key)) {
      this.log.warn(`pks_abandon_protections: key ${String(key)} is not in use`);
      return -Errno.EINVAL;
    }
    this.keys.abandon(key);
    const open = (thread: TaskStruct): void => {
      thread.pkrs = space.withDenials(thread.pkrs, key, Deny.None);
      for (const frame of thread.frames)
        if (frame.aux) frame.aux.pkrs = space.withDenials(frame.aux.pkrs, key, Deny.None);
    };
    const { sched, writer, live } = this.threads;
    for (const thread of sched.alive) open(thread);
    for (let cpu = 0; cpu < sched.cpuCount; cpu++) {
      const current = sched.current(cpu);
      if (!sched.alive.includes(current)) open(current);
      writer.write(cpu, live.of(cpu));
    }
    return 0;
  }

  /** Register the key's fault callback (V10's static pks_key_callbacks[] array, filled at run time here). */
  setFaultCallback(key: number, callback: KeyFaultCallback | undefined): number {
    if (!this.supported) return -Errno.EOPNOTSUPP;
    if (!this.keys.isAllocated(key)) {
      this.log.warn(`pks: cannot set a fault callback for key ${String(key)}: not allocated`);
      return -Errno.EINVAL;
    }
    if (callback !== undefined && typeof callback !== 'function') return -Errno.EINVAL;
    this.keys.setCallback(key, callback);
    return 0;
  }

  listing(): KeyListing {
    const space = this.space;
    return {
      supported: this.supported,
      design: this.keys.design,
      register: space?.info.register,
      keys: this.keys.domains,
      initValue: this.supported ? formatRightsState(this.initValue) : undefined,
      rows: this.keys.entries().map((e) => ({
        key: e.key,
        owner: e.owner,
        defaultRights: rightsName(e.defaultDenials),
        exclusive: (e.flags & PKS_FLAG_EXCLUSIVE) !== 0,
        callback: e.hasCallback,
      })),
    };
  }
}

/** The listing as the debugfs file printed it: one "%3d  %s" line per key in use. */
export function formatKeyListing(listing: KeyListing): string[] {
  if (!listing.supported)
    return [`${listing.register ?? 'supervisor keys'}: not supported on this machine (-EOPNOTSUPP)`];
  const lines = [
    `# ${listing.design} keys, ${listing.register} PKS_INIT_VALUE ${listing.initValue}`,
    '# key  default  owner',
  ];
  for (const row of listing.rows) {
    lines.push(
      `${String(row.key).padStart(3)}  ${row.defaultRights.padEnd(7)}  ${row.owner}${row.exclusive ? ' (exclusive)' : ''}`,
    );
  }
  return lines;
}
