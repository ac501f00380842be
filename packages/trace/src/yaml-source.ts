/**
 * YAML policies, with the same located-value contract as the JSON reader: `locate(path)` gives the
 * line and column of a field's key (or an array element), so a policy error names where to look.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { JsonSyntaxError, type JsonPath, type LocatedJson, type SourceLocation } from './json-source';

export function parseYamlWithLocations(text: string): LocatedJson {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const error = doc.errors[0];
  if (error) throw new JsonSyntaxError(at(error.pos[0]), error.message.split('\n')[0]);
  const start = (node: unknown): number | undefined =>
    (node as { range?: [number, number, number] } | null)?.range?.[0];
  return {
    value: doc.toJS(),
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
