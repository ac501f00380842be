/**
 * The deepest nesting the YAML parser this project uses (eemeli/yaml 2.x) survives: it recurses
 * per level and, near 1000 levels, runs out of stack or (block style) out of memory compiling a
 * regular expression, which kills the process. Text is scanned against this before parsing.
 */
export const PARSER_MAX_DEPTH = 400;

/** Where the text first nests deeper than the limit. */
export interface DeepNesting {
  readonly depth: number;
  /** 1-based line. */
  readonly line: number;
}

/**
 * A linear scan of YAML or JSON text for its nesting depth, without parsing it: flow brackets
 * (`[`, `{`) outside quotes and comments, plus block indentation levels and `- ` entries. It
 * approximates the parsed document's depth closely for ordinary files and never under-counts
 * flow nesting, so it can refuse a file before the recursive parser sees it. Returns the first
 * place deeper than `limit`, or undefined.
 */
export function findDeepNesting(text: string, limit: number): DeepNesting | undefined {
  const indents: number[] = [];
  let flow = 0;
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    // Start of a line: block structure (only outside flow collections).
    const lineStart = i;
    let indent = 0;
    while (i < n && text.charCodeAt(i) === 32) {
      indent++;
      i++;
    }
    let blank = i >= n || text[i] === '\n' || text[i] === '\r' || text[i] === '#';
    if (!blank && flow === 0) {
      while (indents.length > 0 && indents[indents.length - 1] >= indent) indents.pop();
      indents.push(indent);
      // "- - - x": each dash opens one more level on the same line.
      while (i < n && text[i] === '-' && (i + 1 >= n || text[i + 1] === ' ' || text[i + 1] === '\n')) {
        indents.push(indent + 1);
        if (i + 1 >= n || text[i + 1] === '\n') {
          i++;
          break;
        }
        i += 2;
        indent += 2;
        while (i < n && text.charCodeAt(i) === 32) {
          i++;
          indent++;
        }
      }
      if (indents.length > limit) return { depth: indents.length, line };
    }
    blank = false;
    // The rest of the line: flow brackets, quotes, comments.
    while (i < n && text[i] !== '\n') {
      const c = text[i];
      if (c === '"' || c === "'") {
        i++;
        while (i < n && text[i] !== c) {
          if (c === '"' && text[i] === '\\') i++;
          else if (text[i] === '\n') line++;
          i++;
        }
      } else if (c === '#' && (i === lineStart || text[i - 1] === ' ' || text[i - 1] === '\t')) {
        while (i < n && text[i] !== '\n') i++;
        break;
      } else if (c === '[' || c === '{') {
        flow++;
        if (indents.length + flow > limit) return { depth: indents.length + flow, line };
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
      i++;
    }
    if (i < n) {
      i++;
      line++;
    }
  }
  return undefined;
}
