import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { canonicalJson } from './canonical';
import { pointKey, recordLine, type SweepRecord } from './point';

/** A results file that cannot be read back: which file, which line, what is wrong. */
export class ResultsError extends Error {
  override readonly name = 'ResultsError';
}

/** Parse one results line, checking that it is a record whose key matches its point. */
function parseRecord(line: string, file: string, lineNo: number): SweepRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ResultsError(`${file}:${lineNo}: not a JSON line`);
  }
  const record = value as SweepRecord;
  if (
    record === null ||
    typeof record !== 'object' ||
    typeof record.key !== 'string' ||
    record.point === null ||
    typeof record.point !== 'object' ||
    (record.metrics === undefined && typeof record.error !== 'string')
  )
    throw new ResultsError(`${file}:${lineNo}: not a sweep result (needs key, point, and metrics or error)`);
  if (pointKey(record.point) !== record.key)
    throw new ResultsError(`${file}:${lineNo}: key ${record.key} does not match its point (edited by hand?)`);
  return record;
}

/**
 * The records of a results file, and the length of its complete lines. A last line without its
 * newline is what a crash mid-write leaves: it is not a result (the point runs again).
 */
export function readResults(file: string): { records: SweepRecord[]; completeBytes: number } {
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  const records: SweepRecord[] = [];
  text
    .slice(0, end)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() !== '') records.push(parseRecord(line, file, i + 1));
    });
  return { records, completeBytes: Buffer.byteLength(text.slice(0, end)) };
}

/**
 * Results streamed to a JSON Lines file: each record is appended as one line and fsynced before
 * the next, so a crash loses only points in flight. Opening an existing file resumes it: the keys
 * already there are `done`, and a torn last line is cut off.
 */
export class ResultsWriter {
  private fd: number;
  readonly done = new Map<string, SweepRecord>();

  constructor(readonly file: string) {
    if (existsSync(file)) {
      const { records, completeBytes } = readResults(file);
      for (const r of records) this.done.set(r.key, r);
      this.fd = openSync(file, 'r+');
      ftruncateSync(this.fd, completeBytes);
      closeSync(this.fd);
    }
    this.fd = openSync(file, 'a');
  }

  /** Append a record unless its point is already in the file; true if it was written. */
  append(record: SweepRecord): boolean {
    if (this.done.has(record.key)) return false;
    writeSync(this.fd, `${recordLine(record)}\n`);
    fsyncSync(this.fd);
    this.done.set(record.key, record);
    return true;
  }

  /** Close the results file. */
  close(): void {
    closeSync(this.fd);
  }
}

/** Write a whole file atomically: a temporary file beside it, fsynced, then renamed over it. */
export function writeFileAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/**
 * Merge the records of several results files (shards, re-runs): one per key, sorted by key. The
 * same key with different contents means the files come from different pkeysim versions: an error.
 */
export function mergeRecords(sources: readonly { file: string; records: readonly SweepRecord[] }[]): SweepRecord[] {
  const byKey = new Map<string, { record: SweepRecord; line: string; file: string }>();
  for (const { file, records } of sources)
    for (const record of records) {
      const line = canonicalJson(record);
      const seen = byKey.get(record.key);
      if (seen && seen.line !== line)
        throw new ResultsError(
          `point ${record.key} has different results in ${seen.file} and ${file} (different pkeysim versions?)`,
        );
      byKey.set(record.key, { record, line, file });
    }
  return [...byKey.keys()].sort().map((key) => byKey.get(key)!.record);
}

/** Records as JSON Lines text, one canonical line each. */
export function resultsText(records: readonly SweepRecord[]): string {
  return records.map((r) => `${recordLine(r)}\n`).join('');
}
