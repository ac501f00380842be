import type { Denials } from '@pkeysim/core';
import {
  TRACE_ACCESS_KIND_COUNT,
  TRACE_ACCESS_KIND_NAMES,
  TraceAccessKind,
  type TraceAccessKindName,
} from './access-kind';
import { formatAddress } from './address';
import type { ArchitectureMapping } from './arch-rules';
import type { MalformedLine, TraceStats } from './lackey-parser';
import { formatRights, type Policy } from './policy';

/** Counts by access kind. */
export interface KindCounts {
  readonly fetch: number;
  readonly load: number;
  readonly store: number;
  readonly modify: number;
  readonly total: number;
}

/** Per-domain results of a replay: ranges, rights, access and fault counts. */
export interface DomainReport {
  readonly name: string;
  /** "0x1ffe000000-0x1fff001000" (end exclusive); empty for the default domain's implicit share. */
  readonly ranges: readonly string[];
  /** "rw-" style, with the execute column. */
  readonly initialRights: string;
  readonly finalRights: string;
  readonly accesses: KindCounts;
  /** Accesses that would fault under the rights in force at the time. */
  readonly faults: KindCounts;
  /** With `--arch`: the architecture's domain (x86 key, POE overlay index, POWER key) it maps to. */
  readonly archDomain?: number;
}

/** One faulting access. */
export interface FaultReport {
  /** 0-based index of the access among the trace's access records. */
  readonly index: number;
  readonly kind: TraceAccessKindName;
  readonly address: string;
  readonly size: number;
  readonly domain: string;
  /** The domain's rights when the access happened. */
  readonly rights: string;
  /** The thread that made it, when the trace has thread records. */
  readonly thread?: number;
}

/** The architecture a replay ran on (`--arch`). */
export interface ArchReport {
  /** The plugin name. */
  readonly name: string;
  /** The domain space of user pages, e.g. "x86.pku". */
  readonly space: string;
  readonly register: string;
  /** "thread": each thread has its own rights; "address-space": one set for all. */
  readonly scope: string;
  /** The register holding the policy's initial rights, as the architecture prints it. */
  readonly initialState: string;
}

/** The result of a replay; a plain JSON-safe object. */
export interface ReplayReport {
  readonly accesses: number;
  readonly faults: number;
  /** Rights-change points applied (an `onFetch` point counts each time it fires). */
  readonly rightsChanges: number;
  /** With `--arch`: the architecture the policy was mapped onto. */
  readonly arch?: ArchReport;
  /** Distinct threads, when the trace has thread (`T`) records. */
  readonly threads?: number;
  readonly trace: {
    readonly lines: number;
    readonly messageLines: number;
    readonly malformedLines: number;
    readonly firstMalformed?: MalformedLine;
  };
  readonly domains: readonly DomainReport[];
  /** The first faulting accesses, in trace order. */
  readonly firstFaults: readonly FaultReport[];
}

/** A fault as the replay engine records it, before formatting. */
export interface FaultPlace {
  readonly index: number;
  readonly kind: TraceAccessKind;
  readonly address: number;
  readonly size: number;
  readonly domain: number;
  readonly denials: Denials;
  readonly thread: number;
}

/** The raw counters of a replay, from which buildReport makes a ReplayReport. */
export interface ReportInput {
  readonly policy: Policy;
  readonly trace: TraceStats;
  /** Domain of each segment. */
  readonly segmentDomains: Int32Array;
  /** Accesses per segment * 4 + kind. */
  readonly counts: Float64Array;
  /** Faults per domain * 4 + kind. */
  readonly faultCounts: Float64Array;
  readonly faults: number;
  readonly finalDenials: Int32Array;
  readonly rightsChanges: number;
  readonly firstFaults: readonly FaultPlace[];
  readonly mapping?: ArchitectureMapping;
  /** Distinct threads, given when the trace has thread records. */
  readonly threads?: number;
}

function kindCounts(counts: Float64Array, offset: number): KindCounts {
  const fetch = counts[offset + TraceAccessKind.Fetch];
  const load = counts[offset + TraceAccessKind.Load];
  const store = counts[offset + TraceAccessKind.Store];
  const modify = counts[offset + TraceAccessKind.Modify];
  return { fetch, load, store, modify, total: fetch + load + store + modify };
}

