import { Deny, type Denials, type DomainSpace, type RightsState } from '@pkeysim/core';
import { type DefaultRights, denialsOfRights, type KeyDesign, type StaticConsumer } from '../config';
import { KernelError } from '../errors';
import type { ExceptionFrame } from '../entry/frame';

/**
 * A key's fault callback: `bool cb(regs, address, write)` (V10 arch/x86/mm/pkeys.c, pks_key_callbacks[]).
 * true = handled, the access is retried; false = the usual oops.
 */
export type KeyFaultCallback = (frame: ExceptionFrame, address: number, write: boolean) => boolean;

/** PKS_FLAG_EXCLUSIVE (V6 include/linux/pkeys.h): the caller will not share the key. */
export const PKS_FLAG_EXCLUSIVE = 0x1;

/** The shape of the key space the table manages (from the supervisor DomainSpace's info). */
export interface KeySpaceShape {
  readonly domains: number;
  readonly defaultDomain: number;
  readonly reserved: readonly number[];
}

/** One row of the key listing. */
export interface KeyEntry {
  readonly key: number;
  readonly owner: string;
  readonly defaultDenials: Denials;
  readonly flags: number;
  readonly hasCallback: boolean;
}

/**
 * Who owns each key, its default rights and its fault callback: the one table both key designs
 * share. The dynamic design fills it at run time, the static one at boot.
 */
export class KeyTable {
  private readonly owners: (string | undefined)[];
  private readonly flags: number[];
  private readonly defaults: Denials[];
  private readonly callbacks: (KeyFaultCallback | undefined)[];
  /** Keys given up by pks_abandon_protections (V7): read/write for good. */
  private readonly abandoned: boolean[];
  /** Whether any key is abandoned: the common case (none) costs rights updates one field read. */
  anyAbandoned = false;

  constructor(
    readonly design: KeyDesign,
    readonly shape: KeySpaceShape,
  ) {
    this.owners = new Array<string | undefined>(shape.domains).fill(undefined);
    this.flags = new Array<number>(shape.domains).fill(0);
    // Unallocated keys stay access-disabled (RFC..V6: INIT_PKRS_VALUE 0x55555554).
    this.defaults = new Array<Denials>(shape.domains).fill(Deny.Access);
    this.callbacks = new Array<KeyFaultCallback | undefined>(shape.domains).fill(undefined);
    this.abandoned = new Array<boolean>(shape.domains).fill(false);
    this.owners[shape.defaultDomain] = 'DEFAULT';
    // Key 0 is the default key of every kernel mapping and always has full access (V10 pks-keys.h).
    this.defaults[shape.defaultDomain] = Deny.None;
  }

  get domains(): number {
    return this.shape.domains;
  }

  /** A number in range that software may hand out (not the default key, not reserved). */
  isAssignable(key: number): boolean {
    return (
      Number.isInteger(key) &&
      key >= 0 &&
      key < this.shape.domains &&
      key !== this.shape.defaultDomain &&
      !this.shape.reserved.includes(key)
    );
  }

  isInRange(key: unknown): key is number {
    return typeof key === 'number' && Number.isInteger(key) && key >= 0 && key < this.shape.domains;
  }

  isAllocated(key: number): boolean {
    return this.isAssignable(key) && this.owners[key] !== undefined;
  }

  /** Lowest free assignable key, or undefined when exhausted. */
  firstFree(): number | undefined {
    for (let key = 0; key < this.shape.domains; key++)
      if (this.isAssignable(key) && this.owners[key] === undefined) return key;
    return undefined;
  }

  claim(key: number, owner: string, flags: number, defaultDenials: Denials): void {
    this.owners[key] = owner;
    this.flags[key] = flags;
    this.defaults[key] = defaultDenials;
  }

  release(key: number): void {
    this.owners[key] = undefined;
    this.flags[key] = 0;
    this.defaults[key] = Deny.Access;
    this.callbacks[key] = undefined;
  }

  /** Mark `key` abandoned: from now on every update of it gives read/write (V7 pkrs_pkey_allowed_mask). */
  abandon(key: number): void {
    this.abandoned[key] = true;
    this.anyAbandoned = true;
  }

