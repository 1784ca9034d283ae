/**
 * The static HTML report of one workflow run (runs/<runId>/report.html, next to summary.json), written by the
 * publisher Lambda for every run and by the local workflow into its data directory. It lives in the core, next
 * to the run summary it renders, because both write it and a Lambda imports only the core and its own folder.
 *
 * It leads with what a person checks: the status, the failure if any, the reconciliation, and the dbt nodes
 * and Bronze objects that failed or warned; the passing dbt nodes are folded into a count per kind that opens
 * on demand. The charts are the dashboard page's own definitions (lambdas/core/charts/options.js) rendered to
 * SVG here with echarts' server-side rendering: the page and the report draw the same charts from one
 * definition. Only the chart types and the SVG renderer the report needs are imported (echarts/core), so the
 * publisher's bundle stays small. The page is self-contained: inline CSS and SVG, no script at all; it opens
 * from S3, a file or a mail attachment, and renders even where scripts are blocked.
 */
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { EChartsOption } from 'echarts';
import type { RunSummary } from './run-summary.ts';
import { formatCount, formatDateTime, formatPercent, formatSeconds } from './charts/format.js';
import * as define from './charts/options.js';
import type { ChartOption } from './charts/options.js';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, SVGRenderer]);

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** The report's content width (its main column less the card's padding), in SVG pixels. */
const FULL_WIDTH = 1000;
const HALF_WIDTH = 490;

/** Height of a ranked-bar chart: a row per bar plus its value axis. */
const barsHeight = (rows: number): number => rows * 28 + 36;

/**
 * One chart definition rendered to an SVG string. A static SVG has no hover, so the definition's tooltip is
 * dropped (and the tooltip component never imported).
 */
export function renderChartSvg(option: ChartOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    const { tooltip: _tooltip, ...rest } = option;
    chart.setOption(rest as EChartsOption);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function figure(name: string, title: string, svg: string, wide = true): string {
  return (
    `<figure class="chart${wide ? ' wide' : ''}" data-chart="${name}" role="img" aria-label="${escapeHtml(title)}">` +
    `<figcaption>${escapeHtml(title)}</figcaption>${svg}</figure>`
  );
}

function emptyChart(name: string, title: string, text: string, wide = true): string {
  return (
    `<figure class="chart${wide ? ' wide' : ''}" data-chart="${name}" data-none>` +
    `<figcaption>${escapeHtml(title)}</figcaption><p class="muted">${escapeHtml(text)}</p></figure>`
  );
}

function table(headers: readonly string[], rows: readonly (readonly string[])[], name: string): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table data-table="${name}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const ok = (pass: boolean): string =>
  pass ? '<span class="ok">✓ ok</span>' : '<span class="bad">✗ mismatch</span>';

function durationSeconds(summary: RunSummary): number {
  return (Date.parse(summary.finishedAt) - Date.parse(summary.startedAt)) / 1000;
}

type DbtResult = NonNullable<RunSummary['dbt']>['results'][number];

/** dbt's words for a node that did what it should. */
const PASSED = new Set(['success', 'pass']);

/** "model.mds.plays_per_hour" -> kind "model", name "plays_per_hour". */
function dbtNode(uniqueId: string): { kind: string; name: string } {
  const [kind = 'node', , ...rest] = uniqueId.split('.');
  return { kind, name: rest.length ? rest.join('.') : uniqueId };
}

function failureSection(f: NonNullable<RunSummary['failure']>): string {
  return (
    `<section class="failure" data-section="failure"><h2>Failure</h2>` +
    `<p><b>${escapeHtml(f.error)}</b> in state <b>${escapeHtml(f.state)}</b></p><pre>${escapeHtml(f.cause)}</pre></section>`
  );
}

function reconciliationSection(rec: RunSummary['reconciliation']): string {
  return (
    `<section data-section="reconciliation"><h2>Reconciliation ${rec ? ok(rec.ok) : ''}</h2>` +
    (rec && rec.checks.length
      ? table(
          ['Check', 'Expected', 'Actual', 'Result', 'Detail'],
          rec.checks.map((k) => [
            escapeHtml(k.name),
            formatCount(k.expected),
            formatCount(k.actual),
            ok(k.ok),
            escapeHtml(k.detail ?? ''),
          ]),
          'reconciliation',
        )
      : '<p class="muted">The run did not reach reconciliation.</p>') +
    `</section>`
  );
}

/**
 * dbt's build: every node that did not pass (error, fail, warn, skipped) in a table, then the passing nodes
 * as a count per kind, each opening on demand into its list.
 */
function dbtSection(d: RunSummary['dbt']): string {
  if (!d)
    return `<section data-section="dbt"><h2>dbt build</h2><p class="muted">dbt did not run.</p></section>`;
  const badge =
    d.status === 'success' ? '<span class="ok">✓ success</span>' : '<span class="bad">✗ error</span>';
  const problems = d.results.filter((r) => !PASSED.has(r.status));
  const passedByKind = new Map<string, DbtResult[]>();
  for (const r of d.results) {
    if (!PASSED.has(r.status)) continue;
    const { kind } = dbtNode(r.unique_id);
    passedByKind.set(kind, [...(passedByKind.get(kind) ?? []), r]);
  }
  const problemTable = problems.length
    ? table(
        ['Node', 'Status', 'Time', 'Message'],
        problems.map((r) => [
          `<code>${escapeHtml(r.unique_id)}</code>`,
          `<span class="${r.status === 'warn' ? 'warn' : 'bad'}">${escapeHtml(r.status)}</span>`,
          `<span class="nowrap">${formatSeconds(r.execution_time)}</span>`,
          escapeHtml(r.message ?? ''),
        ]),
        'dbt-problems',
      )
    : '';
  const folds = [...passedByKind]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, rows]) => {
      const seconds = rows.reduce((s, r) => s + r.execution_time, 0);
      const items = rows
        .map(
          (r) =>
            `<li><code>${escapeHtml(dbtNode(r.unique_id).name)}</code> <span class="muted">${formatSeconds(r.execution_time)}</span></li>`,
        )
        .join('');
      return (
        `<details data-dbt-kind="${escapeHtml(kind)}" data-passed="${rows.length}">` +
        `<summary><span class="ok">✓</span> ${formatCount(rows.length)} ${escapeHtml(kind)}${rows.length === 1 ? '' : 's'} ` +
        `${escapeHtml(rows[0]!.status === 'pass' ? 'passed' : 'succeeded')} <span class="muted">· ${formatSeconds(seconds)}</span></summary>` +
        `<ul class="nodes">${items}</ul></details>`
      );
    })
    .join('');
  return (
    `<section data-section="dbt"><h2>dbt build ${badge}</h2>` +
    problemTable +
    (folds ? `<div class="folds">${folds}</div>` : '') +
    (d.results.length === 0 ? '<p class="muted">dbt built no nodes.</p>' : '') +
    `</section>`
  );
}

