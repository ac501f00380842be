import { z } from 'zod';
import { formatDenials, parseRights, type Denials } from '@pkeysim/core';
import { addressFromUnsigned64, formatAddress } from './address';
import { parseJsonWithLocations, JsonSyntaxError, type JsonPath, type SourceLocation } from './json-source';
import { parseYamlWithLocations } from './yaml-source';

/**
 * A key policy: which address ranges belong to which domain (key), the rights each domain starts
 * with, and the points in the trace where rights change. Written as JSON:
 *
 *     {
 *       "maxDomains": 16,
 *       "domains": [
 *         { "name": "stack", "rights": "rw", "ranges": [{ "start": "0x1ffe000000", "size": "16M" }] }
 *       ],
 *       "changes": [{ "atAccess": 1000, "set": { "stack": "none" } }]
 *     }
 *
 * Addresses not in any range belong to the domain named "default" (rights "rwx" unless declared),
 * which is always domain 0, like x86 key 0.
 */

export const DEFAULT_DOMAIN_NAME = 'default';

/** An address range of a domain. */
export interface PolicyRange {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

/** A domain of a policy: its name, number, initial rights and address ranges. */
export interface PolicyDomain {
  readonly name: string;
  /** The domain number: 0 is the default domain, the others follow in policy order. */
  readonly index: number;
  readonly initialDenials: Denials;
  readonly ranges: readonly PolicyRange[];
}

/** New rights (as denials) for one domain. */
export interface RightsAssignment {
  readonly domain: number;
  readonly denials: Denials;
}

/** Rights that change before the access with this index (0-based) is checked. */
export interface AtAccessChange {
  readonly atAccess: number;
  readonly set: readonly RightsAssignment[];
  /**
   * The thread whose rights change (a trace's `T` record numbers threads). Absent: the thread that
   * makes access `atAccess`, as a rights-register write changes only the running thread's rights.
   */
  readonly thread?: number;
}

/**
 * Rights that change each time an instruction fetch starts at `address` (the instruction that, say,
 * executes WRPKRU), after that fetch itself is checked.
 */
export interface OnFetchChange {
  readonly onFetch: number;
  readonly set: readonly RightsAssignment[];
}

/** A point in the trace where rights change. */
export type RightsChange = AtAccessChange | OnFetchChange;

/** A validated key policy: its domains and rights changes. */
export interface Policy {
  /** Domain 0 is the default domain. */
  readonly domains: readonly PolicyDomain[];
  /** In policy order. */
  readonly changes: readonly RightsChange[];
  readonly maxDomains?: number;
}

/**
 * Where each validated policy came from and where its domains are declared, so that later checks
 * (an architecture's, see arch-rules.ts) can name the file, line and field. Kept beside the policy,
 * not in it: a policy stays plain data.
 */
const ORIGINS = new WeakMap<Policy, { readonly source: PolicySource; readonly positions: readonly number[] }>();

/** A policy that does not parse or validate. The message names the file, line and field. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(
    readonly file: string,
    readonly location: SourceLocation | undefined,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}${location ? `:${location.line}:${location.column}` : ''}: ${field ? `${field}: ` : ''}${reason}`);
  }
}

/** Parse a number or a text holding one: decimal or 0x hex, "_" allowed between digits. */
function unsignedFromText(value: number | string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError('must be a whole number >= 0 (write large values as "0x..." text)');
    return BigInt(value);
  }
  const text = value.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new RangeError(`"${value}" is not a decimal or 0x-prefixed hex number`);
  return BigInt(text);
}

const SIZE_UNITS: Record<string, bigint> = { '': 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n };

