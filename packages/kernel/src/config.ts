import { Deny, type Denials, echoValue } from '@pkeysim/core';
import { KernelError } from './errors';
import { isPksVersion, PKS_VERSIONS, type PksVersion, pksVersionOfDesign, pksVersionTraits } from './keys/pks-version';

/**
 * Which key design of the series the kernel runs.
 * - dynamic (RFC..V6): keys are handed out at run time by `pks_key_alloc(owner, flags)`.
 * - static (V7..V10): keys are assigned at build time to declared consumers, each with a default.
 */
export type KeyDesign = 'dynamic' | 'static';

/** A consumer's default rights: read/write, access-disabled or write-disabled (V10 PKS_KEY_* defaults). */
export type DefaultRights = 'rw' | 'ad' | 'wd';

/** One statically configured key user (V10 include/linux/pks-keys.h). */
export interface StaticConsumer {
  /** The key's name, e.g. "PKS_KEY_TEST". */
  readonly name: string;
  /** The key number; assigned in declaration order from 1 when omitted. */
  readonly key?: number;
  readonly defaultRights: DefaultRights;
}

/**
 * How the entry code treats the rights of an interrupted context.
 * - aux-pt-regs (V9/V10): saved in `pt_regs_auxiliary`, default loaded on entry, restored on exit.
 * - legacy-rfc-v1 (RFC V1, Jul 2020): saved on context switch but NOT across interrupts.
 */
export type EntryMode = 'aux-pt-regs' | 'legacy-rfc-v1';

/** The full, explicit kernel configuration. Every field has a default in {@link DEFAULT_KERNEL_CONFIG}. */
export interface KernelConfig {
  /** The registered architecture plugin to build the machine with (the caller imports it). */
  readonly arch: string;
  readonly cpus: number;
  /** Seeds the scheduler's generator: the same seed replays the same run. */
  readonly seed: number;
  readonly keyDesign: KeyDesign;
  /** Consumers for the static design (ignored by the dynamic one). */
  readonly consumers: readonly StaticConsumer[];
  readonly entryMode: EntryMode;
  /** Whether the CPUs enumerate supervisor keys (CPUID PKS) and user keys (PKU). */
  readonly features: { readonly supervisorDomains: boolean; readonly userDomains: boolean };
  /** Passed to the architecture plugin (x86: `{ pagingLevels: 4 | 5 }`). */
  readonly machineOptions: Readonly<Record<string, unknown>>;
  /** The posting of the PKS series whose semantics the key API follows (keys/pks-version.ts). */
  readonly pksVersion: PksVersion;
  /**
   * Page-table protection (Edgecombe's "PKS write protected page tables", on top of the series):
   * adds the static consumer PKS_KEY_PG_TABLES, write-disabled by default.
   */
  readonly pageTableProtection: boolean;
}

/** What callers may give: any field left out takes its default. */
export type KernelConfigInput = Partial<Omit<KernelConfig, 'features'>> & {
  readonly features?: Partial<KernelConfig['features']>;
};

/**
 * V10's static layout: PKS_KEY_PGMAP_PROTECTION then PKS_KEY_TEST, both access-disabled, so
 * PKS_INIT_VALUE is 0x55555554 (V10 include/linux/pks-keys.h: PKS_KEY_TEST = PKS_NEW_KEY(PKS_KEY_PGMAP_PROTECTION, ...)).
 */
export const DEFAULT_STATIC_CONSUMERS: readonly StaticConsumer[] = Object.freeze([
  { name: 'PKS_KEY_PGMAP_PROTECTION', defaultRights: 'ad' },
  { name: 'PKS_KEY_TEST', defaultRights: 'ad' },
]);

/** The page-table key of Edgecombe's series (RFC v2 PKS_KEY_PG_TABLES, write-disabled at rest). */
export const PGTABLE_STATIC_CONSUMER: StaticConsumer = Object.freeze({
  name: 'PKS_KEY_PG_TABLES',
  defaultRights: 'wd',
});

/** V10's layout with page-table protection configured on top: PKS_KEY_PG_TABLES is key 3 (0x55555594). */
export const PGTABLE_STATIC_CONSUMERS: readonly StaticConsumer[] = Object.freeze([
  ...DEFAULT_STATIC_CONSUMERS,
  PGTABLE_STATIC_CONSUMER,
]);

/** The kernel configuration used for every field the caller leaves out. */
export const DEFAULT_KERNEL_CONFIG: KernelConfig = Object.freeze({
  arch: 'x86',
  cpus: 2,
  seed: 1,
  keyDesign: 'dynamic',
  consumers: DEFAULT_STATIC_CONSUMERS,
  entryMode: 'aux-pt-regs',
  features: Object.freeze({ supervisorDomains: true, userDomains: true }),
  machineOptions: Object.freeze({}),
  pksVersion: pksVersionOfDesign('dynamic'),
  pageTableProtection: false,
});

/** The most CPUs a kernel boots on here, as the scenario format allows (machine.cpus 1..64). */
export const MAX_CPUS = 64;

const RIGHTS_DENIALS: Record<DefaultRights, Denials> = { rw: Deny.None, ad: Deny.Access, wd: Deny.Write };

