/**
 * The static HTML report of one workflow run (runs/<runId>/report.html, next to summary.json).
 *
 * The page is self-contained: inline CSS and charts drawn here as inline SVG, no script at all. Inlining
 * ECharts would add about 1.1 MB to every hourly report for three simple charts; SVG keeps a report at a
 * few kilobytes, opens from S3, a file or a mail attachment, and renders even where scripts are blocked.
 */
import type { RunSummary } from '../lambdas/core/run-summary.ts';
import {
  formatCount,
  formatDateTime,
  formatHourLabel,
  formatPercent,
  formatSeconds,
} from './public/format.js';

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

interface Bar {
  readonly label: string;
  readonly value: number;
  /** Shown after the bar instead of the bare value, when given. */
  readonly text?: string;
}

const BAR_COLOUR = '#1db954';

/** Horizontal bars, one per row, labels on the left: ranked lists (top tracks, step timings). */
function horizontalBars(title: string, name: string, bars: readonly Bar[]): string {
  if (bars.length === 0) return `<p class="muted">No ${escapeHtml(title.toLowerCase())} in this run.</p>`;
  const rowH = 24;
  const labelW = 260;
  const barW = 360;
  const width = labelW + barW + 90;
  const height = bars.length * rowH + 8;
  const max = Math.max(...bars.map((b) => b.value), 1);
  const rows = bars
    .map((b, i) => {
      const y = 4 + i * rowH;
      const w = Math.max(1, (b.value / max) * barW);
      const label = b.label.length > 38 ? `${b.label.slice(0, 37)}…` : b.label;
      return (
        `<g data-label="${escapeHtml(b.label)}" data-value="${b.value}">` +
        `<title>${escapeHtml(b.label)}: ${escapeHtml(b.text ?? formatCount(b.value))}</title>` +
        `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(label)}</text>` +
        `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="3" fill="${BAR_COLOUR}"/>` +
        `<text x="${labelW + w + 6}" y="${y + 16}">${escapeHtml(b.text ?? formatCount(b.value))}</text></g>`
      );
    })
    .join('');
  return (
    `<svg class="chart" data-chart="${name}" role="img" aria-label="${escapeHtml(title)}" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${rows}</svg>`
  );
}