/** `transform` with a RangeError turned into a zod issue at the field. */
function checked<T, U>(convert: (value: T) => U) {
  return (value: T, ctx: z.core.$RefinementCtx<T>): U => {
    try {
      return convert(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  };
}

const NumberText = z.union([z.number(), z.string()]);

const Address = NumberText.transform(
  checked((value: number | string) => addressFromUnsigned64(unsignedFromText(value))),
);

/** A byte count: a number, or text with an optional K, M, G or T suffix (powers of 1024). */
const Size = NumberText.transform(
  checked((value: number | string) => {
    if (typeof value === 'number') return Number(unsignedFromText(value));
    const match = /^\s*([0-9a-fx_]+?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(value);
    if (!match) throw new RangeError(`"${value}" is not a size (e.g. 4096, "0x1000", "64K", "16M")`);
    const bytes = unsignedFromText(match[1]) * SIZE_UNITS[match[2].toLowerCase()];
    if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${value} is too large`);
    return Number(bytes);
  }),
);

const Rights = z.string().transform(checked((text: string) => parseRights(text)));

const RangeSchema = z
  .strictObject({ start: Address, end: Address.optional(), size: Size.optional() })
  .superRefine((range, ctx) => {
    if ((range.end === undefined) === (range.size === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of "end" (exclusive) or "size"' });
    }
  });

const DomainSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must be a letter or "_" followed by letters, digits, "_", "." or "-"'),
  rights: Rights,
  ranges: z.array(RangeSchema).default([]),
  description: z.string().optional(),
});

const ChangeSchema = z
  .strictObject({
    atAccess: z.int().nonnegative().optional(),
    onFetch: Address.optional(),
    thread: z.int().positive().optional(),
    set: z.record(z.string(), Rights),
    description: z.string().optional(),
  })
  .superRefine((change, ctx) => {
    if (change.thread !== undefined && change.onFetch !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['thread'],
        message: 'an "onFetch" change applies to the thread that fetches; "thread" goes with "atAccess"',
      });
    }
    if ((change.atAccess === undefined) === (change.onFetch === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of "atAccess" (an access index) or "onFetch" (an instruction address)',
      });
    }
  });

const PolicySchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  maxDomains: z.int().positive().optional(),
  domains: z.array(DomainSchema),
  changes: z.array(ChangeSchema).default([]),
});

/** `domains[2].ranges[0].end` */
export function formatFieldPath(path: JsonPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Where a policy came from, used to locate fields in error messages. */
export interface PolicySource {
  /** Shown in errors. */
  readonly file?: string;
  /** Where a field is written, for errors; omitted for policies built in code. */
  readonly locate?: (path: JsonPath) => SourceLocation;
}

/** Parse and validate a policy file's text (JSON or YAML). Throws {@link PolicyError}. */
export function parsePolicy(text: string, file = 'policy'): Policy {
  // A document that starts with "{" is JSON (read strictly, refusing duplicate keys); anything else is YAML.
  const json = text.trimStart().startsWith('{');
  let located;
  try {
    located = json ? parseJsonWithLocations(text) : parseYamlWithLocations(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError)
      throw new PolicyError(file, error.location, '', `not valid ${json ? 'JSON' : 'YAML'}: ${error.reason}`);
    throw error;
  }
  return definePolicy(located.value, { file, locate: located.locate });
}

/** Validate a policy given as a plain object (what the JSON file holds). Throws {@link PolicyError}. */
export function definePolicy(input: unknown, source: PolicySource = {}): Policy {
  const file = source.file ?? 'policy';
  const fail = (path: JsonPath, reason: string): never => {
    throw new PolicyError(file, source.locate?.(path), formatFieldPath(path), reason);
  };

  const parsed = PolicySchema.safeParse(input, {
    error: (issue) =>
      issue.input === undefined && issue.code === 'invalid_type' ? 'required field is missing' : undefined,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    const reason =
      issue.code === 'unrecognized_keys' ? `unknown field (known: ${knownFields(issue.path)})` : issue.message;
    return fail(path, reason);
  }
  const spec = parsed.data;

  // Domain 0 is the default domain, declared or implicit; the others keep their policy order.
  const declaredDefault = spec.domains.findIndex((d) => d.name === DEFAULT_DOMAIN_NAME);
  const order = spec.domains.map((_, i) => i);
  if (declaredDefault > 0) order.unshift(...order.splice(declaredDefault, 1));
  const names = new Map<string, number>();
  const domains: PolicyDomain[] = [];
  /** Per domain, its position in the file's `domains` list (-1 for the implicit default). */
  const positions: number[] = [];
  if (declaredDefault < 0) {
    names.set(DEFAULT_DOMAIN_NAME, 0);
    domains.push({ name: DEFAULT_DOMAIN_NAME, index: 0, initialDenials: parseRights('rwx'), ranges: [] });
    positions.push(-1);
  }
  for (const i of order) {
    const d = spec.domains[i];
    if (names.has(d.name)) fail(['domains', i, 'name'], `domain "${d.name}" is declared twice`);
    const ranges = d.ranges.map((r, j) => {
      const end = r.end ?? r.start + r.size!;
      if (!(Math.abs(end) < 2 ** 53))
        fail(['domains', i, 'ranges', j], 'range ends beyond the exactly representable addresses (|address| < 2^53)');
      if (!(end > r.start))
        fail(
          ['domains', i, 'ranges', j],
          `range is empty: end ${formatAddress(end)} is not above start ${formatAddress(r.start)}`,
        );
      return { start: r.start, end };
    });
    names.set(d.name, domains.length);
    domains.push({ name: d.name, index: domains.length, initialDenials: d.rights, ranges });
    positions.push(i);
  }
  if (spec.maxDomains !== undefined && domains.length > spec.maxDomains) {
    fail(
      ['maxDomains'],
      `the policy has ${domains.length} domains (counting "${DEFAULT_DOMAIN_NAME}") but at most ${spec.maxDomains} are allowed`,
    );
  }

  // Ranges may not overlap: every address belongs to exactly one domain.
  const all = domains
    .flatMap((d) => d.ranges.map((r, j) => ({ ...r, domain: d, where: ['domains', positions[d.index], 'ranges', j] })))
    .sort((a, b) => a.start - b.start);
  for (let k = 1; k < all.length; k++) {
    const [a, b] = [all[k - 1], all[k]];
    if (b.start < a.end) {
      fail(
        b.where,
        `range ${formatAddress(b.start)}-${formatAddress(b.end)} of "${b.domain.name}" overlaps ` +
          `${formatAddress(a.start)}-${formatAddress(a.end)} of "${a.domain.name}"`,
      );
    }
  }

  const changes: RightsChange[] = spec.changes.map((c, i) => {
    const set = Object.entries(c.set).map(([name, denials]) => {
      const domain = names.get(name);
      if (domain === undefined)
        fail(['changes', i, 'set', name], `no domain named "${name}" (domains: ${[...names.keys()].join(', ')})`);
      return { domain: domain!, denials };
    });
    if (set.length === 0) fail(['changes', i, 'set'], 'sets no rights');
    if (c.atAccess === undefined) return { onFetch: c.onFetch!, set };
    return { atAccess: c.atAccess, set, ...(c.thread !== undefined ? { thread: c.thread } : {}) };
  });

  const policy: Policy = {
    domains,
    changes,
    ...(spec.maxDomains !== undefined ? { maxDomains: spec.maxDomains } : {}),
  };
  ORIGINS.set(policy, { source: { file, ...(source.locate ? { locate: source.locate } : {}) }, positions });
  return policy;
}

/**
 * The path of a policy domain's field in its file: `domains[2].rights`. The implicit default domain
 * has no entry of its own: its path is `domains`.
 */
export function domainFieldPath(policy: Policy, domain: number, field?: string): JsonPath {
  const position = ORIGINS.get(policy)?.positions[domain] ?? domain;
  if (position < 0) return ['domains'];
  return field === undefined ? ['domains', position] : ['domains', position, field];
}

/** A {@link PolicyError} at a field of a validated policy, with the file and line when it was read from one. */
export function policyFieldError(policy: Policy, path: JsonPath, reason: string): PolicyError {
  const origin = ORIGINS.get(policy);
  return new PolicyError(origin?.source.file ?? 'policy', origin?.source.locate?.(path), formatFieldPath(path), reason);
}

/** The fields of the object at `path` (one of the four strict objects above), for "unknown field". */
function knownFields(path: JsonPath): string {
  const parent = path.at(-2);
  const shape =
    parent === 'ranges'
      ? RangeSchema.shape
      : parent === 'domains'
        ? DomainSchema.shape
        : parent === 'changes'
          ? ChangeSchema.shape
          : PolicySchema.shape;
  return Object.keys(shape).join(', ');
}

/** "rw-" style text of a domain's rights (with the execute column). */
export function formatRights(denials: Denials): string {
  return formatDenials(denials, true);
}
