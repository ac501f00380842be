import { readFile } from 'node:fs/promises';
import { formatIssue, parseCosts, ScenarioError } from '@pkeysim/scenario';
import { fileReadError, UsageError } from './errors';

/** A `--costs FILE` (YAML/JSON mapping of event name to cycles), or a one-line UsageError. */
export async function readCosts(file: string): Promise<Record<string, number>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw fileReadError(file, error);
  }
  try {
    return parseCosts(text, file);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(error.issues.map(formatIssue).join('; '));
    throw error;
  }
}
