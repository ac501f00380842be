import { Deny, type Denials, type DomainSpace } from '@pkeysim/core';
import { Errno, errnoOf } from '../errors';
import type { KeyTable } from '../keys/key-table';
import type { KernelLog } from '../log';
import type { Sched } from '../sched/sched';
import type { LiveRights } from './live';
import type { PkrsWriter } from './pkrs-writer';
import { RightsTransitions } from './transitions';

/** The protections pks_update_protection accepts: 0, PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE (V10 PKEY_ACCESS_MASK). */
export const PKS_PROT_MASK: Denials = Deny.Access | Deny.Write;

/**
 * Rights updates of the current context: `pks_update_protection` and the window helpers. "Current"
 * is the thread on the CPU, or the handler running on its behalf: both change `thread.pkrs` and
 * the register, as V10's pks_update_protection changes current->thread.pkrs and the MSR.
 */
export class Protection {
  /** `space` when supervisor keys work (every CPU has them), otherwise undefined: no key API changes rights. */
  private readonly working: DomainSpace | undefined;
  /** The working space's withDenials, remembering each window's way there and back. */
  private readonly transitions: RightsTransitions | undefined;

  constructor(
    space: DomainSpace | undefined,
    supported: boolean,
    private readonly keys: KeyTable,
    private readonly log: KernelLog,
    private readonly sched: Sched,
    private readonly writer: PkrsWriter,
    private readonly live: LiveRights,
  ) {
    this.working = supported ? space : undefined;
    this.transitions = this.working ? new RightsTransitions(this.working, keys.domains) : undefined;
  }

  /** 0, or why `key` may not be changed (-EINVAL). */
  checkKey(key: unknown): number {
    const keys = this.keys;
    if (!keys.isInRange(key)) {
      // V10 pks_update_protection: WARN_ON_ONCE(pkey >= PKS_KEY_MAX).
      this.log.warn(`pks: key ${String(key)} out of range (PKS_KEY_MAX ${keys.domains})`);
      return -Errno.EINVAL;
    }
    if (key === keys.shape.defaultDomain) {
      this.log.warn(`pks: key ${key} is the default key and always has full access`);
      return -Errno.EINVAL;
    }
    if (!keys.isAllocated(key)) {
      this.log.warn(`pks: key ${key} is not allocated`);
      return -Errno.EINVAL;
    }
    return 0;
  }

  checkProt(prot: unknown): number {
    if (typeof prot !== 'number' || !Number.isInteger(prot) || (prot & ~PKS_PROT_MASK) !== 0) {
      // V10 pks_update_protection: WARN_ON_ONCE(protection & ~PKEY_ACCESS_MASK).
      this.log.warn(`pks: invalid protection ${String(prot)} (0, PKEY_DISABLE_ACCESS or PKEY_DISABLE_WRITE)`);
      return -Errno.EINVAL;
    }
    return 0;
  }

  /** pks_update_protection(key, prot) on `cpu`: 0, -EOPNOTSUPP without PKS, -EINVAL for a bad call. */
  update(cpu: number, key: number, prot: number): number {
    // Without PKS every key API reports unsupported (V6 pks_key_alloc: -EOPNOTSUPP).
    if (!this.working) return -Errno.EOPNOTSUPP;
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
    const transitions = this.transitions;
    if (!transitions) return;
    const thread = this.sched.current(cpu);
    // V7 pks_update_protection: an abandoned key stays read/write (pkrs_pkey_allowed_mask).
    const keys = this.keys;
    const granted = keys.anyAbandoned && keys.isAbandoned(key) ? Deny.None : denials;
    thread.pkrs = transitions.withDenials(thread.pkrs, key, granted);
    this.writer.write(cpu, this.live.of(cpu));
  }
}
