import { readFile, stat } from 'node:fs/promises';
import { fileReadError, UsageError } from './errors';

/** A `--costs FILE` (YAML/JSON mapping of event name to cycles), or a one-line UsageError. */
export async function readCosts(file: string): Promise<Record<string, number>> {
  // The scenario parser (yaml, zod) loads only when a run names a cost file.
  const { budgetMessage, DEFAULT_LIMITS, formatIssue, parseCosts, ScenarioError } = await import('@pkeysim/scenario');
  let text: string;
  try {
    // A cost file is a few lines: refuse a huge one before reading it (the input bytes budget).
    const size = (await stat(file)).size;
    if (size > DEFAULT_LIMITS.inputBytes)
      throw new UsageError(`${file}: the file ${budgetMessage('inputBytes', size, DEFAULT_LIMITS.inputBytes)}`);
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw fileReadError(file, error);
  }
  try {
    return parseCosts(text, file);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(error.issues.map(formatIssue).join('; '));
    throw error;
  }
}
