import { writeFile } from 'node:fs/promises';
import { systemErrorCode, UsageError } from './errors';

const WRITE_ERROR_REASONS: Record<string, string> = {
  ENOENT: 'no such directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a path component is not a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
};

/** Write a file named on the command line (--trace-out, --html); a failure is one UsageError line. */
export async function writeOutputFile(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text, 'utf8');
  } catch (error) {
    const code = systemErrorCode(error);
    const reason = (code && WRITE_ERROR_REASONS[code]) ?? (error instanceof Error ? error.message : String(error));
    throw new UsageError(`cannot write ${path}: ${reason}`);
  }
}