  /** Undo `abandon` (the V7 test module resets the mask between its cases). */
  restore(key: number): void {
    if (this.isInRange(key)) this.abandoned[key] = false;
    this.anyAbandoned = this.abandoned.includes(true);
  }

  /** Whether pks_abandon_protections gave `key` up. */
  isAbandoned(key: number): boolean {
    return this.abandoned[key] === true;
  }

  ownerOf(key: number): string | undefined {
    return this.isInRange(key) ? this.owners[key] : undefined;
  }

  defaultOf(key: number): Denials {
    return this.defaults[key];
  }

  callbackOf(key: number): KeyFaultCallback | undefined {
    return this.isInRange(key) ? this.callbacks[key] : undefined;
  }

  setCallback(key: number, callback: KeyFaultCallback | undefined): void {
    this.callbacks[key] = callback;
  }

  /** The key a consumer name was given (static design), or undefined. */
  keyNamed(owner: string): number | undefined {
    const key = this.owners.indexOf(owner);
    return key > 0 ? key : undefined;
  }

  entries(): KeyEntry[] {
    const out: KeyEntry[] = [];
    this.owners.forEach((owner, key) => {
      if (owner !== undefined) {
        out.push({
          key,
          owner,
          defaultDenials: this.defaults[key],
          flags: this.flags[key],
          hasCallback: this.callbacks[key] !== undefined,
        });
      }
    });
    return out;
  }

  /**
   * PKS_INIT_VALUE: the default key open, every consumer's declared default, every other key
   * access-disabled (V10 arch/x86/include/asm/pks.h). With the dynamic design this is the early
   * INIT_PKRS_VALUE 0x55555554, since no key is allocated at boot.
   */
  initialState(space: DomainSpace): RightsState {
    let state = space.initialState();
    for (const entry of this.entries()) {
      if (entry.key !== this.shape.defaultDomain) state = space.withDenials(state, entry.key, entry.defaultDenials);
    }
    return state;
  }
}

/** Assign static consumers their keys (declared, or the next free in declaration order); throws EINVAL. */
export function assignStaticKeys(table: KeyTable, consumers: readonly StaticConsumer[]): void {
  const names = new Set<string>();
  const taken = new Set<number>();
  for (const c of consumers) {
    if (names.has(c.name)) throw new KernelError('EINVAL', `static key consumer "${c.name}" is declared twice`);
    names.add(c.name);
    if (c.key !== undefined) {
      if (!table.isAssignable(c.key)) {
        throw new KernelError(
          'EINVAL',
          `static key consumer "${c.name}": key ${c.key} is the default key, reserved or out of range (1..${table.domains - 1})`,
        );
      }
      if (taken.has(c.key))
        throw new KernelError('EINVAL', `static key consumer "${c.name}": key ${c.key} is already assigned`);
      taken.add(c.key);
    }
  }
  const planned: { consumer: StaticConsumer; key: number }[] = [];
  let next = 0;
  for (const c of consumers) {
    let key = c.key;
    if (key === undefined) {
      while (next < table.domains && (!table.isAssignable(next) || taken.has(next))) next++;
      if (next >= table.domains)
        throw new KernelError('ENOSPC', `static key consumer "${c.name}": no key left (PKS_KEY_MAX exceeded)`);
      key = next;
      taken.add(key);
    }
    planned.push({ consumer: c, key });
  }
  // Validate everything first, then fill the table (a failed boot leaves nothing half-assigned).
  for (const { consumer, key } of planned) table.claim(key, consumer.name, 0, denialsOfRights(consumer.defaultRights));
}

/** "rw", "ad" or "wd" for a key's default denials (other combinations are shown as hex flags). */
export function rightsName(denials: Denials): DefaultRights | string {
  if (denials === Deny.None) return 'rw';
  if (denials === Deny.Access || denials === (Deny.Access | Deny.Write)) return 'ad';
  if (denials === Deny.Write) return 'wd';
  return `0x${denials.toString(16)}`;
}
