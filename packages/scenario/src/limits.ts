/**
 * The resource budget of one scenario load and run. Every number a hostile file could make huge
 * (steps, events kept, threads, memory entries, nesting, repeat products, forks, aliases, input
 * size) is bounded here, with a default a laptop runs in a few seconds and a few hundred MB, and a
 * CLI flag to raise it. Exceeding one stops with one line (see {@link budgetMessage}) naming the budget,
 * the value and the flag, checked before the memory it guards is allocated. See docs/limits.md.
 */
export interface Limits {
  /** Ops executed plus scheduler steps in one run; `schedule.max_steps` may not exceed it. */
  readonly steps: number;
  /** Events kept in the run's log. */
  readonly events: number;
  /** Threads: declared under `threads:` plus every fork a run can make. */
  readonly threads: number;
  /** Fork ops a run can execute (counted statically: a fork inside `repeat: 1000` is 1000 forks). */
  readonly forks: number;
  /** Entries under `memory:`. */
  readonly memoryEntries: number;
  /** Nesting depth of the document (YAML/JSON) and so of nested programs. */
  readonly depth: number;
  /** Product of the counts of nested `repeat` ops along any path. */
  readonly repeatProduct: number;
  /** YAML alias dereferences (billion-laughs defence). */
  readonly aliases: number;
  /** Size of the scenario or cost file, in bytes. */
  readonly inputBytes: number;
}

/** The budgets used when no flag raises them. */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  steps: 100_000,
  events: 100_000,
  threads: 1024,
  forks: 1024,
  memoryEntries: 4096,
  depth: 64,
  repeatProduct: 1_000_000,
  aliases: 1000,
  inputBytes: 512 * 1024,
});

/** Each budget's name in messages and the CLI flag that raises it. */
export const LIMIT_FLAGS: Readonly<Record<keyof Limits, { readonly name: string; readonly flag: string }>> =
  Object.freeze({
    steps: { name: 'steps', flag: '--max-steps' },
    events: { name: 'events kept', flag: '--max-events' },
    threads: { name: 'threads', flag: '--max-threads' },
    forks: { name: 'forks', flag: '--max-forks' },
    memoryEntries: { name: 'memory entries', flag: '--max-memory-entries' },
    depth: { name: 'nesting depth', flag: '--max-depth' },
    repeatProduct: { name: 'repeat product', flag: '--max-repeat' },
    aliases: { name: 'YAML aliases', flag: '--max-aliases' },
    inputBytes: { name: 'input bytes', flag: '--max-input-bytes' },
  });

/** The largest value any budget flag takes (2^31 - 1): beyond it a run could not finish anyway. */
export const LIMIT_CEILING = 0x7fffffff;

/** Fill in defaults and check every given budget is a whole number 1..{@link LIMIT_CEILING}. */
export function resolveLimits(given: Partial<Limits> = {}): Limits {
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_FLAGS) as (keyof Limits)[]) {
    if (!Object.prototype.hasOwnProperty.call(given, key) || given[key] === undefined) continue;
    const value = given[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > LIMIT_CEILING)
      throw new RangeError(`${LIMIT_FLAGS[key].flag} must be a whole number from 1 to ${LIMIT_CEILING}`);
    out[key] = value;
  }
  return out as unknown as Limits;
}

/** The one-line message for a budget that was exceeded: the budget, the value, the flag. */
export function budgetMessage(key: keyof Limits, value: number | string, limit: number): string {
  const { name, flag } = LIMIT_FLAGS[key];
  return `exceeds the ${name} budget: ${value} > ${limit} (raise it with ${flag})`;
}