function loaderSection(l: RunSummary['loader']): string {
  if (!l)
    return `<section data-section="loader"><h2>Bronze loader</h2><p class="muted">The loader did not run.</p></section>`;
  return (
    `<section data-section="loader"><h2>Bronze loader ${l.errors.length ? `<span class="bad">✗ ${formatCount(l.errors.length)} error${l.errors.length === 1 ? '' : 's'}</span>` : ''}</h2>` +
    table(
      ['Objects seen', 'Loaded', 'Skipped (already loaded)', 'Rows loaded', 'Errors'],
      [
        [
          formatCount(l.objectsSeen),
          formatCount(l.objectsLoaded),
          formatCount(l.objectsSkipped),
          formatCount(l.rowsLoaded),
          formatCount(l.errors.length),
        ],
      ],
      'loader',
    ) +
    (l.errors.length
      ? `<ul class="errors">${l.errors
          .map(
            (e) =>
              `<li><code>${escapeHtml(e.key)}${e.line === undefined ? '' : `:${e.line}`}</code> ${escapeHtml(e.message)}</li>`,
          )
          .join('')}</ul>`
      : '') +
    `</section>`
  );
}

function chartsSection(summary: RunSummary): string {
  const g = summary.gold;
  const steps = summary.stepSeconds;
  const stepCount = Object.keys(steps).length;
  const figures = [
    stepCount
      ? figure(
          'stepSeconds',
          'Step timings',
          renderChartSvg(define.stepSeconds(steps), FULL_WIDTH, barsHeight(stepCount)),
        )
      : emptyChart('stepSeconds', 'Step timings', 'No step timings in this run.'),
  ];
  if (g) {
    figures.push(
      g.playsPerHour.length
        ? figure(
            'playsPerHour',
            'Plays per hour (UTC)',
            renderChartSvg(define.playsPerHour(g.playsPerHour), FULL_WIDTH, 260),
          )
        : emptyChart('playsPerHour', 'Plays per hour (UTC)', 'No plays in Gold.'),
      g.topTracks.length
        ? figure(
            'topTracks',
            'Top tracks',
            renderChartSvg(define.topTracks(g.topTracks), HALF_WIDTH, barsHeight(g.topTracks.length)),
            false,
          )
        : emptyChart('topTracks', 'Top tracks', 'No plays in Gold.', false),
      g.topArtists.length
        ? figure(
            'topArtists',
            'Top artists',
            renderChartSvg(define.topArtists(g.topArtists), HALF_WIDTH, barsHeight(g.topArtists.length)),
            false,
          )
        : emptyChart('topArtists', 'Top artists', 'No plays in Gold.', false),
    );
  }
  return (
    `<section data-section="charts"><h2>${g ? 'Timings and Gold at the end of the run' : 'Timings'}</h2>` +
    `<div class="charts">${figures.join('')}</div></section>`
  );
}

