import { isNode, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import {
  describeFound,
  echoText,
  echoValue,
  findDeepNesting,
  MACHINE_EVENT_NAMES,
  PARSER_MAX_DEPTH,
} from '@pkeysim/core';
import { budgetMessage, type Limits, resolveLimits } from './limits';
import { checkBudgets, preflight } from './budget';
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

/** One line for an issue: "file:line: path: message". */
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

/** One step of a field path: an object key or an array index. */
export type PathSegment = string | number;

/** "threads[0].program[2].key" */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  // Field names come from the user's file: escaped and cut short like any echoed value.
  for (const seg of path)
    out += typeof seg === 'number' ? `[${seg}]` : out === '' ? echoText(seg) : `.${echoText(seg)}`;
  return out;
}

/** Finds the line of a field path in the parsed document (the nearest existing ancestor for a missing field). */
export class SourceMap {
  constructor(
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
  ) {}

  /** The 1-based line of the field at `path`, or of its nearest existing ancestor; 0 when unknown. */
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
  /** The budgets it was loaded under; a run keeps to them too (default: {@link DEFAULT_LIMITS}). */
  readonly limits?: Limits;
}

/** A budget refusal or parser limit as a one-issue {@link ScenarioError}. */
function limitError(file: string, line: number, path: string, message: string): ScenarioError {
  return new ScenarioError([{ file, line, path, message }]);
}

/**
 * Parse YAML or JSON text into plain data, or throw the syntax errors with their lines. Every
 * hostile shape is refused before it costs memory or stack: oversized text, nesting deeper than
 * the budget (scanned before the recursive parser runs), alias bombs and self-referencing aliases,
 * and tags that ask for code or custom types (`!!js/function`).
 */
function parseText(
  text: string,
  file: string,
  limits: Limits,
  early?: (raw: object) => { path: readonly PathSegment[]; message: string } | undefined,
): { raw: unknown; source: SourceMap } {
  if (text.length > limits.inputBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > limits.inputBytes)
      throw limitError(file, 0, '', `the file ${budgetMessage('inputBytes', bytes, limits.inputBytes)}`);
  }
  const depthLimit = Math.min(limits.depth, PARSER_MAX_DEPTH);
  const deep = findDeepNesting(text, depthLimit);
  if (deep) throw limitError(file, deep.line, '', depthMessage(deep.depth, limits));
  // JSON is checked by the native parser first: budgets on counts (a million entries) are then
  // refused in milliseconds, before the YAML parser builds a node per entry to find line numbers.
  if (early && /^\s*\{/.test(text)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const problem = json !== null && typeof json === 'object' ? early(json) : undefined;
    if (problem) throw limitError(file, lineOfKey(text, problem.path), formatPath(problem.path), problem.message);
  }
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    if (error instanceof RangeError) throw limitError(file, 0, '', depthMessage('more than the parser reads', limits));
    throw error;
  }
  const problems = [...doc.errors, ...doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED')];
  if (problems.length > 0) {
    throw new ScenarioError(
      problems.map((e) => ({
        file,
        line: e.linePos?.[0]?.line ?? 0,
        path: '',
        message:
          e.code === 'TAG_RESOLVE_FAILED'
            ? `unsupported tag (${echoText(e.message.replace(/^Unresolved tag: /, '').split(' at line')[0])}): scenarios are plain data, no code or custom types`
            : /Maximum call stack/.test(e.message)
              ? depthMessage('more than the parser reads', limits)
              : `syntax error: ${echoText(e.message.split('\n')[0], 200)}`,
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: limits.aliases });
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message))
      throw limitError(
        file,
        firstAliasLine(doc, lines),
        '',
        `the aliases expand to more than ${limits.aliases} nodes: ${budgetMessage('aliases', 'more', limits.aliases)}`,
      );
    if (error instanceof RangeError) throw limitError(file, 0, '', depthMessage('more than the parser reads', limits));
    throw error;
  }
  // Aliases can nest deeper than the text shows, or refer to themselves: measure what was built.
  const depth = dataDepth(raw, limits.depth);
  if (depth > limits.depth) {
    const line = firstAliasLine(doc, lines);
    const why = line > 0 ? ` (through aliases; an alias inside its own anchor nests without end)` : '';
    throw limitError(file, line, '', `${depthMessage('more', limits)}${why}`);
  }
  return { raw, source: new SourceMap(doc, lines) };
}

/** The line of the first `"key"` of a path's top-level field in JSON text (1 if absent). */
function lineOfKey(text: string, path: readonly PathSegment[]): number {
  const at = typeof path[0] === 'string' ? text.indexOf(`"${path[0]}"`) : -1;
  if (at < 0) return 1;
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function depthMessage(depth: number | string, limits: Limits): string {
  if (limits.depth > PARSER_MAX_DEPTH && typeof depth === 'number' && depth > PARSER_MAX_DEPTH)
    return `nesting ${depth} levels deep is more than the YAML/JSON parser reads (${PARSER_MAX_DEPTH})`;
  return `nesting ${budgetMessage('depth', depth, limits.depth)}`;
}

/** The line of the first alias (`*name`) in the document, for messages about aliases; 0 if none. */
function firstAliasLine(doc: Document, lines: LineCounter): number {
  let line = 0;
  visit(doc, {
    Alias(_key, node) {
      if (node.range) line = lines.linePos(node.range[0]).line;
      return visit.BREAK;
    },
  });
  return line;
}

/**
 * The nesting depth of parsed data, walked without recursion and stopping once past `limit` (so a
 * self-referencing alias, which builds a cycle, is reported instead of walked for ever).
 */
export function dataDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    const children = Array.isArray(v) ? v : Object.values(v as object);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return max;
}

