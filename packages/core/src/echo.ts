/** How many characters of a user's value an error message repeats before cutting it short. */
export const ECHO_MAX_CHARS = 40;

// C0 controls, DEL and C1 controls: a terminal would act on them (colours, cursor moves, titles).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Make a piece of user input safe to print inside a one-line message: control bytes become
 * visible escapes (\x1b, \n) so they cannot drive the terminal or break the line, and a long
 * value is cut to `max` characters with "... (N chars)" so a huge literal is not echoed whole.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** {@link escapeControl}, then truncated to `max` characters with the full length noted. */
export function echoText(text: string, max = ECHO_MAX_CHARS): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const safe = escapeControl(cut);
  return text.length > max ? `${safe}... (${text.length} chars)` : safe;
}

/** A value from the user's input as it should appear in a message: JSON-like, escaped, truncated. */
export function echoValue(value: unknown, max = ECHO_MAX_CHARS): string {
  if (typeof value === 'string') return `"${echoText(value, max)}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (typeof value === 'bigint') return echoText(`${value}n`, max);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** What kind of value the user gave, for "expected X, found Y" messages. */
export function describeFound(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'infinity' : '-infinity';
    return Number.isInteger(value) ? `the number ${echoText(String(value))}` : `the number ${value}`;
  }
  if (typeof value === 'string') return `the string ${echoValue(value)}`;
  if (typeof value === 'boolean') return `${value}`;
  return typeof value;
}
