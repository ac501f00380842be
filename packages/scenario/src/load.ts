import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { MACHINE_EVENT_NAMES } from '@pkeysim/core';
import { CostsSpec, OP_NAMES, type Scenario, ScenarioSpec } from './schema';
import { checkReferences } from './references';

/** One problem in a scenario file, located by line and by field path. */
export interface ScenarioIssue {
  readonly file: string;
  /** 1-based; 0 when the problem has no place in the file. */
  readonly line: number;
  /** "threads[0].program[2].key", or "" for the whole file. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(issue: ScenarioIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** A scenario file that could not be used: every problem found, each with its file, line and field. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(readonly issues: readonly ScenarioIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

export type PathSegment = string | number;

/** "threads[0].program[2].key" */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

/** Finds the line of a field path in the parsed document (the nearest existing ancestor for a missing field). */
export class SourceMap {
  constructor(
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
  ) {}

  lineOf(path: readonly PathSegment[]): number {
    if (!this.doc || !this.lines) return 0;
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return 0;
  }
}

/** A parsed, validated scenario with the map from its fields to lines (for run-time messages). */
export interface LoadedScenario {
  readonly file: string;
  readonly scenario: Scenario;
  readonly source: SourceMap;
}

/** Parse YAML or JSON text into a document, or throw the syntax errors with their lines. */
function parseText(text: string, file: string): { raw: unknown; source: SourceMap } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line ?? 0,
        path: '',
        message: `syntax error: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  return { raw: doc.toJS({ maxAliasCount: 1000 }), source: new SourceMap(doc, lines) };
}

/**
 * Parse a cost file (`--costs FILE`): a mapping from event name to cycles, YAML or JSON, e.g.
 * `{ rights_write: 250, shootdown: 8000 }`. Throws {@link ScenarioError} naming the line.
 */
export function parseCosts(text: string, file = 'costs.yaml'): Record<string, number> {
  const { raw, source } = parseText(text, file);
  const parsed = CostsSpec.safeParse(raw ?? {});
  if (!parsed.success) throw new ScenarioError(zodIssues(parsed.error, file, source));
  const unknown = Object.keys(parsed.data).filter((name) => !MACHINE_EVENT_NAMES.includes(name));
  if (unknown.length > 0) {
    throw new ScenarioError(
      unknown.map((name) => ({
        file,
        line: source.lineOf([name]),
        path: name,
        message: `unknown cost event (known: ${MACHINE_EVENT_NAMES.join(', ')})`,
      })),
    );
  }
  return parsed.data;
}

/**
 * Parse a scenario from YAML or JSON text (YAML 1.2 reads JSON too, so both get line numbers),
 * validate it against the schema and check its cross-references. Throws {@link ScenarioError}.
 */
export function parseScenario(text: string, file = 'scenario.yaml'): LoadedScenario {
  const { raw, source } = parseText(text, file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError([
      { file, line: 1, path: '', message: 'a scenario must be a mapping (YAML) or an object (JSON)' },
    ]);
  }
  const parsed = ScenarioSpec.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(zodIssues(parsed.error, file, source, raw));
  const problems = checkReferences(parsed.data);
  if (problems.length > 0) {
    throw new ScenarioError(
      problems.map((p) => ({ file, line: source.lineOf(p.path), path: formatPath(p.path), message: p.message })),
    );
  }
  return { file, scenario: parsed.data, source };
}

function zodIssues(error: z.ZodError, file: string, source: SourceMap, raw?: unknown): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
    let message = issue.message;
    let linePath: PathSegment[] = path;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      linePath = [...path, issue.keys[0]];
    } else if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
      message = discriminatorMessage(path, valueAt(raw, path));
    } else if (issue.code === 'invalid_type' && issue.input === undefined) message = 'required';
    out.push({ file, line: source.lineOf(linePath), path: formatPath(path), message });
  }
  return out;
}

function valueAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let value = raw;
  for (const seg of path)
    value = value !== null && typeof value === 'object' ? (value as Record<PathSegment, unknown>)[seg] : undefined;
  return value;
}

function discriminatorMessage(path: readonly PathSegment[], value: unknown): string {
  const given = value === undefined ? 'missing' : JSON.stringify(value);
  if (path[path.length - 1] === 'kind') return `expected kind interrupt, nmi or stray_write (got ${given})`;
  return `unknown op ${given} (ops: ${OP_NAMES.join(', ')})`;
}