/** Turn a replay's raw counters into a JSON-safe ReplayReport. */
export function buildReport(input: ReportInput): ReplayReport {
  const { policy } = input;
  const K = TRACE_ACCESS_KIND_COUNT;
  const perDomain = new Float64Array(policy.domains.length * K);
  for (let s = 0; s < input.segmentDomains.length; s++) {
    for (let kind = 0; kind < K; kind++) perDomain[input.segmentDomains[s] * K + kind] += input.counts[s * K + kind];
  }
  const { lines, messageLines, malformedLines, firstMalformed } = input.trace;
  const { mapping, threads } = input;
  return {
    accesses: input.trace.accesses,
    faults: input.faults,
    rightsChanges: input.rightsChanges,
    ...(mapping
      ? {
          arch: {
            name: mapping.arch,
            space: mapping.space,
            register: mapping.register,
            scope: mapping.scope,
            initialState: mapping.initialState,
          },
        }
      : {}),
    ...(threads !== undefined ? { threads } : {}),
    trace: { lines, messageLines, malformedLines, ...(firstMalformed ? { firstMalformed } : {}) },
    domains: policy.domains.map((d) => ({
      name: d.name,
      ranges: d.ranges.map((r) => `${formatAddress(r.start)}-${formatAddress(r.end)}`),
      initialRights: formatRights(d.initialDenials),
      finalRights: formatRights(input.finalDenials[d.index]),
      accesses: kindCounts(perDomain, d.index * K),
      faults: kindCounts(input.faultCounts, d.index * K),
      ...(mapping ? { archDomain: mapping.domains[d.index] } : {}),
    })),
    firstFaults: input.firstFaults.map((f) => ({
      index: f.index,
      kind: TRACE_ACCESS_KIND_NAMES[f.kind],
      address: formatAddress(f.address),
      size: f.size,
      domain: policy.domains[f.domain].name,
      rights: formatRights(f.denials),
      ...(threads !== undefined ? { thread: f.thread } : {}),
    })),
  };
}

const number = (n: number) => n.toLocaleString('en-US');
/** "1 fetch", "2 fetches". */
const count = (n: number, one: string, many: string) => `${number(n)} ${n === 1 ? one : many}`;

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number>,
): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The report as a readable text table (no colour). */
export function formatReplayReport(report: ReplayReport): string {
  const out: string[] = [];
  const kinds = report.domains.reduce(
    (sum, d) => ({
      fetch: sum.fetch + d.accesses.fetch,
      load: sum.load + d.accesses.load,
      store: sum.store + d.accesses.store,
      modify: sum.modify + d.accesses.modify,
    }),
    { fetch: 0, load: 0, store: 0, modify: 0 },
  );
  out.push(
    `Replayed ${count(report.accesses, 'access', 'accesses')} (${count(kinds.fetch, 'fetch', 'fetches')}, ${count(kinds.load, 'load', 'loads')}, ` +
      `${count(kinds.store, 'store', 'stores')}, ${count(kinds.modify, 'modify', 'modifies')}) from ${count(report.trace.lines, 'line', 'lines')}.`,
  );
  if (report.trace.malformedLines > 0) {
    const first = report.trace.firstMalformed;
    out.push(
      `Skipped ${count(report.trace.malformedLines, 'malformed line', 'malformed lines')}${first ? ` (first: line ${first.line}: ${first.reason})` : ''}.`,
    );
  }
  if (report.arch) {
    const { name, space, register, scope, initialState } = report.arch;
    out.push(
      `On ${name}: user pages in ${space} (${register}), rights ${scope === 'thread' ? 'per thread' : 'shared by every thread'}; initial ${initialState}.`,
    );
  }
  if (report.threads !== undefined) out.push(`${count(report.threads, 'thread', 'threads')} in the trace.`);
  out.push(
    `${count(report.rightsChanges, 'rights change', 'rights changes')} applied; ` +
      `${count(report.faults, 'access', 'accesses')} would fault.`,
    '',
  );

  const arch = report.arch !== undefined;
  const rows = report.domains.map((d) => [
    d.name,
    ...(arch ? [String(d.archDomain)] : []),
    d.initialRights === d.finalRights ? d.initialRights : `${d.initialRights} > ${d.finalRights}`,
    number(d.accesses.fetch),
    number(d.accesses.load),
    number(d.accesses.store),
    number(d.accesses.modify),
    number(d.faults.total),
    d.ranges.length === 0
      ? '(all other addresses)'
      : d.ranges[0] + (d.ranges.length > 1 ? ` (+${d.ranges.length - 1} more)` : ''),
  ]);
  out.push(
    ...table(
      ['domain', ...(arch ? ['hw'] : []), 'rights', 'fetches', 'loads', 'stores', 'modifies', 'faults', 'ranges'],
      rows,
      new Set(arch ? [1, 3, 4, 5, 6, 7] : [2, 3, 4, 5, 6]),
    ),
  );

  if (report.firstFaults.length > 0) {
    out.push(
      '',
      report.firstFaults.length === report.faults ? 'Faults:' : `First ${report.firstFaults.length} faults:`,
    );
    const faultRows = report.firstFaults.map((f) => [
      `#${f.index}`,
      f.kind,
      f.address,
      String(f.size),
      f.domain,
      f.rights,
      ...(f.thread !== undefined ? [String(f.thread)] : []),
    ]);
    const threadColumn = report.threads !== undefined ? ['thread'] : [];
    out.push(
      ...table(
        ['access', 'kind', 'address', 'size', 'domain', 'rights', ...threadColumn],
        faultRows,
        new Set([0, 3, 6]),
      ).map((l) => '  ' + l),
    );
  }
  return out.join('\n') + '\n';
}
