import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LACKEY_LETTERS, TraceAccessKind } from './access-kind';
import { formatAddress } from './address';
import { LackeyParser, TraceFormatError, type LackeyParserOptions, type TraceStats } from './lackey-parser';

interface Parsed {
  kind: number;
  address: number;
  size: number;
}

/** Parse `chunks` and return every record and the stats. */
function parseChunks(
  chunks: readonly (string | Uint8Array)[],
  options: LackeyParserOptions = {},
): { records: Parsed[]; stats: TraceStats } {
  const records: Parsed[] = [];
  const parser = new LackeyParser((batch) => {
    for (let i = 0; i < batch.length; i++)
      records.push({ kind: batch.kinds[i], address: batch.addresses[i], size: batch.sizes[i] });
  }, options);
  for (const chunk of chunks) parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  parser.end();
  return { records, stats: parser.stats };
}

/** Cut `text` at the given offsets. */
function split(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of points) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out;
}

/** A record line as lackey prints it: "I  %08lx,%lu" or " L %08lx,%lu". */
function lackeyLine(r: Parsed): string {
  const hex = formatAddress(r.address).slice(2).padStart(8, '0');
  return r.kind === TraceAccessKind.Fetch ? `I  ${hex},${r.size}` : ` ${LACKEY_LETTERS[r.kind]} ${hex},${r.size}`;
}

const recordArbitrary = fc.record({
  kind: fc.constantFrom(TraceAccessKind.Load, TraceAccessKind.Store, TraceAccessKind.Fetch, TraceAccessKind.Modify),
  // Up to 2^48 (user space) plus the kernel half, sign-extended.
  address: fc.oneof(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: -(2 ** 47), max: -1 })),
  size: fc.integer({ min: 0, max: 512 }),
});

const messageLineArbitrary = fc
  .tuple(
    fc.constantFrom('==', '--', '**'),
    fc.integer({ min: 1, max: 99999 }),
    fc.string({ maxLength: 80 }).map((s) => s.replace(/[\r\n]/g, ' ')),
  )
  .map(([mark, pid, text]) => `${mark}${pid}${mark} ${text}`);

