/**
 * The event log of a scenario run: one record per thing that happened, in order. `--json` prints
 * each as one JSON line; {@link formatEvent} gives the readable form. No timestamps: the same
 * scenario and seed give the same log, byte for byte.
 */

/** Where an event happened: the CPU and the thread running there ("boot" before the kernel exists). */
export interface At {
  readonly seq: number;
  readonly cpu: number;
  readonly thread: string;
}

/** One event of a run's log, discriminated by `type`. */
export type RunEvent =
  | (At & { readonly type: 'op'; readonly path: string; readonly op: string; readonly detail: string; result: string })
  | (At & {
      readonly type: 'access';
      readonly access: 'read' | 'write' | 'fetch';
      readonly address: string;
      readonly length: number;
      readonly key: number | null;
      readonly object: string | null;
      readonly allowed: boolean;
    })
  | (At & {
      readonly type: 'fault';
      readonly access: 'read' | 'write' | 'fetch';
      readonly address: string;
      readonly key: number | null;
      readonly object: string | null;
      readonly cause: string;
      readonly summary: string;
      /** handled (a callback or signal handler fixed it and the access was retried), oops, panic, killed (user process); pending until known. */
      outcome: 'pending' | 'handled' | 'oops' | 'panic' | 'killed';
    })
  | (At & {
      readonly type: 'rights_write';
      readonly register: string;
      readonly value: string;
      readonly skipped: boolean;
    })
  | (At & { readonly type: 'switch'; readonly from: string; readonly to: string })
  | (At & {
      readonly type: 'entry';
      readonly kind: string;
      readonly vector: string;
      readonly depth: number;
      readonly saved: string | null;
    })
  | (At & { readonly type: 'exit'; readonly vector: string; readonly depth: number })
  | (At & { readonly type: 'inject'; readonly kind: string; readonly detail: string })
  | (At & { readonly type: 'sched'; readonly action: string; readonly detail: string })
  | (At & { readonly type: 'log'; readonly line: string });

/** The `type` of a RunEvent. */
export type RunEventType = RunEvent['type'];

/** Distributes Omit over the union, so each member keeps its own fields. */
export type NewEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'seq'> : never) : never;

const pad = (text: string, width: number) => (text.length >= width ? text : text + ' '.repeat(width - text.length));

/** One readable line: "   12 cpu0 writer       write  0xffff888000001000 (pmem+0) key 1: allowed". */
export function formatEvent(e: RunEvent): string {
  const head = `${String(e.seq).padStart(5)} ${e.cpu < 0 ? '    ' : `cpu${e.cpu}`} ${pad(e.thread, 12)} `;
  const where = (object: string | null, key: number | null) =>
    `${object ? ` (${object})` : ''}${key !== null ? ` key ${key}` : ''}`;
  switch (e.type) {
    case 'op':
      return `${head}${pad('op', 7)}${e.op}${e.detail ? ` ${e.detail}` : ''}${e.result ? ` -> ${e.result}` : ''}`;
    case 'access':
      return `${head}${pad(e.access, 7)}${e.address}${e.length > 1 ? ` +${e.length}` : ''}${where(e.object, e.key)}: ${e.allowed ? 'allowed' : 'FAULT'}`;
    case 'fault':
      return `${head}${pad('fault', 7)}${e.summary}${where(e.object, e.key)} -> ${e.outcome}`;
    case 'rights_write':
      return `${head}${pad('rights', 7)}${e.register} = ${e.value}${e.skipped ? ' (skipped: cached)' : ''}`;
    case 'switch':
      return `${head}${pad('switch', 7)}${e.from} -> ${e.to}`;
    case 'entry':
      return `${head}${pad('entry', 7)}${e.vector} (${e.kind}, depth ${e.depth})${e.saved ? ` saved ${e.saved}` : ''}`;
    case 'exit':
      return `${head}${pad('exit', 7)}${e.vector} (depth ${e.depth})`;
    case 'inject':
      return `${head}${pad('inject', 7)}${e.kind}${e.detail ? ` ${e.detail}` : ''}`;
    case 'sched':
      return `${head}${pad('sched', 7)}${e.action}${e.detail ? ` ${e.detail}` : ''}`;
    case 'log':
      return `${head}${pad('dmesg', 7)}${e.line}`;
  }
}
