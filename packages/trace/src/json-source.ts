/**
 * JSON parsing that remembers where each value came from, so a policy error can name the line of the
 * field at fault (JSON.parse keeps no positions). It accepts exactly RFC 8259 JSON and refuses
 * duplicate object keys, which JSON.parse would silently collapse to the last one.
 */

/** A position in a source text. */
export interface SourceLocation {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/** The keys and array indexes that lead from the document root to a value. */
export type JsonPath = readonly PropertyKey[];

/** A parsed document with a way to find where each value is written. */
export interface LocatedJson {
  readonly value: unknown;
  /**
   * Where the value at `path` is written: the key of an object field, the start of an array element.
   * A path that does not exist (a missing field) resolves to its nearest existing ancestor.
   */
  locate(path: JsonPath): SourceLocation;
}

/** Text that is not valid JSON (or YAML), with the location of the fault. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    readonly location: SourceLocation,
    readonly reason: string,
  ) {
    super(`line ${location.line}, column ${location.column}: ${reason}`);
  }
}

/** The deepest nesting of arrays and objects a policy document may have. */
export const MAX_DEPTH = 256;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Parse strict JSON text, refusing duplicate keys, and keep each value's location. Throws JsonSyntaxError. */
export function parseJsonWithLocations(text: string): LocatedJson {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const toLocation = (offset: number): SourceLocation => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
  };

  const offsets = new Map<string, number>();
  let pos = 0;
  const fail = (reason: string, at = pos): never => {
    throw new JsonSyntaxError(toLocation(at), reason);
  };
  const describe = (at: number) => (at >= text.length ? 'the end of the file' : JSON.stringify(text[at]));
  const skipSpace = () => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else return;
    }
  };

  const parseString = (): string => {
    const start = pos++;
    let out = '';
    for (;;) {
      if (pos >= text.length) fail('unterminated string', start);
      const c = text[pos];
      if (c === '"') {
        pos++;
        return out;
      }
      if (c === '\\') {
        const e = text[pos + 1];
        if (e === 'u') {
          const hex = text.slice(pos + 2, pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 6;
        } else if (e !== undefined && e in ESCAPES) {
          out += ESCAPES[e];
          pos += 2;
        } else {
          fail('bad escape in string');
        }
      } else if (c.charCodeAt(0) < 0x20) {
        fail('control character in string (newlines must be written \\n)');
      } else {
        out += c;
        pos++;
      }
    }
  };

  const parseValue = (path: string, depth: number): unknown => {
    skipSpace();
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    if (!offsets.has(path)) offsets.set(path, pos);
    const c = text[pos];
    if (c === '{') {
      pos++;
      const object: Record<string, unknown> = {};
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return object;
      }
      for (;;) {
        skipSpace();
        if (text[pos] !== '"') fail(`expected a field name in quotes, found ${describe(pos)}`);
        const keyAt = pos;
        const key = parseString();
        if (Object.prototype.hasOwnProperty.call(object, key)) fail(`duplicate field ${JSON.stringify(key)}`, keyAt);
        const childPath = path + '\u0000' + key;
        offsets.set(childPath, keyAt);
        skipSpace();
        if (text[pos] !== ':') fail(`expected ":" after field ${JSON.stringify(key)}, found ${describe(pos)}`);
        pos++;
        // defineProperty: a "__proto__" key is data in JSON, not the prototype.
        Object.defineProperty(object, key, {
          value: parseValue(childPath, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        skipSpace();
        if (text[pos] === ',') pos++;
        else if (text[pos] === '}') {
          pos++;
          return object;
        } else fail(`expected "," or "}" after a field, found ${describe(pos)}`);
      }
    }
    if (c === '[') {
      pos++;
      const array: unknown[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return array;
      }
      for (;;) {
        array.push(parseValue(path + '\u0000' + array.length, depth + 1));
        skipSpace();
        if (text[pos] === ',') pos++;
        else if (text[pos] === ']') {
          pos++;
          return array;
        } else fail(`expected "," or "]" after an element, found ${describe(pos)}`);
      }
    }
    if (c === '"') return parseString();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (match) {
      pos += match[0].length;
      return Number(match[0]);
    }
    return fail(`expected a value, found ${describe(pos)}`);
  };

  // A byte order mark is not JSON but editors write one; skip it (JSON.parse would refuse the file).
  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  const value = parseValue('', 0);
  skipSpace();
  if (pos < text.length) fail(`unexpected ${describe(pos)} after the end of the document`);

  return {
    value,
    locate(path) {
      for (let n = path.length; n >= 0; n--) {
        const key = path
          .slice(0, n)
          .map((p) => '\u0000' + String(p))
          .join('');
        const offset = offsets.get(key);
        if (offset !== undefined) return toLocation(offset);
      }
      return toLocation(0);
    },
  };
}
