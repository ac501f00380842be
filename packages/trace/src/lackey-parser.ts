import { addressFromUnsigned64 } from './address';
import { TraceAccessKind } from './access-kind';

/**
 * A streaming parser of valgrind lackey traces (`valgrind --tool=lackey --trace-mem=yes`):
 *
 *     I  04001b6c,2        instruction fetch of 2 bytes
 *      L 1ffefffd18,8      load
 *      S 1ffefffd10,8      store
 *      M 0421fb0,4         modify (load and store of the same bytes)
 *     ==1234== ...         valgrind's own messages (also --pid-- and **pid**): skipped
 *     T 2                  pkeysim's thread record: the records after it are made by thread 2
 *
 * lackey prints records with "I  %08lx,%lu" and " L %08lx,%lu" (lackey/lk_main.c, trace_instr and
 * trace_load), with no thread id: lackey serialises the threads of a program into one stream and
 * marks nothing at a thread switch. The `T <id>` record is pkeysim's own, for traces made by a tool
 * (or a patched lackey) that knows which thread runs; records before the first one are thread 1,
 * valgrind's number for the main thread. Valgrind prefixes its messages with ==pid==, --pid-- or **pid** (coregrind/m_libcprint.c).
 *
 * It works on raw bytes: `push` any chunks (file stream, stdin), the parser scans them in place and
 * fills a fixed-size columnar batch (typed arrays) handed to `onBatch` whenever it is full and at `end`.
 * Only a partial last line is copied between chunks, so memory stays constant whatever the trace size.
 */

/** Parsed records, columnar. The arrays are reused: consume a batch before `onBatch` returns. */
export interface TraceBatch {
  /** Number of valid records at the front of the arrays. */
  length: number;
  readonly kinds: Uint8Array;
  /** Signed addresses (see `address.ts`). */
  readonly addresses: Float64Array;
  readonly sizes: Uint32Array;
}

/** `error`: throw a {@link TraceFormatError} at the first malformed line; `skip`: count and skip them. */
export type MalformedLineMode = 'error' | 'skip';

/** Options for a LackeyParser. */
export interface LackeyParserOptions {
  /** Records per batch (default 8192). */
  readonly batchSize?: number;
  /** What to do with malformed lines (default `error`). */
  readonly malformed?: MalformedLineMode;
  /** Longest record line accepted (default 4096 bytes); valgrind message lines may be longer. */
  readonly maxLineBytes?: number;
  /**
   * Called at each `T <id>` record, after every record before it has reached `onBatch`, with the
   * thread id and the record's 1-based line.
   */
  readonly onThread?: (thread: number, line: number) => void;
}

/** A malformed trace line: its 1-based number and what is wrong with it. */
export interface MalformedLine {
  readonly line: number;
  readonly reason: string;
}

/** Line and record counts of a parsed trace. */
export interface TraceStats {
  /** Lines read, including message and blank lines. */
  readonly lines: number;
  /** Access records (I, L, S, M lines). */
  readonly accesses: number;
  /** Valgrind message lines (==pid==, --pid--, **pid**). */
  readonly messageLines: number;
  /** Thread records (`T <id>`), when the trace has any. */
  readonly threadRecords?: number;
  /** Superblock records (`SB <addr>`, lackey --trace-superblocks=yes), when the trace has any. */
  readonly superblocks?: number;
  readonly malformedLines: number;
  /** The first malformed line, in `skip` mode. */
  readonly firstMalformed?: MalformedLine;
}

/** A line that is neither an access record nor a valgrind message. `line` counts from 1. */
export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const COMMA = 0x2c;
const DIGIT_0 = 0x30;
const LETTER_T = 0x54;
const LETTER_S = 0x53;
const LETTER_B = 0x42;
/** Thread ids up to 9 digits: whole numbers 1..999,999,999. */
const MAX_THREAD_DIGITS = 9;

/** Hex digit value per byte, -1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[DIGIT_0 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x61 + i] = 10 + i;
  HEX[0x41 + i] = 10 + i;
}

/** Record kind per first letter, -1 for anything else. */
const KIND_OF_LETTER = new Int8Array(256).fill(-1);
KIND_OF_LETTER[0x49] = TraceAccessKind.Fetch; // I
KIND_OF_LETTER[0x4c] = TraceAccessKind.Load; // L
KIND_OF_LETTER[0x53] = TraceAccessKind.Store; // S
KIND_OF_LETTER[0x4d] = TraceAccessKind.Modify; // M