/**
 * Parse a cost file (`--costs FILE`): a mapping from event name to cycles, YAML or JSON, e.g.
 * `{ rights_write: 250, shootdown: 8000 }`. Throws {@link ScenarioError} naming the line.
 */
export function parseCosts(text: string, file = 'costs.yaml', options: LoadOptions = {}): Record<string, number> {
  const { raw, source } = parseText(text, file, resolveLimits(options.limits));
  const parsed = CostsSpec.safeParse(raw ?? {});
  if (!parsed.success) throw new ScenarioError(capIssues(zodIssues(parsed.error, file, source, raw ?? {})));
  const unknown = Object.keys(parsed.data).filter((name) => !MACHINE_EVENT_NAMES.includes(name));
  if (unknown.length > 0) {
    throw new ScenarioError(
      capIssues(
        unknown.map((name) => ({
          file,
          line: source.lineOf([name]),
          path: formatPath([name]),
          message: `unknown cost event (known: ${MACHINE_EVENT_NAMES.join(', ')})`,
        })),
      ),
    );
  }
  return parsed.data;
}

/**
 * Parse a scenario from YAML or JSON text (YAML 1.2 reads JSON too, so both get line numbers),
 * validate it against the schema and check its cross-references. Throws {@link ScenarioError}.
 */
export function parseScenario(text: string, file = 'scenario.yaml', options: LoadOptions = {}): LoadedScenario {
  const limits = resolveLimits(options.limits);
  const { raw, source } = parseText(text, file, limits, (json) => preflight(json, limits));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError([
      { file, line: 1, path: '', message: 'a scenario must be a mapping (YAML) or an object (JSON)' },
    ]);
  }
  // Counts that decide how much memory validation itself takes are checked on the raw data first.
  const early = preflight(raw, limits);
  if (early) throw limitError(file, source.lineOf(early.path), formatPath(early.path), early.message);
  const parsed = ScenarioSpec.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(capIssues(zodIssues(parsed.error, file, source, raw)));
  const budget = checkBudgets(parsed.data, limits, raw);
  if (budget) throw limitError(file, source.lineOf(budget.path), formatPath(budget.path), budget.message);
  const problems = checkReferences(parsed.data);
  if (problems.length > 0) {
    throw new ScenarioError(
      capIssues(
        problems.map((p) => ({ file, line: source.lineOf(p.path), path: formatPath(p.path), message: p.message })),
      ),
    );
  }
  return { file, scenario: parsed.data, source, limits };
}

/** How {@link parseScenario} and {@link parseCosts} read a file. */
export interface LoadOptions {
  /** Budgets to raise or lower; the rest keep {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<Limits>;
}

/** Identical messages are listed this many times, then summarised in one line. */
export const REPEATED_ISSUE_CAP = 3;
/** At most this many problems are listed for one file; the rest are counted. */
export const ISSUE_CAP = 20;

/**
 * Keep a junk file's error list short: each distinct message at most {@link REPEATED_ISSUE_CAP}
 * times and at most {@link ISSUE_CAP} lines, then one line counting what was left out.
 */
export function capIssues(issues: readonly ScenarioIssue[]): ScenarioIssue[] {
  const seen = new Map<string, number>();
  const out: ScenarioIssue[] = [];
  let dropped = 0;
  for (const issue of issues) {
    const count = (seen.get(issue.message) ?? 0) + 1;
    seen.set(issue.message, count);
    if (count > REPEATED_ISSUE_CAP || out.length >= ISSUE_CAP) dropped++;
    else out.push(issue);
  }
  if (dropped > 0 && out.length > 0)
    out.push({
      file: out[0].file,
      line: 0,
      path: '',
      message: `... and ${dropped} more problem${dropped > 1 ? 's' : ''} like those above`,
    });
  return out;
}

function zodIssues(error: z.ZodError, file: string, source: SourceMap, raw?: unknown): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
    let message = issue.message;
    let linePath: PathSegment[] = path;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys
        .slice(0, 5)
        .map((k) => echoValue(k))
        .join(', ')}${issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : ''}`;
      linePath = [...path, issue.keys[0]];
    } else if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
      message = discriminatorMessage(path, valueAt(raw, path));
    } else if (issue.code === 'invalid_type') {
      // zod 4 does not report the input: look it up, so a present field of the wrong type is not "required".
      const value = valueAt(raw, path);
      const found = hasValueAt(raw, path);
      if (!found) message = 'required';
      else if (/^Invalid input/.test(message))
        message = `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, found ${describeFound(value)}`;
      else message = `${message}, found ${describeFound(value)}`;
    } else if (issue.code === 'invalid_union' || issue.code === 'invalid_value' || issue.code === 'invalid_format') {
      if (hasValueAt(raw, path) && !/found /.test(message))
        message = `${message}, found ${describeFound(valueAt(raw, path))}`;
    }
    out.push({ file, line: source.lineOf(linePath), path: formatPath(path), message });
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  int: 'a whole number',
  number: 'a finite number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function hasValueAt(raw: unknown, path: readonly PathSegment[]): boolean {
  if (path.length === 0) return raw !== undefined;
  const parent = valueAt(raw, path.slice(0, -1));
  return (
    parent !== null && typeof parent === 'object' && Object.prototype.hasOwnProperty.call(parent, path[path.length - 1])
  );
}

function valueAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let value = raw;
  for (const seg of path)
    value = value !== null && typeof value === 'object' ? (value as Record<PathSegment, unknown>)[seg] : undefined;
  return value;
}

function discriminatorMessage(path: readonly PathSegment[], value: unknown): string {
  const given = value === undefined ? 'missing' : echoValue(value);
  if (path[path.length - 1] === 'kind') return `expected kind interrupt, nmi or stray_write (got ${given})`;
  return `unknown op ${given} (ops: ${OP_NAMES.join(', ')})`;
}