describe('LackeyParser', () => {
  it('parses fetch, load, store and modify records as lackey prints them', () => {
    const { records, stats } = parseChunks(['I  04001b6c,2\n L 1ffefffd18,8\n S 1ffefffd10,8\n M 0421fb0,4\n']);
    expect(records).toEqual([
      { kind: TraceAccessKind.Fetch, address: 0x04001b6c, size: 2 },
      { kind: TraceAccessKind.Load, address: 0x1ffefffd18, size: 8 },
      { kind: TraceAccessKind.Store, address: 0x1ffefffd10, size: 8 },
      { kind: TraceAccessKind.Modify, address: 0x0421fb0, size: 4 },
    ]);
    expect(stats).toEqual({ lines: 4, accesses: 4, messageLines: 0, malformedLines: 0 });
  });

  it('skips valgrind ==pid==, --pid-- and **pid** lines and blank lines, counting them as lines', () => {
    const text =
      '==5743== Lackey, an example Valgrind tool\n--5743-- verbose\n**5743** warning\n==5743== \n\nI  0401ab70,3\n';
    const { records, stats } = parseChunks([text]);
    expect(records).toHaveLength(1);
    expect(stats).toEqual({ lines: 6, accesses: 1, messageLines: 4, malformedLines: 0 });
  });

  it('counts lackey --trace-superblocks "SB" records and carries no access for them', () => {
    // As valgrind 3.19's lackey prints them: "SB %08lx" at the start of a line, between the accesses.
    const { records, stats } = parseChunks(['SB 0401ab70\nI  0401ab70,3\nSB 0401b7e7\r\n S 1fff000778,8\n']);
    expect(records).toEqual([
      { kind: TraceAccessKind.Fetch, address: 0x0401ab70, size: 3 },
      { kind: TraceAccessKind.Store, address: 0x1fff000778, size: 8 },
    ]);
    expect(stats).toEqual({ lines: 4, accesses: 2, messageLines: 0, malformedLines: 0, superblocks: 2 });
  });

  it.each([
    ['SB\n', /line 1: expected a space after "SB"/],
    ['SB zz\n', /line 1: a superblock record is "SB" and 1 to 16 hex digits/],
    ['SB 0401ab70,3\n', /line 1: unexpected text after the superblock address/],
    [' SB 0401ab70\n', /line 1: expected a space after "S"/],
  ])('refuses the malformed superblock line %j, naming the line', (text, message) => {
    expect(() => parseChunks([text])).toThrow(message);
  });

  it('accepts a last line without a newline and CRLF line endings', () => {
    const { records } = parseChunks(['I  0401ab70,3\r\n S 1fff000778,8']);
    expect(records).toEqual([
      { kind: TraceAccessKind.Fetch, address: 0x0401ab70, size: 3 },
      { kind: TraceAccessKind.Store, address: 0x1fff000778, size: 8 },
    ]);
  });

  it('reads 16-digit kernel-half addresses as signed canonical addresses', () => {
    const { records } = parseChunks([' L ffff888000000000,8\n']);
    expect(records[0].address).toBe(-0x778000000000);
  });

  it('refuses an address that is not exactly representable, naming the line', () => {
    expect(() => parseChunks(['I  0401ab70,3\n L 0080000000000000,8\n'])).toThrow(
      /^line 2: address 0x80000000000000 is outside the exactly representable range/,
    );
  });

  it('refuses a record line carried across chunks beyond maxLineBytes, but skips a long valgrind message line', () => {
    const long = 'x'.repeat(200);
    const inPieces = (text: string) =>
      split(
        text,
        Array.from({ length: text.length / 10 }, (_, i) => i * 10),
      );
    expect(() => parseChunks(inPieces(`I  0401ab70,3\n L 1234,8 ${long}\n`), { maxLineBytes: 64 })).toThrow(
      /^line 2: line is longer than 64 bytes/,
    );
    const { stats } = parseChunks(inPieces(`==1== Command: ${long}\nI  0401ab70,3\n`), { maxLineBytes: 64 });
    expect(stats).toEqual({ lines: 2, accesses: 1, messageLines: 1, malformedLines: 0 });
  });

  it('round-trips random valid traces split into random chunks and batches', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 9, arbitrary: recordArbitrary }, { weight: 1, arbitrary: messageLineArbitrary }), {
          maxLength: 200,
        }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        (lines, cuts, batchSize, finalNewline) => {
          const text =
            lines.map((l) => (typeof l === 'string' ? l : lackeyLine(l))).join('\n') +
            (finalNewline && lines.length > 0 ? '\n' : '');
          const { records, stats } = parseChunks(split(text, cuts), { batchSize, maxLineBytes: 256 });
          const expected = lines.filter((l) => typeof l !== 'string');
          expect(records).toEqual(expected);
          expect(stats).toEqual({
            lines: lines.length,
            accesses: expected.length,
            messageLines: lines.length - expected.length,
            malformedLines: 0,
          });
        },
      ),
    );
  });

  const malformedLines: readonly [string, RegExp][] = [
    ['X  0401ab70,3', /expected an access record/],
    [' L zz,8', /expected a hexadecimal address/],
    [' L 1ffefffd18', /expected "," after the address/],
    [' L 1ffefffd18,', /expected a decimal size/],
    [' L 1ffefffd18,8 junk', /unexpected text after the size/],
    [' L 1ffefffd18,8,8', /unexpected text after the size/],
    ['I0401ab70,3', /expected a space after "I"/],
    [' L 12345678901234567,8', /address has more than 16 hex digits/],
    [' S 1234,12345678901', /size is too large/],
    ['==12 missing close', /expected an access record/],
  ];

  it('rejects a malformed line with its line number and the reason', () => {
    fc.assert(
      fc.property(
        fc.array(recordArbitrary, { maxLength: 50 }),
        fc.nat(),
        fc.constantFrom(...malformedLines),
        fc.array(fc.nat(), { maxLength: 10 }),
        (records, at, [bad, reason], cuts) => {
          const lines = records.map(lackeyLine);
          const position = at % (lines.length + 1);
          lines.splice(position, 0, bad);
          let error: unknown;
          try {
            parseChunks(split(lines.join('\n') + '\n', cuts));
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(TraceFormatError);
          expect((error as TraceFormatError).line).toBe(position + 1);
          expect((error as TraceFormatError).message).toMatch(new RegExp(`^line ${position + 1}: ${reason.source}`));
        },
      ),
    );
  });

  it('in skip mode counts malformed lines, remembers the first, and keeps the valid records', () => {
    const { records, stats } = parseChunks(['I  0401ab70,3\n L zz,8\nbad\n S 1fff000778,8\n'], { malformed: 'skip' });
    expect(records.map((r) => r.kind)).toEqual([TraceAccessKind.Fetch, TraceAccessKind.Store]);
    expect(stats).toEqual({
      lines: 4,
      accesses: 2,
      messageLines: 0,
      malformedLines: 2,
      firstMalformed: { line: 2, reason: 'expected a hexadecimal address: " L zz,8"' },
    });
  });

  it('reuses one batch of fixed size however long the trace is', () => {
    const batches = new Set<unknown>();
    let largest = 0;
    const parser = new LackeyParser(
      (batch) => {
        batches.add(batch.addresses);
        largest = Math.max(largest, batch.length);
      },
      { batchSize: 16 },
    );
    const chunk = Buffer.from('I  0401ab70,3\n'.repeat(1000));
    for (let i = 0; i < 10; i++) parser.push(chunk);
    parser.end();
    expect(parser.stats.accesses).toBe(10_000);
    expect(batches.size).toBe(1);
    expect(largest).toBe(16);
  });
});