/** Up to 13 hex digits (52 bits) accumulate exactly in a double; longer addresses take the exact path. */
const FAST_HEX_DIGITS = 13;
const MAX_HEX_DIGITS = 16;
/** Sizes up to 9 digits fit a Uint32 exactly. */
const MAX_SIZE_DIGITS = 9;

/** What to do with bytes up to the next newline: nothing pending, or the rest of a classified line. */
const Discard = { None: 0, MessageLine: 1, MalformedLine: 2 } as const;
type Discard = (typeof Discard)[keyof typeof Discard];

/** Streaming parser of valgrind lackey traces: `push` byte chunks, receive columnar batches in `onBatch`, then call `end`. */
export class LackeyParser {
  private readonly batch: TraceBatch;
  private readonly batchSize: number;
  private readonly skipMalformed: boolean;
  private readonly maxLineBytes: number;
  /** The partial last line of the previous chunk, plus room for a newline. */
  private readonly carry: Uint8Array;
  private carryLength = 0;
  private discard: Discard = Discard.None;
  private ended = false;

  private line = 0;
  private accesses = 0;
  private messageLines = 0;
  private threadRecords = 0;
  private superblocks = 0;
  private malformedLines = 0;
  private firstMalformed: MalformedLine | undefined;

  private readonly onThread: ((thread: number, line: number) => void) | undefined;

