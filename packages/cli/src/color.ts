import pc from 'picocolors';
import type { Io, OutputStream } from './io';

/** The picocolors formatters, each a no-op when colour is off. */
export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colour only on a terminal, and never when NO_COLOR is set to a non-empty value (https://no-color.org).
 * Decided per stream, so `pkeysim check > out.jsonl` keeps colour in the terminal's error messages.
 */
export function colorEnabled(stream: OutputStream, env: Io['env']): boolean {
  return !env?.NO_COLOR && stream.isTTY === true;
}

export function colorsFor(stream: OutputStream, env: Io['env']): Colors {
  return pc.createColors(colorEnabled(stream, env));
}
