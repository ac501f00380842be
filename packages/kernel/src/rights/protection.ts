import { Deny, type Denials } from '@pkeysim/core';
import type { KernelContext } from '../context';
import { Errno, errnoOf } from '../errors';
import { liveRights } from './live';

/** The protections pks_update_protection accepts: 0, PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE (V10 PKEY_ACCESS_MASK). */
export const PKS_PROT_MASK: Denials = Deny.Access | Deny.Write;

/**
 * Rights updates of the current context: `pks_update_protection` and the window helpers. "Current"
 * is the thread on the CPU, or the handler running on its behalf: both change `thread.pkrs` and
 * the register, as V10's pks_update_protection changes current->thread.pkrs and the MSR.
 */
export class Protection {
  constructor(private readonly k: KernelContext) {}

  /** 0, or why `key` may not be changed (-EINVAL). */
  checkKey(key: unknown): number {
    const { keys } = this.k;
    if (!keys.isInRange(key)) {
      // V10 pks_update_protection: WARN_ON_ONCE(pkey >= PKS_KEY_MAX).
      this.k.log.warn(`pks: key ${String(key)} out of range (PKS_KEY_MAX ${keys.domains})`);
      return -Errno.EINVAL;
    }
    if (key === keys.shape.defaultDomain) {
      this.k.log.warn(`pks: key ${key} is the default key and always has full access`);
      return -Errno.EINVAL;
    }
    if (!keys.isAllocated(key)) {
      this.k.log.warn(`pks: key ${key} is not allocated`);
      return -Errno.EINVAL;
    }
    return 0;
  }

  checkProt(prot: unknown): number {
    if (typeof prot !== 'number' || !Number.isInteger(prot) || (prot & ~PKS_PROT_MASK) !== 0) {
      // V10 pks_update_protection: WARN_ON_ONCE(protection & ~PKEY_ACCESS_MASK).
      this.k.log.warn(`pks: invalid protection ${String(prot)} (0, PKEY_DISABLE_ACCESS or PKEY_DISABLE_WRITE)`);
      return -Errno.EINVAL;
    }
    return 0;
  }

  /** pks_update_protection(key, prot) on `cpu`: 0, -EOPNOTSUPP without PKS, -EINVAL for a bad call. */
  update(cpu: number, key: number, prot: number): number {
    // Without PKS every key API reports unsupported (V6 pks_key_alloc: -EOPNOTSUPP).
    if (!this.k.supported) return -Errno.EOPNOTSUPP;
    const bad = this.checkKey(key) || this.checkProt(prot);
    if (bad !== 0) return bad;
    try {
      this.apply(cpu, key, prot);
    } catch (error) {
      return errnoOf(error);
    }
    return 0;
  }

  /** Set `key`'s denials in the current context of `cpu` (validated by the caller). */
  apply(cpu: number, key: number, denials: Denials): void {
    const { space } = this.k;
    if (!space || !this.k.supported) return;
    const thread = this.k.cpus[cpu].current;
    // V7 pks_update_protection: an abandoned key stays read/write (pkrs_pkey_allowed_mask).
    const { keys } = this.k;
    thread.pkrs = space.withDenials(thread.pkrs, key, keys.anyAbandoned && keys.isAbandoned(key) ? Deny.None : denials);
    this.k.writer.write(cpu, liveRights(this.k, cpu));
  }
}
