import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJsonWithLocations } from './json-source';

describe('parseJsonWithLocations', () => {
  it('parses any JSON document to the same value as JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 4 }), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(parseJsonWithLocations(text).value).toEqual(JSON.parse(text));
      }),
    );
  });

  it('locates object fields at their key and array elements at their start', () => {
    const text = '{\n  "domains": [\n    { "name": "stack",\n      "rights": "rw" }\n  ]\n}\n';
    const { locate } = parseJsonWithLocations(text);
    expect(locate(['domains'])).toEqual({ line: 2, column: 3 });
    expect(locate(['domains', 0])).toEqual({ line: 3, column: 5 });
    expect(locate(['domains', 0, 'rights'])).toEqual({ line: 4, column: 7 });
  });

  it('locates a missing field at its nearest existing parent', () => {
    const { locate } = parseJsonWithLocations('{\n  "domains": [\n    {}\n  ]\n}');
    expect(locate(['domains', 0, 'name'])).toEqual({ line: 3, column: 5 });
  });

  it('reports a syntax error with its line and column', () => {
    expect(() => parseJsonWithLocations('{\n  "a": 1,\n  "b" 2\n}')).toThrow(
      new JsonSyntaxError({ line: 3, column: 7 }, 'expected ":" after field "b", found "2"'),
    );
    expect(() => parseJsonWithLocations('[1, 2')).toThrow(
      /^line 1, column 6: expected "," or "\]" after an element, found the end of the file/,
    );
  });

  it('refuses duplicate fields, which JSON.parse would silently merge', () => {
    expect(() => parseJsonWithLocations('{"a": 1,\n "a": 2}')).toThrow(/^line 2, column 2: duplicate field "a"/);
  });

  it('keeps a "__proto__" field as data', () => {
    const { value } = parseJsonWithLocations('{"__proto__": {"x": 1}}');
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value as object)).toEqual(['__proto__']);
  });
});
