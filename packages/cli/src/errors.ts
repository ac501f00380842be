import { ExitCode } from './exit-codes';

/**
 * A mistake by the user (bad option value, unreadable file, conflicting arguments). `main` prints
 * its message as one line, `pkeysim: <message>`, and exits with {@link ExitCode.BadInput}: no stack.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = ExitCode.BadInput;
}

/** The Node error code of a failed file operation, e.g. "ENOENT", or undefined. */
export function systemErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const FILE_ERROR_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a path component is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

/** "cannot read foo.jsonl: no such file", for a file that could not be opened or read. */
export function fileReadError(path: string, error: unknown): UsageError {
  const code = systemErrorCode(error);
  const reason = (code && FILE_ERROR_REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
  return new UsageError(`cannot read ${path}: ${reason}`);
}

const WRITE_ERROR_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EBADF: 'bad file descriptor',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  ...FILE_ERROR_REASONS,
  ENOENT: 'no such file or directory',
};

/**
 * The report could not be written: stdout or the `-o` file failed (a full disk, an I/O error).
 * `main` prints its message as one line and exits with {@link ExitCode.WriteFailed}. A closed pipe
 * (EPIPE, `pkeysim ... | head`) is not one of these: the reader left on purpose.
 */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  readonly exitCode = ExitCode.WriteFailed;

  constructor(
    /** "stdout" or the file's path. */
    readonly destination: string,
    error: unknown,
  ) {
    const code = systemErrorCode(error);
    const reason = (code && WRITE_ERROR_REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
    super(`cannot write ${destination}: ${reason}${code ? ` (${code})` : ''}`, { cause: error });
  }
}

/** EPIPE: whoever read our output went away (`| head`). Not a failure: stop writing, quietly. */
export function isBrokenPipe(error: unknown): boolean {
  return systemErrorCode(error) === 'EPIPE';
}
