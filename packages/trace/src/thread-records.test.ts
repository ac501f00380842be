import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LackeyParser, TraceFormatError } from './lackey-parser';

/** What the parser hands over, in order: records as "kind@address" and thread switches as "T<id>@line". */
function events(chunks: readonly string[], malformed: 'error' | 'skip' = 'error'): string[] {
  const out: string[] = [];
  const parser = new LackeyParser(
    (batch) => {
      for (let i = 0; i < batch.length; i++) out.push(`${batch.kinds[i]}@${batch.addresses[i].toString(16)}`);
    },
    { malformed, batchSize: 4, onThread: (thread, line) => out.push(`T${thread}@${line}`) },
  );
  for (const chunk of chunks) parser.push(Buffer.from(chunk, 'latin1'));
  parser.end();
  return out;
}

const TRACE = ['I  00401000,4', ' L 00600000,8', 'T 2', ' S 00600008,8', 'T  17 ', ' M 00600010,4', ''].join('\n');

describe('thread records (T <id>)', () => {
  it('hands over every record before a thread record first, then the switch with its line', () => {
    expect(events([TRACE])).toEqual(['2@401000', '0@600000', 'T2@3', '1@600008', 'T17@5', '3@600010']);
  });

  it('gives the same events however the trace is cut into chunks', () => {
    const whole = events([TRACE]);
    fc.assert(
      fc.property(fc.array(fc.nat(TRACE.length), { maxLength: 6 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks = [0, ...points].map((p, i, all) => TRACE.slice(p, all[i + 1] ?? TRACE.length));
        expect(events(chunks)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('counts thread records in the stats only when there are any', () => {
    const parser = new LackeyParser(() => {});
    parser.push(Buffer.from(TRACE));
    parser.end();
    expect(parser.stats).toMatchObject({ lines: 6, accesses: 4, threadRecords: 2 });
    const plain = new LackeyParser(() => {});
    plain.push(Buffer.from(' L 00600000,8\n'));
    plain.end();
    expect('threadRecords' in plain.stats).toBe(false);
  });

  it.each([
    ['T', 'expected a space after "T"'],
    ['T 0', 'a thread record is "T" and a thread id from 1 to 999999999'],
    ['T x', 'a thread record is "T" and a thread id from 1 to 999999999'],
    ['T 1234567890', 'a thread record is "T" and a thread id from 1 to 999999999'],
    ['T 3 4', 'unexpected text after the thread id'],
    [' T 3', 'expected an access record'],
  ])('refuses the malformed thread record %j with the line and reason', (line, reason) => {
    let error: unknown;
    try {
      events([`I  00401000,4\n${line}\n`]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TraceFormatError);
    expect((error as TraceFormatError).line).toBe(2);
    expect((error as TraceFormatError).reason).toContain(reason);
  });

  it('skips a malformed thread record in skip mode without switching', () => {
    expect(events(['T 0\n L 00600000,8\n'], 'skip')).toEqual(['0@600000']);
  });
});