/** Renders the run summary as one self-contained HTML page. */
export function renderRunReport(summary: RunSummary): string {
  const failed = summary.status === 'FAILED';
  const c = summary.counts;
  const kpis = [
    ['Landed in Bronze', c.landed],
    ['Quarantined', c.quarantined],
    ['Loaded into the warehouse', c.loaded],
    ['Modelled (distinct events)', c.modelled],
  ]
    .map(
      ([label, value]) =>
        `<div class="kpi" data-kpi="${escapeHtml(label)}"><span>${escapeHtml(label)}</span><b>${formatCount(value as number)}</b></div>`,
    )
    .join('');

  const sections = [
    reconciliationSection(summary.reconciliation),
    dbtSection(summary.dbt),
    loaderSection(summary.loader),
    chartsSection(summary),
  ];

  const quarantineShare = c.landed + c.quarantined ? c.quarantined / (c.landed + c.quarantined) : 0;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Run ${escapeHtml(summary.runId)}: ${summary.status}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2433}
main{max-width:1100px;margin:0 auto;padding:24px}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:12px 24px}
h1{font-size:22px;margin:0}h2{font-size:17px;margin:0 0 10px}
.status{font-weight:700;padding:3px 10px;border-radius:12px;color:#fff}
.status.SUCCEEDED{background:#1a8f4a}.status.FAILED{background:#c62828}
section{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:16px 18px;margin:16px 0;overflow-x:auto}
.failure{border-color:#c62828;background:#fff5f5}.failure pre{white-space:pre-wrap;margin:0}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin-top:16px}
.kpi{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:12px 14px}
.kpi span{display:block;color:#5b6578;font-size:12px}.kpi b{font-size:22px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
th{font-size:12px;color:#5b6578;font-weight:600}td:nth-child(n+2){font-variant-numeric:tabular-nums}
.ok{color:#1a8f4a;font-weight:600}.bad{color:#c62828;font-weight:600}.warn{color:#b26a00;font-weight:600}.muted{color:#6b7385}.nowrap{white-space:nowrap}
.folds{display:flex;flex-wrap:wrap;gap:8px 28px;margin-top:10px}
details summary{cursor:pointer}details[open]{flex-basis:100%}
.nodes{columns:3 260px;margin:8px 0 4px;padding-left:20px}.nodes li{break-inside:avoid}
.charts{display:flex;flex-wrap:wrap;gap:8px 20px}
.chart{margin:0;flex:1 1 ${HALF_WIDTH}px;min-width:0}.chart.wide{flex-basis:100%}
.chart figcaption{font-size:14px;font-weight:600;color:#4a5468;margin:6px 0 2px}
.chart svg{display:block;max-width:100%;height:auto}
code{font-size:12px}
</style>
</head>
<body>
<main>
<header>
<h1>Pipeline run <code>${escapeHtml(summary.runId)}</code></h1>
<span class="status ${summary.status}" data-status="${summary.status}">${failed ? 'FAILED' : 'SUCCEEDED'}</span>
</header>
<p>Window <b data-window>${escapeHtml(formatDateTime(summary.window.start))} → ${escapeHtml(formatDateTime(summary.window.end))}</b>
(event time, end exclusive) · started ${escapeHtml(formatDateTime(summary.startedAt))} · took ${formatSeconds(durationSeconds(summary))}
· quarantined ${formatPercent(quarantineShare)} of landed records · all times UTC</p>
${summary.failure ? failureSection(summary.failure) : ''}
<div class="kpis">${kpis}</div>
${sections.join('\n')}
</main>
</body>
</html>
`;
}