/** The denials a static consumer's default rights stand for (rw: none, ad: access, wd: write). */
export function denialsOfRights(rights: DefaultRights): Denials {
  return RIGHTS_DENIALS[rights];
}

/** Fill in defaults and check every field; throws a KernelError (EINVAL) naming the bad field. */
export function resolveKernelConfig(input: KernelConfigInput = {}): KernelConfig {
  if (input.pksVersion !== undefined && !isPksVersion(input.pksVersion))
    throw new KernelError(
      'EINVAL',
      `kernel config: pksVersion must be one of ${PKS_VERSIONS.join(', ')}, got ${echoValue(input.pksVersion)}`,
    );
  // A version decides the key design and entry code unless the caller overrides them (checked below).
  const version = input.pksVersion ? pksVersionTraits(input.pksVersion) : undefined;
  const keyDesign = input.keyDesign ?? version?.keyDesign ?? DEFAULT_KERNEL_CONFIG.keyDesign;
  const pageTableProtection = input.pageTableProtection ?? DEFAULT_KERNEL_CONFIG.pageTableProtection;
  const config: KernelConfig = {
    arch: input.arch ?? DEFAULT_KERNEL_CONFIG.arch,
    cpus: input.cpus ?? DEFAULT_KERNEL_CONFIG.cpus,
    seed: input.seed ?? DEFAULT_KERNEL_CONFIG.seed,
    keyDesign,
    consumers: withPageTableKey(input.consumers ?? DEFAULT_KERNEL_CONFIG.consumers, pageTableProtection),
    entryMode: input.entryMode ?? version?.entryMode ?? DEFAULT_KERNEL_CONFIG.entryMode,
    features: {
      supervisorDomains: input.features?.supervisorDomains ?? DEFAULT_KERNEL_CONFIG.features.supervisorDomains,
      userDomains: input.features?.userDomains ?? DEFAULT_KERNEL_CONFIG.features.userDomains,
    },
    machineOptions: input.machineOptions ?? DEFAULT_KERNEL_CONFIG.machineOptions,
    pksVersion:
      input.pksVersion ?? (isKeyDesign(keyDesign) ? pksVersionOfDesign(keyDesign) : DEFAULT_KERNEL_CONFIG.pksVersion),
    pageTableProtection,
  };
  const bad = (field: string, message: string): never => {
    throw new KernelError('EINVAL', `kernel config: ${field} ${message}`);
  };
  if (typeof config.arch !== 'string' || config.arch === '') bad('arch', 'must name a registered architecture plugin');
  if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > MAX_CPUS)
    bad('cpus', `must be a whole number from 1 to ${MAX_CPUS}, got ${echoValue(config.cpus)}`);
  if (!Number.isSafeInteger(config.seed)) bad('seed', `must be an integer, got ${echoValue(config.seed)}`);
  if (config.keyDesign !== 'dynamic' && config.keyDesign !== 'static') {
    bad('keyDesign', `must be "dynamic" or "static", got ${echoValue(config.keyDesign)}`);
  }
  if (config.entryMode !== 'aux-pt-regs' && config.entryMode !== 'legacy-rfc-v1') {
    bad('entryMode', `must be "aux-pt-regs" or "legacy-rfc-v1", got ${echoValue(config.entryMode)}`);
  }
  if (typeof config.pageTableProtection !== 'boolean')
    bad('pageTableProtection', `must be true or false, got ${echoValue(config.pageTableProtection)}`);
  if (version && config.keyDesign !== version.keyDesign)
    bad('keyDesign', `"${config.keyDesign}" is not the design of ${version.title} ("${version.keyDesign}")`);
  if (!Array.isArray(config.consumers)) bad('consumers', 'must be a list');
  config.consumers.forEach((c, i) => {
    if (typeof c?.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.name)) {
      bad(`consumers[${i}].name`, 'must be an identifier such as PKS_KEY_TEST');
    }
    // An own-property check: `in` would accept inherited names such as "toString".
    if (typeof c.defaultRights !== 'string' || !Object.prototype.hasOwnProperty.call(RIGHTS_DENIALS, c.defaultRights))
      bad(`consumers[${i}].defaultRights`, 'must be "rw", "ad" or "wd"');
    if (c.key !== undefined && !Number.isInteger(c.key))
      bad(`consumers[${i}].key`, `must be a whole number, got ${echoValue(c.key)}`);
  });
  return Object.freeze(config);
}

function isKeyDesign(value: unknown): value is KeyDesign {
  return value === 'dynamic' || value === 'static';
}

/** `consumers` plus PKS_KEY_PG_TABLES when page-table protection is configured and the list lacks it. */
function withPageTableKey(
  consumers: readonly StaticConsumer[],
  pageTableProtection: boolean,
): readonly StaticConsumer[] {
  if (pageTableProtection !== true || !Array.isArray(consumers)) return consumers;
  if (consumers.some((c) => c?.name === PGTABLE_STATIC_CONSUMER.name)) return consumers;
  return [...consumers, PGTABLE_STATIC_CONSUMER];
}