/** Vertical columns over time: plays per hour. */
function columns(title: string, name: string, bars: readonly Bar[]): string {
  if (bars.length === 0) return `<p class="muted">No ${escapeHtml(title.toLowerCase())} in this run.</p>`;
  const left = 84;
  const top = 12;
  const plotH = 180;
  const slot = Math.max(14, Math.min(48, Math.floor(720 / bars.length)));
  const width = left + bars.length * slot + 12;
  const height = top + plotH + 72;
  const max = Math.max(...bars.map((b) => b.value), 1);
  const labelEvery = Math.ceil(bars.length / 12);
  const grid = [0, 0.5, 1]
    .map((f) => {
      const y = top + plotH - f * plotH;
      return (
        `<line x1="${left}" x2="${width - 8}" y1="${y}" y2="${y}" class="grid"/>` +
        `<text x="${left - 6}" y="${y + 4}" text-anchor="end">${formatCount(Math.round(max * f))}</text>`
      );
    })
    .join('');
  const cols = bars
    .map((b, i) => {
      const h = (b.value / max) * plotH;
      const x = left + i * slot + 2;
      const label =
        i % labelEvery === 0
          ? `<text x="${x + (slot - 4) / 2}" y="${top + plotH + 16}" text-anchor="end" transform="rotate(-35 ${x + (slot - 4) / 2} ${top + plotH + 16})">${escapeHtml(b.label)}</text>`
          : '';
      return (
        `<g data-label="${escapeHtml(b.label)}" data-value="${b.value}">` +
        `<title>${escapeHtml(b.label)} UTC: ${formatCount(b.value)} plays</title>` +
        `<rect x="${x}" y="${(top + plotH - h).toFixed(1)}" width="${slot - 4}" height="${h.toFixed(1)}" rx="2" fill="${BAR_COLOUR}"/>` +
        `${label}</g>`
      );
    })
    .join('');
  return (
    `<svg class="chart" data-chart="${name}" role="img" aria-label="${escapeHtml(title)}" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${grid}${cols}</svg>`
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

  const sections: string[] = [];
  if (summary.failure) {
    const f = summary.failure;
    sections.push(
      `<section class="failure" data-section="failure"><h2>Failure</h2>` +
        `<p><b>${escapeHtml(f.error)}</b> in state <b>${escapeHtml(f.state)}</b></p><pre>${escapeHtml(f.cause)}</pre></section>`,
    );
  }

  const rec = summary.reconciliation;
  sections.push(
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
      `</section>`,
  );

  const l = summary.loader;
  sections.push(
    `<section data-section="loader"><h2>Bronze loader</h2>` +
      (l
        ? table(
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
            : '')
        : '<p class="muted">The loader did not run.</p>') +
      `</section>`,
  );

  const d = summary.dbt;
  sections.push(
    `<section data-section="dbt"><h2>dbt build ${d ? (d.status === 'success' ? '<span class="ok">✓ success</span>' : '<span class="bad">✗ error</span>') : ''}</h2>` +
      (d
        ? table(
            ['Node', 'Status', 'Time', 'Message'],
            d.results.map((r) => [
              `<code>${escapeHtml(r.unique_id)}</code>`,
              r.status === 'success' || r.status === 'pass'
                ? `<span class="ok">${escapeHtml(r.status)}</span>`
                : `<span class="bad">${escapeHtml(r.status)}</span>`,
              formatSeconds(r.execution_time),
              escapeHtml(r.message ?? ''),
            ]),
            'dbt',
          )
        : '<p class="muted">dbt did not run.</p>') +
      `</section>`,
  );

  const steps = Object.entries(summary.stepSeconds);
  sections.push(
    `<section data-section="steps"><h2>Step timings</h2>` +
      horizontalBars(
        'Step timings',
        'stepSeconds',
        steps.map(([label, value]) => ({ label, value, text: formatSeconds(value) })),
      ) +
      `</section>`,
  );

  const g = summary.gold;
  if (g) {
    sections.push(
      `<section data-section="gold"><h2>Gold at the end of the run</h2>` +
        `<h3>Plays per hour (UTC)</h3>` +
        columns(
          'Plays per hour',
          'playsPerHour',
          g.playsPerHour.map((r) => ({ label: formatHourLabel(r.hour_start), value: r.plays })),
        ) +
        `<h3>Top tracks</h3>` +
        horizontalBars(
          'Top tracks',
          'topTracks',
          g.topTracks.map((t) => ({ label: `${t.song_name} — ${t.artist_name}`, value: t.plays })),
        ) +
        `<h3>Top artists</h3>` +
        horizontalBars(
          'Top artists',
          'topArtists',
          g.topArtists.map((a) => ({ label: a.artist_name, value: a.plays })),
        ) +
        `</section>`,
    );
  }

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
h1{font-size:22px;margin:0}h2{font-size:17px;margin:0 0 10px}h3{font-size:14px;margin:14px 0 6px;color:#4a5468}
.status{font-weight:700;padding:3px 10px;border-radius:12px;color:#fff}
.status.SUCCEEDED{background:#1a8f4a}.status.FAILED{background:#c62828}
section{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:16px 18px;margin:16px 0;overflow-x:auto}
.failure{border-color:#c62828;background:#fff5f5}.failure pre{white-space:pre-wrap;margin:0}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin-top:16px}
.kpi{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:12px 14px}
.kpi span{display:block;color:#5b6578;font-size:12px}.kpi b{font-size:22px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
th{font-size:12px;color:#5b6578;font-weight:600}td:nth-child(n+2){font-variant-numeric:tabular-nums}
.ok{color:#1a8f4a;font-weight:600}.bad{color:#c62828;font-weight:600}.muted{color:#6b7385}
.chart{max-width:100%;height:auto;font-size:12px;fill:#1d2433}.chart .grid{stroke:#e2e5ea}
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
<div class="kpis">${kpis}</div>
${sections.join('\n')}
</main>
</body>
</html>
`;
}
