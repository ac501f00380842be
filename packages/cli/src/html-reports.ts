import type { CampaignResult } from '@pkeysim/kernel';
import type { HtmlReport, ReportChart } from '@pkeysim/inspector';
import type { DemoResult } from './commands/demo';

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The demo as an HTML report: its table, then strays blocked, bytes lost, cycles and cycles per switch per scheme. */
export function demoHtmlReport(result: DemoResult, notes: readonly string[], generator: string): HtmlReport {
  const rows = result.rows.filter((r) => r.unsupported === undefined);
  const charts: ReportChart[] = [
    {
      id: 'strays',
      title: 'Stray writes blocked and landed, per scheme',
      unit: 'strays',
      note: `every campaign (${result.campaigns.join(', ')}) in its strict fault mode, seeds ${result.seeds[0]}..${result.seeds.at(-1)}`,
      bars: rows.map((r) => ({
        label: r.scheme,
        value: r.strays_attempted,
        text: `${int(r.strays_blocked)} / ${int(r.strays_attempted)} blocked`,
        parts: [
          { value: r.strays_blocked, kind: 'good', label: 'blocked' },
          { value: r.strays_attempted - r.strays_blocked, kind: 'bad', label: 'landed' },
        ],
      })),
    },
    {
      id: 'bytes-lost',
      title: 'PMEM bytes lost after a reboot',
      unit: 'bytes',
      kind: 'bad',
      bars: rows.map((r) => ({ label: r.scheme, value: r.bytes_lost_after_reboot })),
    },
    {
      id: 'cycles',
      title: 'Modeled cycles, every event of the runs',
      unit: 'cycles',
      kind: 'accent',
      note: 'priced by the cost model in docs/costs.md',
      bars: rows.map((r) => ({ label: r.scheme, value: r.modeled_cycles, text: int(r.modeled_cycles) })),
    },
    {
      id: 'cycles-per-switch',
      title: 'Modeled cycles per domain switch',
      unit: 'cycles/switch',
      kind: 'neutral',
      note: 'rights-register writes, PTE writes, TLB flushes and shootdowns, per domain switch',
      bars: rows
        .filter((r) => r.cycles_per_switch !== null)
        .map((r) => ({ label: r.scheme, value: r.cycles_per_switch!, text: int(r.cycles_per_switch!) })),
    },
  ];
  return {
    title: 'pkeysim demo: stray writes against protected kernel data, under every protection scheme',
    subtitle: [
      `machine: ${result.machine.arch}, ${result.machine.cpus} CPUs, ${result.machine.pagingLevels}-level paging`,
      `campaigns: ${result.campaigns.join(', ')}; seeds ${result.seeds.join(', ')}`,
    ],
    table: {
      header: [
        'scheme',
        'strays blocked',
        'bytes lost after reboot',
        'domain switches',
        'modeled cycles',
        'cycles/switch',
        'sim. accesses/s',
      ],
      rows: rows.map((r) => [
        r.scheme,
        `${int(r.strays_blocked)} / ${int(r.strays_attempted)}`,
        int(r.bytes_lost_after_reboot),
        int(r.domain_switches),
        int(r.modeled_cycles),
        r.cycles_per_switch === null ? '-' : int(r.cycles_per_switch),
        int(r.accesses_per_second),
      ]),
    },
    charts,
    notes: [...notes],
    generator,
  };
}

/** One campaign as an HTML report: strays per kind (blocked, landed) and the cost figures. */
export function campaignHtmlReport(result: CampaignResult, generator: string): HtmlReport {
  const kinds = Object.entries(result.by_kind);
  return {
    title: `pkeysim campaign: ${result.consumer}`,
    subtitle: [
      `seed ${result.seed}, protection ${result.protection ? 'on' : 'off'}, mode ${result.mode}, arch ${result.arch}`,
      `domain switches ${int(result.domain_switches)}, modeled cycles ${int(result.modeled_cycles)}, cycles per switch ${int(result.cycles_per_switch)}` +
        (result.bytes_corrupted_after_reboot !== undefined
          ? `, bytes corrupted after reboot ${int(result.bytes_corrupted_after_reboot)}`
          : ''),
    ],
    table: {
      header: ['stray kind', 'attempted', 'blocked', 'landed'],
      rows: [
        ...kinds.map(([kind, n]) => [kind, int(n!.attempted), int(n!.blocked), int(n!.landed)]),
        ['total', int(result.strays_attempted), int(result.strays_blocked), int(result.strays_landed)],
      ],
    },
    charts: [
      {
        id: 'strays',
        title: 'Stray writes per kind: blocked and landed',
        unit: 'strays',
        bars: kinds.map(([kind, n]) => ({
          label: kind,
          value: n!.attempted,
          text: `${n!.blocked} / ${n!.attempted} blocked`,
          parts: [
            { value: n!.blocked, kind: 'good', label: 'blocked' },
            { value: n!.landed, kind: 'bad', label: 'landed' },
          ],
        })),
      },
    ],
    notes: [...result.notes],
    generator,
  };
}
