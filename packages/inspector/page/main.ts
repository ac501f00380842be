import { type InspectorData, loadData } from './data';
import { byId, esc } from './dom';
import {
  cpusHtml,
  eventText,
  faultsHtml,
  keysHtml,
  logHtml,
  ownerLookup,
  pagesHtml,
  threadsHtml,
  tlbsHtml,
  type View,
} from './panels';
import { rightsChanges, type RightsChange } from './rights-changes';
import { moveCursor, stepAt, timelineSvg } from './timeline-svg';

let data: InspectorData;
let changes: RightsChange[] = [];
let step = 0;

function stepCount(): number {
  return data.timeline.events.length;
}

/** Select a step: every panel shows the state right after that event. */
function select(next: number): void {
  step = Math.max(0, Math.min(stepCount() - 1, next));
  const t = data.timeline;
  const state = t.steps[step] ?? undefined;
  const view: View = {
    timeline: t,
    lines: data.lines,
    changes,
    step,
    state,
    previous: (step > 0 ? t.steps[step - 1] : undefined) ?? undefined,
    owner: ownerLookup(state ?? t.steps.at(-1) ?? undefined),
  };
  byId('cpus').innerHTML = cpusHtml(view);
  byId('threads').innerHTML = threadsHtml(view);
  byId('keys').innerHTML = keysHtml(view);
  byId('pages').innerHTML = pagesHtml(view);
  byId('tlbs').innerHTML = tlbsHtml(view);
  byId<HTMLInputElement>('scrubber').value = String(step);
  byId('step-label').textContent = `step ${step} / ${stepCount() - 1}`;
  const event = t.events[step];
  byId('current-event').innerHTML =
    `<span class="ev-type ${esc(event?.type ?? '')}">${esc(event?.type ?? '')}</span> <code>${esc(eventText(event, data.lines[step]))}</code>`;
  const svg = document.getElementById('timeline-svg') as SVGSVGElement | null;
  if (svg) moveCursor(svg, step);
  const log = byId('log');
  log.querySelector('li.selected')?.classList.remove('selected');
  const row = log.querySelector<HTMLElement>(`li[data-seq="${step}"]`);
  row?.classList.add('selected');
  // Scroll the log box, never the window: the panels the user is reading stay where they are.
  if (row && (row.offsetTop < log.scrollTop || row.offsetTop + row.offsetHeight > log.scrollTop + log.clientHeight))
    log.scrollTop = row.offsetTop - log.clientHeight / 2;
  if (location.hash !== `#step=${step}`) history.replaceState(null, '', `#step=${step}`);
}

/** Any element with data-jump selects that step when clicked. */
function onJump(event: Event): void {
  const target = (event.target as Element).closest('[data-jump]');
  if (!target) return;
  event.preventDefault();
  select(Number(target.getAttribute('data-jump')));
}

async function start(): Promise<void> {
  data = await loadData();
  const t = data.timeline;
  changes = rightsChanges(t);
  document.title = `pkeysim inspector: ${t.name}`;
  byId('title').textContent = t.name;
  byId('subtitle').innerHTML =
    `${esc(t.file)} &middot; ${esc(t.arch)}, ${t.cpus} CPU${t.cpus > 1 ? 's' : ''}, seed ${t.seed} &middot; <span class="${t.passed ? 'good' : 'bad'}">${t.passed ? 'every assertion held' : `${t.failures.length} assertion(s) failed`}</span>${t.truncated ? ' &middot; <span class="bad">state recorded for the first steps only</span>' : ''}${t.steps.length === 0 ? ' &middot; event log only: no machine state' : ''}`;
  byId('timeline').innerHTML = timelineSvg(data.trace.traceEvents, t.cpus, stepCount(), changes);
  const whole: View = {
    timeline: t,
    lines: data.lines,
    changes,
    step: -1,
    state: undefined,
    previous: undefined,
    owner: ownerLookup(t.steps.at(-1) ?? undefined),
  };
  byId('log').innerHTML = logHtml(whole);
  byId('faults').innerHTML = faultsHtml(whole);
  const scrubber = byId<HTMLInputElement>('scrubber');
  scrubber.max = String(Math.max(0, stepCount() - 1));
  scrubber.addEventListener('input', () => select(Number(scrubber.value)));
  byId('first').addEventListener('click', () => select(0));
  byId('prev').addEventListener('click', () => select(step - 1));
  byId('next').addEventListener('click', () => select(step + 1));
  byId('last').addEventListener('click', () => select(stepCount() - 1));
  for (const id of ['timeline', 'faults', 'log']) byId(id).addEventListener('click', onJump);
  const svg = document.getElementById('timeline-svg') as SVGSVGElement | null;
  svg?.addEventListener('click', (event) => {
    if ((event.target as Element).closest('[data-jump]')) return;
    const at = stepAt(svg, event.clientX);
    if (at !== undefined) select(at);
  });
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLInputElement) return;
    if (event.key === 'ArrowRight') select(step + 1);
    else if (event.key === 'ArrowLeft') select(step - 1);
    else if (event.key === 'Home') select(0);
    else if (event.key === 'End') select(stepCount() - 1);
    else return;
    event.preventDefault();
  });
  const fromHash = /^#step=(\d+)$/.exec(location.hash);
  // Open at the first step with machine state: the boot events before it have none.
  select(
    fromHash
      ? Number(fromHash[1])
      : Math.max(
          0,
          t.steps.findIndex((s) => s !== null),
        ),
  );
  document.body.dataset.ready = 'true';
}

start().catch((error: unknown) => {
  byId('subtitle').innerHTML = `<span class="bad">${esc((error as Error).message)}</span>`;
  document.body.dataset.ready = 'error';
});
