import { describe, expect, it } from 'vitest';
import { describeFound, echoText, echoValue, escapeControl, findDeepNesting, PARSER_MAX_DEPTH } from '../src';

describe('echoing user input in messages', () => {
  it('shows control bytes as escapes so they cannot drive the terminal', () => {
    expect(escapeControl('a\u001b[2Jb\nc\u0007\u009b')).toBe('a\\x1b[2Jb\\nc\\x07\\x9b');
  });

  it('cuts long values to 40 characters and says how long they were', () => {
    const hex = `0x${'f'.repeat(100_000)}`;
    expect(echoText(hex)).toBe(`${hex.slice(0, 40)}... (100002 chars)`);
    expect(echoValue('short')).toBe('"short"');
  });

  it('describes what was found: infinity, NaN, strings, lists, mappings', () => {
    expect(describeFound(Infinity)).toBe('infinity');
    expect(describeFound(NaN)).toBe('NaN');
    expect(describeFound('abc')).toBe('the string "abc"');
    expect(describeFound([1])).toBe('a list');
    expect(describeFound({})).toBe('a mapping');
  });
});

describe('findDeepNesting: a linear scan before the recursive YAML parser', () => {
  it('finds flow nesting past the limit, on its line', () => {
    expect(findDeepNesting(`a: 1\nb: ${'['.repeat(100)}${']'.repeat(100)}\n`, 64)).toEqual({ depth: 65, line: 2 });
  });

  it('finds block nesting by indentation and "- " entries', () => {
    const block = Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}-`).join('\n');
    expect(findDeepNesting(block, 64)?.depth).toBe(65);
    expect(findDeepNesting('- - - - x\n', 3)?.depth).toBeGreaterThan(3);
  });

  it('ignores brackets inside quotes and comments, and passes ordinary files', () => {
    expect(
      findDeepNesting(`a: "${'['.repeat(500)}"\nb: '${'{'.repeat(500)}'\n# ${'['.repeat(500)}\n`, 8),
    ).toBeUndefined();
    expect(findDeepNesting('threads:\n  - name: t\n    program: [{op: yield}]\n', 8)).toBeUndefined();
  });

  it('has a parser ceiling below the depth where the yaml package fails (about 1000)', () => {
    expect(PARSER_MAX_DEPTH).toBeLessThan(1000);
  });
});
