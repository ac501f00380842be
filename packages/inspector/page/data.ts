/** What the inspector server hands the page at ./run.json (built by @pkeysim/inspector's payload). */
import type { RegisterView, RunEventJson, StepState, Timeline, TraceEvent } from './types';

export interface InspectorData {
  readonly timeline: Timeline;
  readonly trace: { readonly traceEvents: readonly TraceEvent[] };
  /** Each event as `pkeysim run` prints it. */
  readonly lines: readonly string[];
}

export type { RegisterView, RunEventJson, StepState, Timeline, TraceEvent };

export async function loadData(): Promise<InspectorData> {
  const response = await fetch('./run.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`cannot load the run: HTTP ${response.status}`);
  return (await response.json()) as InspectorData;
}
