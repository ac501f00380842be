import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MACHINE_EVENT_NAMES } from '@pkeysim/core';
import {
  formatIssue,
  formatPath,
  parseCosts,
  type PathSegment,
  ScenarioError,
  type ScenarioIssue,
  SourceMap,
} from '@pkeysim/scenario';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { SWEEP_CAMPAIGNS } from './campaigns';
import { schemeNames } from './plugins';
import { SweepSpec, type SweepSpecData } from './spec';

/** One problem in a sweep file: file, line (0 when it has none) and field path, like scenario files. */
export type SweepIssue = ScenarioIssue;

/** A sweep file that cannot be run: every problem found, each with its file, line and field. */
export class SweepError extends Error {
  override readonly name = 'SweepError';
  constructor(readonly issues: readonly SweepIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

/** A cost model of the sweep with its cycles resolved (file read, inline cycles applied). */
export interface CostSet {
  readonly name: string;
  readonly cycles: Readonly<Record<string, number>>;
}

/** A checked sweep file: its path, spec and cost sets. */
export interface LoadedSweep {
  readonly file: string;
  readonly spec: SweepSpecData;
  readonly costSets: readonly CostSet[];
}

/** Read and check a sweep file; cost files are read relative to it. Throws {@link SweepError}. */
export function loadSweep(file: string): LoadedSweep {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new SweepError([
      { file, line: 0, path: '', message: code === 'ENOENT' ? 'no such file' : `cannot read: ${String(error)}` },
    ]);
  }
  return parseSweep(text, file, (costFile) => readFileSync(resolve(dirname(file), costFile), 'utf8'));
}

/**
 * Parse a sweep from YAML or JSON text, validate it against the schema, and check what the schema
 * cannot: campaign, scheme and cost-event names, and cost files (read through `readCostFile`).
 */
export function parseSweep(
  text: string,
  file = 'sweep.yaml',
  readCostFile: (path: string) => string = () => {
    throw new Error('cost files are not available here');
  },
): LoadedSweep {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SweepError(
      doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line ?? 0,
        path: '',
        message: `syntax error: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  const source = new SourceMap(doc, lines);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // An alias to no anchor, or an alias bomb past maxAliasCount: the yaml library throws here.
    throw new SweepError([{ file, line: 0, path: '', message: `syntax error: ${(error as Error).message}` }]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new SweepError([
      { file, line: 1, path: '', message: 'a sweep must be a mapping (YAML) or an object (JSON)' },
    ]);
  const parsed = SweepSpec.safeParse(raw);
  if (!parsed.success) throw new SweepError(zodIssues(parsed.error, file, source, raw));
  const spec = parsed.data;
  const issues: SweepIssue[] = [];
  const at = (path: PathSegment[], message: string) =>
    issues.push({ file, line: source.lineOf(path), path: formatPath(path), message });

  const campaigns = SWEEP_CAMPAIGNS.map((r) => r.consumer as string);
  spec.campaigns?.forEach((name, i) => {
    if (!campaigns.includes(name)) at(['campaigns', i], `no campaign '${name}' (known: ${campaigns.join(', ')})`);
  });
  const schemes = schemeNames();
  spec.schemes.forEach((name, i) => {
    if (!schemes.includes(name))
      at(['schemes', i], `no architecture or scheme plugin '${name}' (known: ${schemes.join(', ')})`);
  });
  const checkEvents = (cycles: Record<string, unknown> | undefined, path: PathSegment[]) => {
    for (const name of Object.keys(cycles ?? {}))
      if (!MACHINE_EVENT_NAMES.includes(name))
        at([...path, name], `unknown cost event (known: ${MACHINE_EVENT_NAMES.join(', ')})`);
  };
  checkEvents(spec.cost_parameters, ['cost_parameters']);

  const costSets: CostSet[] = [];
  const names = new Set<string>();
  for (const [i, set] of (spec.costs ?? [{ name: 'default' }]).entries()) {
    if (names.has(set.name)) at(['costs', i, 'name'], `cost model '${set.name}' is named twice`);
    names.add(set.name);
    checkEvents(set.cycles, ['costs', i, 'cycles']);
    let fromFile: Record<string, number> = {};
    if ('file' in set && set.file !== undefined) {
      try {
        fromFile = parseCosts(readCostFile(set.file), set.file);
      } catch (error) {
        if (error instanceof ScenarioError) at(['costs', i, 'file'], error.issues.map(formatIssue).join('; '));
        else at(['costs', i, 'file'], `cannot read ${set.file}: ${(error as { code?: string }).code ?? error}`);
      }
    }
    costSets.push({ name: set.name, cycles: { ...fromFile, ...('cycles' in set ? set.cycles : {}) } });
  }
  if (issues.length > 0) throw new SweepError(issues);
  return { file, spec, costSets };
}

/** The value at a field path of the raw document, or undefined where it is missing. */
function valueAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let value = raw;
  for (const seg of path)
    value = value !== null && typeof value === 'object' ? (value as Record<PathSegment, unknown>)[seg] : undefined;
  return value;
}

function zodIssues(error: z.ZodError, file: string, source: SourceMap, raw: unknown): SweepIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
    let message = issue.message;
    let linePath: PathSegment[] = path;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      linePath = [...path, issue.keys[0]];
    } else if (issue.code !== 'custom' && valueAt(raw, path) === undefined) message = 'required';
    return { file, line: source.lineOf(linePath), path: formatPath(path), message };
  });
}
