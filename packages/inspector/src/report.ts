/**
 * Self-contained HTML reports (`pkeysim demo --html`, `campaign --html`): one file with its CSS and
 * charts inline, no script and no link, so it opens offline and prints. The charts are hand-written
 * SVG bar charts: a report compares a handful of named values, which a bar per value shows best and a
 * charting library would only add weight to.
 */

/** One bar: a label, its value and, for stacked bars, the parts that add up to it. */
export interface ReportBar {
  readonly label: string;
  readonly value: number;
  /** Shown after the bar instead of the number ("288 / 288"). */
  readonly text?: string;
  /** Parts of the bar in order, each with a class from {@link BAR_KINDS}. */
  readonly parts?: readonly { readonly value: number; readonly kind: BarKind; readonly label: string }[];
}

/** The colour classes a bar or bar part can have. */
export const BAR_KINDS = ['good', 'bad', 'neutral', 'accent'] as const;
/** One of BAR_KINDS. */
export type BarKind = (typeof BAR_KINDS)[number];

/** A titled bar chart of a report. */
export interface ReportChart {
  readonly id: string;
  readonly title: string;
  /** What the numbers are: "cycles", "bytes". */
  readonly unit: string;
  readonly note?: string;
  readonly bars: readonly ReportBar[];
  /** The kind of a plain bar; parts carry their own. */
  readonly kind?: BarKind;
}

/** The content of a self-contained HTML report: title, table, charts and notes. */
export interface HtmlReport {
  readonly title: string;
  /** Lines under the title: the machine, seeds, modes. */
  readonly subtitle: readonly string[];
  readonly table: { readonly header: readonly string[]; readonly rows: readonly (readonly string[])[] };
  readonly charts: readonly ReportChart[];
  /** Footnotes: what the columns mean, what was skipped. */
  readonly notes: readonly string[];
  /** "pkeysim 0.1.0" and the command line, for reproducing it. */
  readonly generator: string;
}

function esc(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const fmt = (n: number) => (Number.isInteger(n) ? n : Math.round(n * 100) / 100).toLocaleString('en-US');

const LABEL_W = 130;
const BAR_W = 420;
const TEXT_W = 150;
const ROW_H = 26;

/** A horizontal bar chart, one row per bar, scaled to the largest value. */
export function barChartSvg(chart: ReportChart): string {
  const max = Math.max(1e-9, ...chart.bars.map((b) => b.value));
  const height = chart.bars.length * ROW_H + 8;
  const width = LABEL_W + BAR_W + TEXT_W;
  const rows = chart.bars.map((bar, i) => {
    const y = 4 + i * ROW_H;
    const parts = bar.parts ?? [{ value: bar.value, kind: chart.kind ?? 'accent', label: chart.unit }];
    let x = LABEL_W;
    const rects = parts.map((p) => {
      const w = (p.value / max) * BAR_W;
      const rect = `<rect class="${p.kind}" x="${x.toFixed(1)}" y="${y + 3}" width="${Math.max(0, w).toFixed(1)}" height="${ROW_H - 8}"><title>${esc(bar.label)}: ${esc(fmt(p.value))} ${esc(p.label)}</title></rect>`;
      x += w;
      return rect;
    });
    return `<g class="bar" data-label="${esc(bar.label)}" data-value="${bar.value}"><text class="label" x="${LABEL_W - 8}" y="${y + ROW_H / 2 + 4}" text-anchor="end">${esc(bar.label)}</text>${rects.join('')}<text class="value" x="${x + 6}" y="${y + ROW_H / 2 + 4}">${esc(bar.text ?? fmt(bar.value))}</text></g>`;
  });
  return `<svg class="chart" data-testid="chart-${esc(chart.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(chart.title)}">${rows.join('')}</svg>`;
}

function legend(chart: ReportChart): string {
  const seen = new Map<string, BarKind>();
  for (const bar of chart.bars) for (const p of bar.parts ?? []) seen.set(p.label, p.kind);
  if (seen.size < 2) return '';
  return `<p class="legend">${[...seen].map(([label, kind]) => `<span class="swatch ${kind}"></span>${esc(label)}`).join(' ')}</p>`;
}

const CSS = `
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2430;background:#fff;margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 6px}
.sub{color:#6a7180;margin:2px 0}
table{border-collapse:collapse;margin:16px 0}th,td{padding:4px 10px;border-bottom:1px solid #dde0e6;text-align:right;font-variant-numeric:tabular-nums}
th:first-child,td:first-child{text-align:left}th{color:#6a7180}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:18px}
figure{margin:0;border:1px solid #dde0e6;border-radius:6px;padding:10px 12px}
figcaption{color:#6a7180;font-size:12px;margin-top:4px}
.chart{max-width:100%;height:auto;font-size:12px}
.chart .label{fill:#1d2430}.chart .value{fill:#4a5160}
.good{fill:#2e8b57;background:#2e8b57}.bad{fill:#c0392b;background:#c0392b}.neutral{fill:#a0a7b4;background:#a0a7b4}.accent{fill:#4a78c2;background:#4a78c2}
.legend{font-size:12px;color:#4a5160;margin:4px 0}.swatch{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;border-radius:2px}
.notes{color:#4a5160;font-size:13px}footer{color:#8a919e;font-size:12px;margin-top:24px}
@media print{.charts{grid-template-columns:1fr}}
`;

/** The report as one HTML document. */
export function renderHtmlReport(report: HtmlReport): string {
  const head = `<tr>${report.table.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = report.table.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('');
  const charts = report.charts
    .map(
      (chart) =>
        `<figure id="${esc(chart.id)}"><h2>${esc(chart.title)}</h2>${legend(chart)}${barChartSvg(chart)}${chart.note ? `<figcaption>${esc(chart.note)}</figcaption>` : ''}</figure>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(report.title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(report.title)}</h1>
${report.subtitle.map((line) => `<p class="sub">${esc(line)}</p>`).join('\n')}
<table data-testid="report-table"><thead>${head}</thead><tbody>${body}</tbody></table>
<section class="charts">${charts}</section>
<ul class="notes">${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<footer>${esc(report.generator)}</footer>
</body></html>
`;
}