  constructor(
    private readonly onBatch: (batch: TraceBatch) => void,
    options: LackeyParserOptions = {},
  ) {
    this.onThread = options.onThread;
    const batchSize = options.batchSize ?? 8192;
    const maxLineBytes = options.maxLineBytes ?? 4096;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number >= 1`);
    // A message line is recognised from its "==pid==" prefix, so the carry must hold at least that.
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 64)
      throw new RangeError(`maxLineBytes must be a whole number >= 64`);
    this.batchSize = batchSize;
    this.maxLineBytes = maxLineBytes;
    this.skipMalformed = options.malformed === 'skip';
    this.batch = {
      length: 0,
      kinds: new Uint8Array(batchSize),
      addresses: new Float64Array(batchSize),
      sizes: new Uint32Array(batchSize),
    };
    this.carry = new Uint8Array(maxLineBytes + 1);
  }

  /** Parse a chunk. Records reach `onBatch` when a batch fills; call {@link end} after the last chunk. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('push after end');
    let pos = 0;
    if (this.carryLength > 0 || this.discard !== Discard.None) {
      const newline = chunk.indexOf(NEWLINE);
      const lineEnd = newline < 0 ? chunk.length : newline;
      if (this.discard !== Discard.None) {
        if (newline < 0) return;
        this.finishDiscardedLine();
      } else {
        this.appendToCarry(chunk, lineEnd);
        if (newline < 0) return;
        if (this.discard === Discard.None) this.parseCarry();
        else this.finishDiscardedLine();
      }
      pos = newline + 1;
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline >= pos) {
      this.parseLines(chunk, pos, lastNewline + 1);
      pos = lastNewline + 1;
    }
    if (pos < chunk.length) this.appendToCarry(chunk.subarray(pos), chunk.length - pos);
  }

  /** The last line may lack a newline. Hands over the final, partly filled batch. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.discard !== Discard.None) this.finishDiscardedLine();
    else if (this.carryLength > 0) this.parseCarry();
    this.flush();
  }

  get stats(): TraceStats {
    return {
      lines: this.line,
      accesses: this.accesses,
      messageLines: this.messageLines,
      ...(this.threadRecords > 0 ? { threadRecords: this.threadRecords } : {}),
      ...(this.superblocks > 0 ? { superblocks: this.superblocks } : {}),
      malformedLines: this.malformedLines,
      ...(this.firstMalformed ? { firstMalformed: this.firstMalformed } : {}),
    };
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    this.onBatch(this.batch);
    this.batch.length = 0;
  }

  private appendToCarry(bytes: Uint8Array, length: number): void {
    if (this.carryLength + length > this.maxLineBytes) {
      const carried = this.carry.subarray(0, this.carryLength);
      const head = new Uint8Array(Math.min(this.maxLineBytes, this.carryLength + length));
      head.set(carried);
      head.set(bytes.subarray(0, head.length - this.carryLength), this.carryLength);
      this.carryLength = 0;
      if (messageLineLength(head, 0, head.length) > 0) {
        this.discard = Discard.MessageLine;
      } else {
        this.reportMalformed(
          this.line + 1,
          `line is longer than ${this.maxLineBytes} bytes; lackey records are short`,
          head,
          0,
          head.length,
        );
        this.discard = Discard.MalformedLine;
      }
      return;
    }
    this.carry.set(bytes.subarray(0, length), this.carryLength);
    this.carryLength += length;
  }

  /** Parse the carried partial line, now complete, as one line. */
  private parseCarry(): void {
    this.carry[this.carryLength] = NEWLINE;
    const length = this.carryLength + 1;
    this.carryLength = 0;
    this.parseLines(this.carry, 0, length);
  }

  private finishDiscardedLine(): void {
    this.line++;
    if (this.discard === Discard.MessageLine) this.messageLines++;
    this.discard = Discard.None;
  }

  /**
   * The hot loop: parse the complete lines in `buf[start, end)`. `buf[end - 1]` is a newline, so every
   * scan below stops at it at the latest without a bounds check.
   */
  private parseLines(buf: Uint8Array, start: number, end: number): void {
    const { kinds, addresses, sizes } = this.batch;
    const batchSize = this.batchSize;
    let n = this.batch.length;
    let counted = n;
    let line = this.line;
    let p = start;
    while (p < end) {
      line++;
      const lineStart = p;
      let c = buf[p];
      while (c === SPACE) c = buf[++p];
      const kind = KIND_OF_LETTER[c];
      if (kind < 0) {
        if (c === LETTER_T && p === lineStart) {
          // Records before the switch belong to the thread that ran them: hand them over first.
          this.batch.length = n;
          this.accesses += n - counted;
          this.line = line - 1;
          this.flush();
          n = 0;
          counted = 0;
          p = this.threadLine(buf, p, line);
          continue;
        }
        p = this.otherLine(buf, lineStart, p, line);
        continue;
      }
      c = buf[++p];
      if (c !== SPACE) {
        // Off the hot path: only a line that is not an access record gets here.
        if (c === LETTER_B && p - 1 === lineStart && buf[lineStart] === LETTER_S) {
          p = this.superblockLine(buf, lineStart, line);
          continue;
        }
        p = this.malformed(buf, lineStart, line, `expected a space after "${String.fromCharCode(buf[p - 1])}"`);
        continue;
      }
      while (c === SPACE) c = buf[++p];
      const hexStart = p;
      let address = 0;
      let digit = HEX[c];
      while (digit >= 0) {
        address = address * 16 + digit;
        digit = HEX[buf[++p]];
      }
      const hexDigits = p - hexStart;
      if (hexDigits === 0) {
        p = this.malformed(buf, lineStart, line, 'expected a hexadecimal address');
        continue;
      }
      if (hexDigits > FAST_HEX_DIGITS) {
        const exact = this.longAddress(buf, hexStart, p);
        if (typeof exact === 'string') {
          p = this.malformed(buf, lineStart, line, exact);
          continue;
        }
        address = exact;
      }
      if (buf[p] !== COMMA) {
        p = this.malformed(buf, lineStart, line, 'expected "," after the address');
        continue;
      }
      const sizeStart = ++p;
      let size = 0;
      let value = buf[p] - DIGIT_0;
      while (value >= 0 && value <= 9) {
        size = size * 10 + value;
        value = buf[++p] - DIGIT_0;
      }
      if (p === sizeStart || p - sizeStart > MAX_SIZE_DIGITS) {
        p = this.malformed(
          buf,
          lineStart,
          line,
          p === sizeStart ? 'expected a decimal size after ","' : 'size is too large',
        );
        continue;
      }
      c = buf[p];
      while (c === SPACE || c === CR) c = buf[++p];
      if (c !== NEWLINE) {
        p = this.malformed(buf, lineStart, line, 'unexpected text after the size');
        continue;
      }
      p++;
      kinds[n] = kind;
      addresses[n] = address;
      sizes[n] = size;
      if (++n === batchSize) {
        this.batch.length = n;
        this.accesses += n - counted;
        this.line = line;
        this.onBatch(this.batch);
        this.batch.length = 0;
        n = 0;
        counted = 0;
      }
    }
    this.accesses += n - counted;
    this.batch.length = n;
    this.line = line;
  }

  /** A `T <id>` thread record at `buf[p]`; the position after it. */
  private threadLine(buf: Uint8Array, p: number, line: number): number {
    const lineStart = p;
    let c = buf[++p];
    if (c !== SPACE) return this.malformed(buf, lineStart, line, 'expected a space after "T"');
    while (c === SPACE) c = buf[++p];
    const digitsStart = p;
    let thread = 0;
    while (c >= DIGIT_0 && c <= DIGIT_0 + 9) {
      thread = thread * 10 + (c - DIGIT_0);
      c = buf[++p];
    }
    if (p === digitsStart || p - digitsStart > MAX_THREAD_DIGITS || thread < 1) {
      return this.malformed(buf, lineStart, line, 'a thread record is "T" and a thread id from 1 to 999999999');
    }
    while (c === SPACE || c === CR) c = buf[++p];
    if (c !== NEWLINE) return this.malformed(buf, lineStart, line, 'unexpected text after the thread id');
    this.threadRecords++;
    this.line = line;
    this.onThread?.(thread, line);
    return p + 1;
  }

  /**
   * An `SB <addr>` superblock record at `buf[lineStart]` (lackey's lk_main.c prints "SB %08lx" at
   * the start of a line for --trace-superblocks=yes): counted, carries no access; the position after it.
   */
  private superblockLine(buf: Uint8Array, lineStart: number, line: number): number {
    let p = lineStart + 2;
    let c = buf[p];
    if (c !== SPACE) return this.malformed(buf, lineStart, line, 'expected a space after "SB"');
    while (c === SPACE) c = buf[++p];
    const hexStart = p;
    while (HEX[c] >= 0) c = buf[++p];
    if (p === hexStart || p - hexStart > MAX_HEX_DIGITS)
      return this.malformed(buf, lineStart, line, `a superblock record is "SB" and 1 to ${MAX_HEX_DIGITS} hex digits`);
    while (c === SPACE || c === CR) c = buf[++p];
    if (c !== NEWLINE) return this.malformed(buf, lineStart, line, 'unexpected text after the superblock address');
    this.superblocks++;
    return p + 1;
  }

  /** A line that does not start with a record letter: a message line, a blank line or malformed. */
  private otherLine(buf: Uint8Array, lineStart: number, p: number, line: number): number {
    const c = buf[p];
    if (c === NEWLINE || (c === CR && buf[p + 1] === NEWLINE)) return p + (c === CR ? 2 : 1);
    if (p === lineStart && messageLineLength(buf, p, buf.indexOf(NEWLINE, p)) > 0) {
      this.messageLines++;
      return buf.indexOf(NEWLINE, p) + 1;
    }
    return this.malformed(buf, lineStart, line, 'expected an access record (I, L, S or M) or a valgrind ==pid== line');
  }

  /** 14 to 16 hex digits, parsed exactly; a string says why the address is refused. */
  private longAddress(buf: Uint8Array, start: number, end: number): number | string {
    if (end - start > MAX_HEX_DIGITS) return `address has more than ${MAX_HEX_DIGITS} hex digits`;
    try {
      return addressFromUnsigned64(BigInt('0x' + latin1(buf, start, end)));
    } catch (error) {
      return `address ${(error as Error).message}`;
    }
  }

  /** Throw, or (skip mode) count the line and return the position after it. */
  private malformed(buf: Uint8Array, lineStart: number, line: number, reason: string): number {
    const newline = buf.indexOf(NEWLINE, lineStart);
    this.reportMalformed(line, reason, buf, lineStart, newline);
    return newline + 1;
  }

  private reportMalformed(line: number, reason: string, buf: Uint8Array, start: number, end: number): void {
    const shown = latin1(buf, start, Math.min(end, start + 60)).replace(/\r$/, '');
    const detail = `${reason}: ${JSON.stringify(shown)}${end - start > 60 ? '...' : ''}`;
    if (!this.skipMalformed) {
      this.line = line;
      throw new TraceFormatError(line, detail);
    }
    this.malformedLines++;
    this.firstMalformed ??= { line, reason: detail };
  }
}

/**
 * Length of a valgrind message prefix ("==1234==", "--1234--", "**1234**") at `buf[start]`, or 0.
 */
function messageLineLength(buf: Uint8Array, start: number, end: number): number {
  const mark = buf[start];
  if ((mark !== 0x3d && mark !== 0x2d && mark !== 0x2a) || buf[start + 1] !== mark) return 0;
  let p = start + 2;
  while (p < end && buf[p] >= DIGIT_0 && buf[p] <= DIGIT_0 + 9) p++;
  if (p === start + 2 || p + 2 > end || buf[p] !== mark || buf[p + 1] !== mark) return 0;
  return p + 2 - start;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]);
  return text;
}
