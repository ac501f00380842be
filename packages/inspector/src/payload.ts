import { formatEvent } from '@pkeysim/scenario';
import { type Timeline, toTraceEvents } from '@pkeysim/timeline';

/** The JSON the inspector page loads: the recorded run, its trace (drawn as the timeline) and log lines. */
export function inspectorPayload(timeline: Timeline): string {
  return JSON.stringify({
    timeline,
    trace: toTraceEvents(timeline),
    lines: timeline.events.map(formatEvent),
  });
}
