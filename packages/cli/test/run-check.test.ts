import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LineSource } from '../src/check/lines';
import { runCheck } from '../src/check/run-check';
import { LineWriter } from '../src/output';
import type { VectorEngine } from '../src/check/vector-engine';
import { colorsFor } from '../src/color';
import type { CommandContext } from '../src/command';
import { createMemoryIo, type Io } from '../src/io';

// A toy vector format, so the check loop (order, line numbers, exit codes, streaming) is tested
// apart from the x86 model: {"id", "n", "expect"?}; running it doubles n; "boom" makes run throw.
interface ToyVector {
  id: string;
  n: number;
  expect?: number;
}
const toyEngine: VectorEngine<ToyVector> = {
  parse(line) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, issue: { field: 'line', message: 'not JSON' } };
    }
    const v = value as Partial<ToyVector>;
    if (typeof v.id !== 'string') return { ok: false, issue: { field: 'id', message: 'missing' } };
    if (typeof v.n !== 'number') return { ok: false, issue: { field: 'n', message: 'must be a number' } };
    return { ok: true, vector: v as ToyVector };
  },
  run(vector) {
    if (vector.id === 'boom') throw new Error('model exploded');
    return { id: vector.id, doubled: vector.n * 2 };
  },
  compare(vector, output) {
    return output.doubled === vector.expect
      ? []
      : [`doubled: expected ${vector.expect}, got ${String(output.doubled)}`];
  },
  samplePath: '/nonexistent',
};

function contextFor(io: Io): CommandContext {
  return {
    io,
    colors: { stdout: colorsFor(io.stdout, io.env), stderr: colorsFor(io.stderr, io.env) },
    report: (message) => io.stderr.write(`pkeysim: ${message}\n`),
    plugins: new Map(),
    action: () => async () => undefined,
  };
}

function source(text: string): LineSource {
  return { label: 'toy.jsonl', stream: Readable.from([text]), owned: false };
}

async function check(text: string, expect = false) {
  const memory = createMemoryIo();
  const code = await runCheck(
    source(text),
    { expect, json: false },
    toyEngine,
    contextFor(memory.io),
    new LineWriter(memory.io.stdout),
  );
  return { code, stdout: memory.stdout(), stderr: memory.stderr() };
}

describe('runCheck', () => {
  it('writes one JSON line per vector in input order and skips blank lines', async () => {
    const run = await check('{"id":"a","n":1}\n\n   \n{"id":"b","n":2}\r\n{"id":"c","n":3}');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"id":"a","doubled":2}\n{"id":"b","doubled":4}\n{"id":"c","doubled":6}\n');
  });

  it('names the line number and field of a malformed line, runs the rest, exit 2', async () => {
    const run = await check('{"id":"a","n":1}\n\n{"id":"b"}\n{"id":"c","n":3}\n');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('pkeysim: toy.jsonl:3: n: must be a number\n');
    expect(run.stdout).toBe('{"id":"a","doubled":2}\n{"id":"c","doubled":6}\n');
  });

  it('a mismatch gives exit 1, names the vector, and the summary counts it', async () => {
    const run = await check('{"id":"a","n":1,"expect":2}\n{"id":"b","n":2,"expect":5}\n', true);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('FAIL toy.jsonl:2: b: doubled: expected 5, got 4\n');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 1 failed');
  });

  it('bad input (2) wins over a failed check (1)', async () => {
    const run = await check('{"id":"a","n":1,"expect":9}\nnot json\n', true);
    expect(run.code).toBe(2);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('0 passed, 1 failed');
  });

  it('a vector the model throws on is reported as an internal error, exit 3, and the run goes on', async () => {
    const run = await check('{"id":"boom","n":1}\n{"id":"b","n":2}\n');
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('pkeysim: toy.jsonl:1: boom: internal error: model exploded\n');
    expect(run.stdout).toBe('{"id":"b","doubled":4}\n');
  });

  it('--json tags every line with the schema and ends with a summary line', async () => {
    const memory = createMemoryIo();
    await runCheck(
      source('{"id":"a","n":1,"expect":2}\n'),
      { expect: true, json: true },
      toyEngine,
      contextFor(memory.io),
      new LineWriter(memory.io.stdout),
    );
    const lines = memory.stdout().trimEnd().split('\n');
    expect(lines[0]).toBe('{"schema":"pkeysim.check/1","type":"vector","id":"a","doubled":2}');
    expect(lines.at(-1)).toBe('{"schema":"pkeysim.check/1","type":"summary","passed":1,"failed":0}');
  });

  it('waits for a slow reader instead of buffering the whole output (backpressure)', async () => {
    const count = 2000;
    let maxBuffered = 0;
    let received = 0;
    const slow = new Writable({
      highWaterMark: 256,
      write(_chunk, _encoding, done) {
        received++;
        maxBuffered = Math.max(maxBuffered, slow.writableLength);
        setImmediate(done);
      },
    });
    const memory = createMemoryIo();
    const io: Io = { ...memory.io, stdout: slow };
    const input = Array.from({ length: count }, (_, i) => `{"id":"v${i}","n":${i}}`).join('\n');
    const code = await runCheck(
      source(input),
      { expect: false, json: false },
      toyEngine,
      contextFor(io),
      new LineWriter(io.stdout),
    );
    expect(code).toBe(0);
    slow.end();
    await once(slow, 'finish');
    expect(received).toBe(count);
    // Without waiting for 'drain' all 2000 lines (about 50 KB) would sit in the buffer at once.
    expect(maxBuffered).toBeLessThan(1024);
  });

  it('stops quietly when the reader goes away (EPIPE)', async () => {
    let written = 0;
    const closing = new Writable({
      write(_chunk, _encoding, done) {
        written++;
        done(written === 3 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : undefined);
      },
    });
    const memory = createMemoryIo();
    const io: Io = { ...memory.io, stdout: closing };
    const input = Array.from({ length: 100 }, (_, i) => `{"id":"v${i}","n":${i}}`).join('\n');
    const code = await runCheck(
      source(input),
      { expect: false, json: false },
      toyEngine,
      contextFor(io),
      new LineWriter(io.stdout),
    );
    expect(code).toBe(0);
    expect(written).toBeLessThan(100);
  });
});
