/** The summary `mds local up` prints on stderr (without --json). */
import type { PipelineReport } from '../../../localstack/pipeline/up.ts';
import { formatTable } from '../cli-util.ts';

/** The summary `local up` prints: counts, then each check (what differs under a failed one), then Gold. */
export function renderReport(r: PipelineReport): string {
  const checks = r.reconciliation.checks.flatMap((c) => {
    if (c.skipped !== undefined) return [`  – ${c.name}: skipped: ${c.skipped}`];
    const line = `  ${c.ok ? '✔' : '✖'} ${c.name}: ${c.expected.toLocaleString('en-US')} vs ${c.actual.toLocaleString('en-US')}`;
    return !c.ok && c.detail ? [line, `      ${c.detail}`] : [line];
  });
  return [
    `pipeline ${r.window.start} .. ${r.window.end} (` +
      ('source' in r ? sourceName(r.source) : `seed ${r.seed}`) +
      ')',
    formatTable([
      ['events produced', r.events.produced],
      [
        '  valid (distinct)',
        `${r.events.valid.toLocaleString('en-US')} (${r.events.distinct.toLocaleString('en-US')})`,
      ],
      ['  duplicates / late / invalid', `${r.events.duplicates} / ${r.events.late} / ${r.events.invalid}`],
      ['landed in Bronze', r.events.landed],
      ['quarantined', r.events.quarantined],
      [
        'Bronze objects / records',
        `${r.bronze.objects.toLocaleString('en-US')} / ${r.bronze.records.toLocaleString('en-US')}`,
      ],
      ['warehouse Bronze rows', r.warehouse.bronze_rows],
      ['Silver rows', r.silver.rows],
      ...Object.entries(r.gold).map(([t, n]) => [`Gold ${t}`, n] as const),
      [
        'workflow runs',
        `${r.runs.filter((x) => x.status === 'SUCCEEDED').length} succeeded of ${r.runs.length}`,
      ],
    ]),
    `reconciliation: ${r.reconciliation.ok ? 'OK' : 'MISMATCH'}`,
    ...checks,
    'top tracks:',
    ...r.top.tracks.map(
      (t, i) =>
        `  ${i + 1}. ${t.song_name} — ${t.artist_name} (${t.streams.toLocaleString('en-US')} streams)`,
    ),
    'top artists:',
    ...r.top.artists.map(
      (a, i) => `  ${i + 1}. ${a.artist_name} (${a.streams.toLocaleString('en-US')} streams)`,
    ),
    `stage seconds: ${Object.entries(r.stages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `data: ${r.data.dir}  (warehouse ${r.data.warehouse}, run reports under ${r.data.runs})`,
  ].join('\n');
}

/** The source a report's data came from, named in its header. */
function sourceName(source: unknown): string {
  const kind = (source as { kind?: string }).kind;
  return kind === 'spotify-api' ? 'Spotify Web API, recently-played' : 'streaming-history export';
}
