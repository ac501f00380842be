import type { RoAllocator, RoCache, RoObject, RoValue, RoWriter } from './allocator';

/** struct cred, reduced to ids and two capability sets (include/linux/cred.h). */
export const CRED_FIELDS = [
  'uid',
  'gid',
  'suid',
  'sgid',
  'euid',
  'egid',
  'fsuid',
  'fsgid',
  'cap_effective_lo',
  'cap_effective_hi',
  'cap_permitted_lo',
  'cap_permitted_hi',
] as const;
/** One field of the reduced struct cred. */
export type CredField = (typeof CRED_FIELDS)[number];
/** A credentials value: every cred field as a 32-bit word. */
export type Cred = RoValue<CredField>;

/** A task's credentials with every id `id` and no capabilities. */
export function userCred(id: number): Cred {
  return {
    uid: id,
    gid: id,
    suid: id,
    sgid: id,
    euid: id,
    egid: id,
    fsuid: id,
    fsgid: id,
    cap_effective_lo: 0,
    cap_effective_hi: 0,
    cap_permitted_lo: 0,
    cap_permitted_hi: 0,
  };
}

/** The read-only-at-rest cred cache and its one declared writer. */
export interface CredCache {
  /** The cache cred objects are allocated from. */
  readonly cache: RoCache<CredField>;
  /** commit_creds(new): the one writer of a task's credentials (kernel/cred.c). */
  readonly commit_creds: RoWriter<CredField, Cred>;
}

/** Create the `cred` cache on `ro` and declare commit_creds as its writer. */
export function createCredCache(ro: RoAllocator): CredCache {
  const cache = ro.createCache({ name: 'cred', fields: CRED_FIELDS });
  const commit_creds = cache.writer<Cred>('commit_creds', (w, next) => w.set(next));
  return { cache, commit_creds };
}

/** One rule of a security policy: who may do what to what (an LSM policy table, loaded and never edited). */
export const POLICY_FIELDS = ['rule', 'subject', 'object', 'allow'] as const;
/** One field of a policy rule. */
export type PolicyField = (typeof POLICY_FIELDS)[number];
/** A policy rule value: every policy field as a 32-bit word. */
export type PolicyRule = RoValue<PolicyField>;

/** A loaded policy table: its cache, its one declared writer and the allocated rules. */
export interface PolicyTable {
  /** The cache rule objects are allocated from. */
  readonly cache: RoCache<PolicyField>;
  /** policy_load(rule): the policy loader, the only writer of the table. */
  readonly policy_load: RoWriter<PolicyField, PolicyRule>;
  /** The rules, in the order given. */
  readonly rules: readonly RoObject<PolicyField>[];
}

/** Create the `policy_rule` cache on `ro`, declare policy_load as its writer and allocate `rules` on `cpu`. */
export function createPolicyTable(ro: RoAllocator, cpu: number, rules: readonly PolicyRule[]): PolicyTable {
  const cache = ro.createCache({ name: 'policy_rule', fields: POLICY_FIELDS });
  const policy_load = cache.writer<PolicyRule>('policy_load', (w, rule) => w.set(rule));
  return { cache, policy_load, rules: rules.map((r) => cache.alloc(cpu, r)) };
}
