import { DENY_ALL_FLAGS, DomainError, formatDenials, rightsState, type Denials, type RightsState } from '@pkeysim/core';

/** The largest domain a sparse state can name: domains are stored as unsigned 32-bit words. */
export const SPARSE_MAX_DOMAIN = 0xffffffff;

/**
 * What the remembered-valid slots hold before any state passed: an object no caller can pass (with
 * `undefined` there, `check(undefined)` passed as "remembered" and a scheme crashed on it).
 */
const NO_STATE: RightsState = Object.freeze([-1]);

/**
 * Rights states for schemes with unbounded domains (`info.domains === Infinity`): a register-free
 * scheme cannot keep one bit field per domain, so the state lists only the domains whose denials
 * differ from an implicit default, as `[domain, denials]` word pairs sorted by domain. Equal rights
 * always give equal words (no default-valued pair is stored), so `rightsStateEqual` stays exact.
 */
export class SparseRights {
  /**
   * The last few frozen states that passed {@link check} (a kernel compares a handful of states over
   * and over: each thread's and the live one); a frozen state cannot change, so it is not checked again.
   */
  private readonly valid: RightsState[] = [NO_STATE, NO_STATE, NO_STATE, NO_STATE];
  private nextValid = 0;

  constructor(
    /** Used in error messages, e.g. "page-table rights". */
    readonly label: string,
    /** The denials of a domain that has no pair (x86-like: the default domain open, others AD). */
    readonly implicit: (domain: number) => Denials,
  ) {}

  /**
   * Throw `invalid` unless `state` is a well-formed, canonical sparse state. Called on every rights
   * operation of a scheme, so it allocates nothing unless it throws.
   */
  check(state: RightsState): void {
    const valid = this.valid;
    if (state === valid[0] || state === valid[1] || state === valid[2] || state === valid[3]) return;
    if (!Array.isArray(state)) this.fail(state, 'is not a list of words');
    if (state.length % 2 !== 0) this.fail(state, 'must hold [domain, denials] pairs');
    let previous = -1;
    for (let i = 0; i < state.length; i += 2) {
      const domain = state[i];
      const denials = state[i + 1];
      if (!Number.isInteger(domain) || domain < 0 || domain > SPARSE_MAX_DOMAIN)
        this.fail(state, `names domain ${String(domain)}`);
      if (domain <= previous) this.fail(state, 'is not sorted by domain');
      if (!Number.isInteger(denials) || (denials & ~DENY_ALL_FLAGS) !== 0 || denials < 0)
        this.fail(state, `has denials ${String(denials)}`);
      if (denials === this.implicit(domain)) this.fail(state, `stores domain ${domain}'s default denials`);
      previous = domain;
    }
    if (Object.isFrozen(state)) {
      valid[this.nextValid] = state;
      this.nextValid = (this.nextValid + 1) & 3;
    }
  }

  private fail(state: RightsState, why: string): never {
    throw new DomainError('invalid', `${this.label}: state [${String(state)}] ${why}`);
  }

  /** The denials of `domain` in `state` (its implicit denials when the state does not list it). */
  denialsOf(state: RightsState, domain: number): Denials {
    const at = this.indexOf(state, domain);
    return at >= 0 ? state[at + 1] : this.implicit(domain);
  }

  /** A new state with `domain`'s denials replaced; the caller has validated domain and denials. */
  withDenials(state: RightsState, domain: number, denials: Denials): RightsState {
    const words = [...state];
    const at = this.indexOf(state, domain);
    const isDefault = denials === this.implicit(domain);
    if (at >= 0) {
      if (isDefault) words.splice(at, 2);
      else words[at + 1] = denials;
    } else if (!isDefault) {
      let insert = 0;
      while (insert < words.length && words[insert] < domain) insert += 2;
      words.splice(insert, 0, domain, denials);
    }
    return rightsState(...words);
  }

  /** Whether `state` names `domain` explicitly (with non-default denials). */
  names(state: RightsState, domain: number): boolean {
    return this.indexOf(state, domain) >= 0;
  }

  /** The domains a state names explicitly. */
  domains(state: RightsState): number[] {
    const out: number[] = [];
    for (let i = 0; i < state.length; i += 2) out.push(state[i]);
    return out;
  }

  /** `{}` for the implicit state, else `{1:--, 7:r-}` (rights as formatDenials shows them). */
  format(state: RightsState, withExecute = false): string {
    const parts: string[] = [];
    for (let i = 0; i < state.length; i += 2) parts.push(`${state[i]}:${formatDenials(state[i + 1], withExecute)}`);
    return `{${parts.join(', ')}}`;
  }

  private indexOf(state: RightsState, domain: number): number {
    for (let i = 0; i < state.length; i += 2) {
      if (state[i] === domain) return i;
      if (state[i] > domain) return -1;
    }
    return -1;
  }
}
