/** What the page-table key does with a stray write: oops (strict), or warn once and give up (soft). */
export type PgtableMode = 'strict' | 'soft';

/** The page-table guard's settings parsed from the kernel command line. */
export interface PgtableBootParams {
  /** False with `nopkstables`: page tables are not keyed at all. */
  readonly enabled: boolean;
  /** Strict unless `pkstablessoft` is given. */
  readonly mode: PgtableMode;
}

/**
 * Parse the kernel command line for the two parameters of Edgecombe's "PKS write protected page
 * tables" RFC v2 (Aug 2021): `nopkstables` turns the protection off, `pkstablessoft` selects soft
 * mode (warn, then abandon protection). Without either the guard is on and strict. Words are
 * separated by whitespace, as the kernel's parse_args does; unrelated words are ignored.
 */
export function parsePgtableBootParams(cmdline = ''): PgtableBootParams {
  if (typeof cmdline !== 'string') throw new TypeError('the kernel command line must be a string');
  const words = cmdline
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  for (const word of words) {
    const name = word.split('=')[0];
    if ((name === 'nopkstables' || name === 'pkstablessoft') && word.includes('=')) {
      throw new RangeError(`boot parameter ${name} takes no value, got "${word}"`);
    }
  }
  return Object.freeze({
    enabled: !words.includes('nopkstables'),
    mode: words.includes('pkstablessoft') ? 'soft' : 'strict',
  });
}
