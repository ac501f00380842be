import { Deny, type Denials, type EventCounters, formatDenials, MachineEvent } from '@pkeysim/core';

/**
 * One exposure window: a domain opened by one CPU (by the thread running there) and therefore open
 * to every CPU of the address space, because page-table rights are not per thread.
 */
export interface ExposureWindow {
  readonly domain: number;
  /** The CPU whose rights change opened the window. */
  readonly openedBy: number;
  /** The rights everyone got, e.g. "rw" or "r-". */
  readonly rights: string;
  /** Machine clock (accesses made by all CPUs so far) when it opened and closed. */
  readonly openedAt: number;
  readonly closedAt: number | undefined;
  readonly closedBy: number | undefined;
  /** How long it was open, in accesses made by all CPUs (up to now while still open). */
  readonly duration: number;
  /** Every CPU other than the opener: all of them could use the domain while it was open. */
  readonly exposedCpus: readonly number[];
  /** Per CPU, accesses to the domain's pages while it was open (the opener's own included). */
  readonly domainAccesses: readonly number[];
  /** Accesses to the domain's pages by CPUs other than the opener. */
  readonly foreignAccesses: number;
}

interface OpenWindow {
  readonly domain: number;
  readonly openedBy: number;
  /** The denials everyone got (formatted only when reported: a switch builds no string). */
  readonly denials: Denials;
  readonly openedAt: number;
  closedAt: number | undefined;
  closedBy: number | undefined;
  readonly domainAccesses: Float64Array;
}

/** A domain is exposed while data reads of it are allowed (its Access denial lifted). */
function exposed(denials: Denials): boolean {
  return (denials & Deny.Access) === 0;
}

/**
 * The log of exposure windows. The machine calls `transition` on every rights change and `touch`
 * for every allowed access to a page of a domain while some window is open (`anyOpen`), so when no
 * window is open the access path pays one comparison.
 */
export class ExposureLog {
  private readonly windows: OpenWindow[] = [];
  private readonly open = new Map<number, OpenWindow>();

  constructor(private readonly events: EventCounters) {}

  get anyOpen(): boolean {
    return this.open.size !== 0;
  }

  /** Whether `domain` has an open window (for `touch`). */
  isOpen(domain: number): boolean {
    return this.open.has(domain);
  }

  private clock(): number {
    return this.events.total(MachineEvent.Access);
  }

  /** Record a rights change of `domain` by `cpu`: open a window when it becomes exposed, close it when it stops being. */
  transition(cpu: number, domain: number, before: Denials, after: Denials): void {
    if (!exposed(before) && exposed(after)) {
      const window: OpenWindow = {
        domain,
        openedBy: cpu,
        denials: after,
        openedAt: this.clock(),
        closedAt: undefined,
        closedBy: undefined,
        domainAccesses: new Float64Array(this.events.cpus),
      };
      this.windows.push(window);
      this.open.set(domain, window);
    } else if (exposed(before) && !exposed(after)) {
      this.close(domain, cpu);
    }
  }

  /** Count an allowed access by `cpu` to a page of `domain` against its open window, if any. */
  touch(cpu: number, domain: number): void {
    const window = this.open.get(domain);
    if (window) window.domainAccesses[cpu]++;
  }

  /** Close every open window (the machine rebooted: RAM and the page tables are gone). */
  closeAll(cpu: number): void {
    for (const domain of [...this.open.keys()]) this.close(domain, cpu);
  }

  private close(domain: number, cpu: number): void {
    const window = this.open.get(domain);
    if (!window) return;
    window.closedAt = this.clock();
    window.closedBy = cpu;
    this.open.delete(domain);
  }

  /** Every window so far, oldest first (open ones measured up to now). */
  report(): ExposureWindow[] {
    const now = this.clock();
    return this.windows.map((w) => {
      const exposedCpus: number[] = [];
      for (let c = 0; c < this.events.cpus; c++) if (c !== w.openedBy) exposedCpus.push(c);
      const domainAccesses = Array.from(w.domainAccesses);
      return {
        domain: w.domain,
        openedBy: w.openedBy,
        rights: formatDenials(w.denials),
        openedAt: w.openedAt,
        closedAt: w.closedAt,
        closedBy: w.closedBy,
        duration: (w.closedAt ?? now) - w.openedAt,
        exposedCpus,
        domainAccesses,
        foreignAccesses: domainAccesses.reduce((sum, n, c) => (c === w.openedBy ? sum : sum + n), 0),
      };
    });
  }
}

/** One line per window, e.g. "domain 3 (rw) opened by CPU 0 for 12 accesses, closed by CPU 0: open to CPUs 1,2; CPU 1 used it 4 times". */
export function formatExposure(windows: readonly ExposureWindow[]): string[] {
  return windows.map((w) => {
    const end = w.closedAt === undefined ? 'still open' : `closed by CPU ${w.closedBy}`;
    const others =
      w.exposedCpus.length === 0
        ? 'no other CPU'
        : `open to CPU${w.exposedCpus.length > 1 ? 's' : ''} ${w.exposedCpus.join(',')}`;
    const used = w.exposedCpus
      .filter((c) => w.domainAccesses[c] > 0)
      .map((c) => `CPU ${c} used it ${w.domainAccesses[c]} time${w.domainAccesses[c] === 1 ? '' : 's'}`);
    return `domain ${w.domain} (${w.rights}) opened by CPU ${w.openedBy} for ${w.duration} accesses, ${end}: ${others}${used.length ? `; ${used.join(', ')}` : '; no other CPU used it'}`;
  });
}
