/**
 * YAML policies, with the same located-value contract as the JSON reader: `locate(path)` gives the
 * line and column of a field's key (or an array element), so a policy error names where to look.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { echoText, findDeepNesting } from '@pkeysim/core';
import { JsonSyntaxError, MAX_DEPTH, type JsonPath, type LocatedJson, type SourceLocation } from './json-source';

/** Whether data nests deeper than `limit`, walked without recursion (alias cycles stop at the limit). */
function nestedDeeper(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

/** YAML aliases a policy may dereference (the yaml package's billion-laughs guard). */
export const MAX_YAML_ALIASES = 100;

export function parseYamlWithLocations(text: string): LocatedJson {
  // The yaml parser recurses per level and dies near 1000: refuse deep text before it runs.
  const deep = findDeepNesting(text, MAX_DEPTH);
  if (deep) throw new JsonSyntaxError({ line: deep.line, column: 1 }, `nested deeper than ${MAX_DEPTH} levels`);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const error = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (error) throw new JsonSyntaxError(at(error.pos[0]), echoText(error.message.split('\n')[0], 120));
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // Excessive aliases (ReferenceError) or a structure too deep to convert (RangeError).
    if (e instanceof ReferenceError || e instanceof RangeError)
      throw new JsonSyntaxError(at(0), `aliases expand to more than ${MAX_YAML_ALIASES} nodes or nest too deep`);
    throw e;
  }
  if (nestedDeeper(value, MAX_DEPTH))
    throw new JsonSyntaxError(
      at(0),
      `nested deeper than ${MAX_DEPTH} levels (through aliases, or an alias inside itself)`,
    );
  const start = (node: unknown): number | undefined =>
    (node as { range?: [number, number, number] } | null)?.range?.[0];
  return {
    value,
    locate(path: JsonPath): SourceLocation {
      let node: unknown = doc.contents;
      let where = start(node) ?? 0;
      for (const key of path) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
          if (!pair) break;
          where = start(pair.key) ?? where;
          node = pair.value;
        } else if (isSeq(node) && typeof key === 'number' && key < node.items.length) {
          node = node.items[key] as Node;
          where = start(node) ?? where;
        } else break;
      }
      return at(where);
    },
  };
}
