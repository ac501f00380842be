import { esc } from './dom';
import type { RightsChange } from './rights-changes';
import type { TraceEvent } from './types';

const LEFT = 90;
const ROW = 18;
const WIDTH = 1200;

interface Slice {
  readonly name: string;
  readonly cat: string;
  readonly begin: number;
  readonly end: number;
  readonly depth: number;
}

/** B/E pairs of one track as slices with their nesting depth. */
function slicesOf(events: readonly TraceEvent[], tid: number): Slice[] {
  const out: Slice[] = [];
  const stack: TraceEvent[] = [];
  for (const e of events) {
    if (e.tid !== tid) continue;
    if (e.ph === 'B') stack.push(e);
    else if (e.ph === 'E') {
      const b = stack.pop();
      if (b) out.push({ name: b.name, cat: b.cat ?? '', begin: b.ts, end: e.ts, depth: stack.length });
    }
  }
  return out;
}

/**
 * The trace of point 1 (the same events Perfetto shows) drawn as SVG: one lane per CPU with the
 * running threads and, nested below, entries; instants for rights writes, faults and stray writes;
 * a lane for the kernel log. Every mark carries data-jump with its step.
 */
export function timelineSvg(
  trace: readonly TraceEvent[],
  cpus: number,
  steps: number,
  changes: readonly RightsChange[],
): string {
  const x = (ts: number) => LEFT + (Math.min(ts, steps) / Math.max(steps, 1)) * (WIDTH - LEFT - 10);
  const parts: string[] = [];
  let y = 6;
  const lanes: { tid: number; label: string }[] = [];
  for (let c = 0; c < cpus; c++) lanes.push({ tid: c, label: `CPU ${c}` });
  lanes.push({ tid: cpus, label: 'kernel log' });
  for (const lane of lanes) {
    const slices = slicesOf(trace, lane.tid);
    const depth = Math.max(0, ...slices.map((s) => s.depth + 1));
    const height = Math.max(1, depth) * ROW + 16;
    parts.push(
      `<g class="lane" data-testid="lane-${lane.tid}"><rect class="lane-bg" x="${LEFT}" y="${y}" width="${WIDTH - LEFT - 10}" height="${height - 4}"/><text class="lane-label" x="4" y="${y + 14}">${esc(lane.label)}</text>`,
    );
    for (const s of slices) {
      const sx = x(s.begin);
      const w = Math.max(2, x(s.end) - sx);
      parts.push(
        `<g class="slice ${esc(s.cat)}" data-jump="${s.begin}" data-testid="slice-${lane.tid}-${esc(s.name)}"><title>${esc(s.name)} (${esc(s.cat)}), steps ${s.begin}..${s.end}</title><rect x="${sx}" y="${y + s.depth * ROW}" width="${w}" height="${ROW - 2}" rx="2"/>${w > 40 ? `<text x="${sx + 3}" y="${y + s.depth * ROW + 12}">${esc(s.name)}</text>` : ''}</g>`,
      );
    }
    const markY = y + Math.max(1, depth) * ROW;
    for (const e of trace) {
      if (e.ph !== 'i' || e.tid !== lane.tid || e.cat === 'op' || e.cat === 'log') continue;
      const cx = x(e.ts + 0.5);
      const title = `${e.name}${e.args?.error ? `: ${String(e.args.error)}` : ''}`;
      const shape =
        e.cat === 'fault' || e.cat === 'oops'
          ? `<path d="M${cx - 5} ${markY + 10} L${cx} ${markY} L${cx + 5} ${markY + 10} Z"/>`
          : `<rect x="${cx - 1.5}" y="${markY}" width="3" height="10"/>`;
      parts.push(`<g class="mark ${esc(e.cat ?? '')}" data-jump="${e.ts}"><title>${esc(title)}</title>${shape}</g>`);
    }
    for (const c of changes.filter((ch) => ch.cpu === lane.tid)) {
      const cx = x(c.exitSeq + 0.5);
      parts.push(
        `<g class="mark ${c.corrupting ? 'corrupted' : 'changed'}" data-jump="${c.exitSeq}"><title>rights changed across ${esc(c.vector)}</title><circle cx="${cx}" cy="${markY + 5}" r="5"/></g>`,
      );
    }
    parts.push('</g>');
    y += height;
  }
  const ticks: string[] = [];
  const every = Math.max(1, Math.ceil(steps / 20));
  for (let t = 0; t <= steps; t += every)
    ticks.push(`<text class="tick" x="${x(t)}" y="${y + 12}" text-anchor="middle">${t}</text>`);
  return `<svg id="timeline-svg" viewBox="0 0 ${WIDTH} ${y + 18}" width="100%" role="img" aria-label="timeline">${parts.join('')}${ticks.join('')}<line id="cursor" x1="${x(0)}" x2="${x(0)}" y1="0" y2="${y}" data-left="${LEFT}" data-width="${WIDTH - LEFT - 10}" data-steps="${steps}"/></svg>`;
}

/** Move the selected-step line without redrawing the lanes. */
export function moveCursor(svg: SVGSVGElement, step: number): void {
  const line = svg.querySelector<SVGLineElement>('#cursor');
  if (!line) return;
  const left = Number(line.dataset.left);
  const width = Number(line.dataset.width);
  const steps = Math.max(1, Number(line.dataset.steps));
  const at = left + ((step + 0.5) / steps) * width;
  line.setAttribute('x1', String(at));
  line.setAttribute('x2', String(at));
}

/** The step under a click on the lane background. */
export function stepAt(svg: SVGSVGElement, clientX: number): number | undefined {
  const line = svg.querySelector<SVGLineElement>('#cursor');
  if (!line) return undefined;
  const box = svg.getBoundingClientRect();
  const scale = WIDTH / box.width;
  const vx = (clientX - box.left) * scale;
  const left = Number(line.dataset.left);
  const width = Number(line.dataset.width);
  const steps = Number(line.dataset.steps);
  if (vx < left) return undefined;
  return Math.max(0, Math.min(steps - 1, Math.floor(((vx - left) / width) * steps)));
}
