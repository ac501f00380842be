import { Deny, formatRightsState } from '@pkeysim/core';
import type { KernelContext } from '../context';
import { Errno } from '../errors';
import type { Protection } from '../rights/protection';
import { liveRights } from '../rights/live';
import type { TaskStruct } from '../sched/thread';
import { type KeyFaultCallback, PKS_FLAG_EXCLUSIVE, rightsName } from './key-table';
import { pksVersionTraits } from './pks-version';

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
    private readonly k: KernelContext,
    private readonly protection: Protection,
  ) {}

  /** pks_key_alloc(owner, flags): 1..15, -ENOSPC when exhausted, -EOPNOTSUPP without PKS or with static keys. */
  alloc(owner: string, flags = 0): number {
    const version = pksVersionTraits(this.k.config.pksVersion);
    // RFC: -EINVAL without PKS; EOPNOTSUPP from V1 on (V1 changelog "Changes from RFC V3").
    if (!this.k.supported) return -Errno[version.unsupportedErrno];
    if (this.k.keys.design === 'static') {
      this.k.log.warn(
        `pks_key_alloc(${String(owner)}): keys are assigned statically (PKS_KEY_*); there is no allocator`,
      );
      return -Errno.EOPNOTSUPP;
    }
    if (typeof owner !== 'string' || owner === '') {
      this.k.log.warn('pks_key_alloc: owner name missing');
      return -Errno.EINVAL;
    }
    if (!Number.isInteger(flags) || (flags & ~PKS_FLAG_EXCLUSIVE) !== 0) {
      this.k.log.warn(`pks_key_alloc(${owner}): unknown flags ${String(flags)}`);
      return -Errno.EINVAL;
    }
    if (!version.allocFlags && flags !== 0) {
      // RFC: int pks_key_alloc(const char * const pkey_user) has no flags argument.
      this.k.log.warn(`pks_key_alloc(${owner}): ${version.title} takes no flags`);
      return -Errno.EINVAL;
    }
    // V2/V3 defined PKS_FLAG_EXCLUSIVE as 0x00: a caller asking for an exclusive key passed 0.
    const recorded = version.exclusiveFlag === 0 ? 0 : flags;
    const key = this.k.keys.firstFree();
    if (key === undefined) {
      // V6 arch/x86/mm/pkeys.c pks_key_alloc.
      this.k.log.info(`Cannot allocate supervisor key for ${owner}`);
      return -Errno.ENOSPC;
    }
    // Unallocated keys are access-disabled, and stay so when allocated, until the owner opens them.
    this.k.keys.claim(key, owner, recorded, Deny.Access);
    return key;
  }

  /**
   * pks_key_free(key): sets the key back to access-disabled in the calling context, then frees it.
   * It returns nothing in every version (RFC..V6 `void pks_key_free(int pkey)`): key 0, an
   * out-of-range key, a double free and a call without PKS change nothing and report nothing to
   * the caller; pkeysim logs why (V3 replaced the WARN_ON_ONCE with pr_err).
   */
  free(cpu: number, key: number): void {
    if (!this.k.supported) return;
    if (this.k.keys.design === 'static') {
      this.k.log.warn(`pks_key_free(${String(key)}): keys are assigned statically; nothing to free`);
      return;
    }
    if (!this.k.keys.isInRange(key) || key === this.k.keys.shape.defaultDomain) {
      // V6: "if (pkey >= PKS_NUM_PKEYS || pkey <= PKS_KERN_DEFAULT_KEY) return;".
      this.k.log.warn(`pks_key_free: invalid key ${String(key)}`);
      return;
    }
    if (!this.k.keys.isAllocated(key)) {
      this.k.log.warn(`pks_key_free: key ${key} is not allocated`);
      return;
    }
    this.protection.apply(cpu, key, Deny.Access);
    this.k.keys.release(key);
  }

  /**
   * pks_abandon_protections(key) (V7 10/18): force the key read/write for good, in every thread.
   * V7 cleared the key from a global allowed mask applied on every update, on sched_in and in the
   * fault handler; pkeysim applies it at once to every live thread and register, and the key
   * table keeps later updates of the key read/write. 0, -EOPNOTSUPP where the version lacks it,
   * -EINVAL for a key that is not in use.
   */
  abandon(key: number): number {
    if (!this.k.supported || !pksVersionTraits(this.k.config.pksVersion).abandonProtections) {
      this.k.log.warn(`pks_abandon_protections: not in ${pksVersionTraits(this.k.config.pksVersion).title}`);
      return -Errno.EOPNOTSUPP;
    }
    if (!this.k.keys.isAllocated(key)) {
      this.k.log.warn(`pks_abandon_protections: key ${String(key)} is not in use`);
      return -Errno.EINVAL;
    }
    const space = this.k.space!;
    this.k.keys.abandon(key);
    const open = (thread: TaskStruct): void => {
      thread.pkrs = space.withDenials(thread.pkrs, key, Deny.None);
      for (const frame of thread.frames)
        if (frame.aux) frame.aux.pkrs = space.withDenials(frame.aux.pkrs, key, Deny.None);
    };
    for (const thread of this.k.alive) open(thread);
    for (const cpu of this.k.cpus) {
      if (!this.k.alive.includes(cpu.current)) open(cpu.current);
      this.k.writer.write(cpu.id, liveRights(this.k, cpu.id));
    }
    return 0;
  }

  /** Register the key's fault callback (V10's static pks_key_callbacks[] array, filled at run time here). */
  setFaultCallback(key: number, callback: KeyFaultCallback | undefined): number {
    if (!this.k.supported) return -Errno.EOPNOTSUPP;
    if (!this.k.keys.isAllocated(key)) {
      this.k.log.warn(`pks: cannot set a fault callback for key ${String(key)}: not allocated`);
      return -Errno.EINVAL;
    }
    if (callback !== undefined && typeof callback !== 'function') return -Errno.EINVAL;
    this.k.keys.setCallback(key, callback);
    return 0;
  }

  listing(): KeyListing {
    const space = this.k.space;
    return {
      supported: this.k.supported,
      design: this.k.keys.design,
      register: space?.info.register,
      keys: this.k.keys.domains,
      initValue: this.k.supported ? formatRightsState(this.k.initValue) : undefined,
      rows: this.k.keys.entries().map((e) => ({
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
