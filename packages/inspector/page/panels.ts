import { esc, table } from './dom';
import { describeChange, type RightsChange } from './rights-changes';
import { registerHtml } from './rights';
import type { RunEventJson, StepState, Timeline } from './types';

/** What every panel renders from: the run, the selected step and the state there. */
export interface View {
  readonly timeline: Timeline;
  readonly lines: readonly string[];
  readonly changes: readonly RightsChange[];
  readonly step: number;
  readonly state: StepState | undefined;
  readonly previous: StepState | undefined;
  /** " (owner)" for a key in the key table, "" otherwise. */
  readonly owner: (key: number) => string;
}

export function ownerLookup(state: StepState | undefined): (key: number) => string {
  const rows = new Map((state?.keys ?? []).map((k) => [k.key, k.owner]));
  return (key) => (rows.has(key) ? ` (${rows.get(key)})` : '');
}

export function cpusHtml(v: View): string {
  if (!v.state)
    return v.timeline.steps.length === 0
      ? '<p class="empty">an event log: it has no machine state (inspect the scenario file to see it)</p>'
      : '<p class="empty">the kernel is still booting at this step: no state to show yet</p>';
  return v.state.cpus
    .map((cpu) => {
      const prev = v.previous?.cpus[cpu.cpu];
      const frames = cpu.frames.length
        ? cpu.frames
            .map(
              (f) =>
                `<li class="frame ${esc(f.kind)}">${esc(f.vector)} <small>(${esc(f.kind)}, depth ${f.depth}${f.saved ? `, saved ${esc(f.saved)}` : ', nothing saved'})</small></li>`,
            )
            .join('')
        : '<li class="frame none">no entry open: thread context</li>';
      const banners = v.changes
        .filter((c) => c.cpu === cpu.cpu && v.step >= c.exitSeq && v.step < c.untilSeq)
        .map(
          (c) =>
            `<p class="banner ${c.corrupting ? 'corrupted' : 'changed'}" data-testid="cpu-${cpu.cpu}-rights-change">${c.corrupting ? 'CORRUPTED: ' : ''}${esc(describeChange(c, v.owner))}</p>`,
        )
        .join('');
      const sup = cpu.supervisor
        ? registerHtml(cpu.supervisor, {
            owner: v.owner,
            previous: prev?.supervisor,
            testid: `cpu-${cpu.cpu}-supervisor`,
          })
        : '<p class="empty">no supervisor rights register</p>';
      const user = cpu.user
        ? registerHtml(cpu.user, { owner: () => '', previous: prev?.user, testid: `cpu-${cpu.cpu}-user` })
        : '';
      return `<article class="cpu" data-testid="cpu-${cpu.cpu}" data-cpu="${cpu.cpu}">
        <h3>CPU ${cpu.cpu} <span class="thread" data-testid="cpu-${cpu.cpu}-thread">${esc(cpu.thread)}</span></h3>
        <ol class="frames" data-testid="cpu-${cpu.cpu}-frames">${frames}</ol>
        ${banners}${sup}${user}
      </article>`;
    })
    .join('');
}

export function threadsHtml(v: View): string {
  const rows = (v.state?.threads ?? []).map((t) => [
    esc(t.name),
    String(t.tid),
    String(t.cpu),
    `${esc(t.state)}${t.oops ? ` <span class="bad" title="${esc(t.oops)}">oops</span>` : ''}`,
    t.saved ? registerHtml(t.saved, { owner: v.owner }) : '-',
  ]);
  return table(['thread', 'tid', 'CPU', 'state', 'saved rights'], rows);
}

export function keysHtml(v: View): string {
  const rows = (v.state?.keys ?? []).map((k) => [
    String(k.key),
    esc(k.owner),
    esc(k.defaultRights),
    k.exclusive ? 'yes' : 'no',
    k.callback ? 'yes' : 'no',
  ]);
  return table(['key', 'owner', 'default', 'exclusive', 'fault callback'], rows);
}

export function pagesHtml(v: View): string {
  const rows = (v.state?.pages ?? []).map((p) => [
    esc(p.object),
    `<code>${esc(p.virtual)}</code>`,
    `<code>${esc(p.physical)}</code>`,
    `${p.writable ? 'W' : 'R'}${p.user ? 'U' : 'S'}${p.executable ? 'X' : 'NX'}`,
    `${p.key}${esc(v.owner(p.key))}`,
  ]);
  return table(['object', 'virtual', 'physical', 'perms', 'key'], rows);
}

export function tlbsHtml(v: View): string {
  if (!v.state) return '<p class="empty">no state</p>';
  return v.state.cpus
    .map((cpu) => {
      if (!cpu.tlb) return `<h3>CPU ${cpu.cpu}</h3><p class="empty">this architecture's TLB cannot be read</p>`;
      const rows = cpu.tlb.map((t) => [
        `<code>${esc(t.virtual)}</code>`,
        `<code>${esc(t.physical)}</code>`,
        t.key === null ? '-' : String(t.key),
        esc(t.object ?? ''),
      ]);
      return `<h3>CPU ${cpu.cpu} <small>${cpu.tlb.length} valid entr${cpu.tlb.length === 1 ? 'y' : 'ies'}</small></h3>${table(['virtual', 'physical', 'key', 'object'], rows, `data-testid="tlb-${cpu.cpu}"`)}`;
    })
    .join('');
}

const OOPS = /\b(Oops|BUG|Kernel panic|panic)\b/;

export function faultsHtml(v: View): string {
  const items: string[] = [];
  for (const e of v.timeline.events) {
    if (e.type === 'fault') {
      items.push(
        `<li class="fault ${e.outcome}" data-seq="${e.seq}"><a href="#" data-jump="${e.seq}">step ${e.seq}</a> CPU ${e.cpu} ${esc(e.thread)}: ${esc(e.summary)}${e.object ? ` (${esc(e.object)})` : ''}${e.key !== null ? ` key ${e.key}` : ''} &rarr; <b>${esc(e.outcome)}</b></li>`,
      );
    }
    if (e.type === 'log' && OOPS.test(e.line)) {
      items.push(
        `<li class="oops" data-seq="${e.seq}"><a href="#" data-jump="${e.seq}">step ${e.seq}</a> <code>${esc(e.line)}</code></li>`,
      );
    }
  }
  for (const c of v.changes) {
    items.push(
      `<li class="${c.corrupting ? 'corrupted' : 'changed'}"><a href="#" data-jump="${c.exitSeq}">step ${c.exitSeq}</a> CPU ${c.cpu}: ${esc(describeChange(c, v.owner))}</li>`,
    );
  }
  return items.length ? `<ul>${items.join('')}</ul>` : '<p class="empty">no faults, oopses or rights changes</p>';
}

export function logHtml(v: View): string {
  return v.lines
    .map(
      (line, i) =>
        `<li data-seq="${i}" class="ev ${esc(v.timeline.events[i]?.type ?? '')}${i === v.step ? ' selected' : ''}"><a href="#" data-jump="${i}"><code>${esc(line)}</code></a></li>`,
    )
    .join('');
}

export function eventText(e: RunEventJson | undefined, line: string | undefined): string {
  if (!e) return '';
  return line ? line.trim() : e.type;
}
