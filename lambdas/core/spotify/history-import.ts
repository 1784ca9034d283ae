/**
 * One import of a streaming-history export: each file read to its end, then its events sent (keyed by user),
 * then the next file. A refused file sends nothing and the import goes on; a send that fails stops the import
 * (the broker is down: nothing after it can be sent either). Re-importing sends the same event ids again, and
 * Silver's dedupe on event_id keeps one of each.
 */
import { errorMessage } from '../errors.ts';
import {
  addCounts,
  emptyCounts,
  readExportFile,
  type HistoryCounts,
  type HistoryEvent,
  type Rejection,
} from './history.ts';
import type { ExportItem } from './history-source.ts';

export interface FileSummary {
  readonly file: string;
  readonly counts: HistoryCounts;
  readonly refused?: string;
}

export interface ImportSummary {
  readonly totals: HistoryCounts;
  /** Export files read (imported or refused). */
  readonly files: FileSummary[];
  /** Files and zip members not imported (not Streaming_History_Audio_*.json). */
  readonly skippedFiles: string[];
  /** Refusals: files, zips and paths of which nothing was imported, with the reason. */
  readonly refused: { readonly file: string; readonly message: string }[];
  /** The first rejected entries of each file. */
  readonly rejections: Rejection[];
  /** Events acknowledged by Kafka. */
  readonly sent: number;
  /** The first and last event time imported (ISO), or null when nothing was. */
  readonly firstEventTime: string | null;
  readonly lastEventTime: string | null;
  /** The hours (ISO, e.g. 2024-03-01T10:00:00.000Z) that hold imported events, in order. */
  readonly hours: string[];
}

export interface ImportOptions {
  readonly user?: string;
  /** Sends one file's records; resolves when they are acknowledged. */
  readonly send: (records: { key: string; value: string; sendTime: Date }[]) => Promise<void>;
  /** Called after each item. */
  readonly onItem?: (item: ExportItem, file?: FileSummary) => void;
  readonly now?: () => Date;
}

export async function importHistory(
  items: AsyncIterable<ExportItem>,
  options: ImportOptions,
): Promise<ImportSummary> {
  const totals = emptyCounts();
  const summary: ImportSummary & {
    sent: number;
    firstEventTime: string | null;
    lastEventTime: string | null;
  } = {
    totals,
    files: [],
    skippedFiles: [],
    refused: [],
    rejections: [],
    sent: 0,
    firstEventTime: null,
    lastEventTime: null,
    hours: [],
  };
  const hours = new Set<string>();
  for await (const item of items) {
    if (item.kind === 'skipped') {
      summary.skippedFiles.push(item.name);
      options.onItem?.(item);
      continue;
    }
    if (item.kind === 'refused') {
      summary.refused.push({ file: item.name, message: item.message });
      options.onItem?.(item);
      continue;
    }
    let read;
    try {
      read = await readExportFile(item.name, await item.open(), { user: options.user });
    } catch (err) {
      read = {
        file: item.name,
        counts: emptyCounts(),
        events: [],
        rejections: [],
        refused: `${item.name}: ${errorMessage(err)}`,
      };
    }
    const file: FileSummary = read.refused
      ? { file: read.file, counts: read.counts, refused: read.refused }
      : { file: read.file, counts: read.counts };
    if (read.refused) summary.refused.push({ file: read.file, message: read.refused });
    summary.rejections.push(...read.rejections);
    if (read.events.length > 0) {
      const sendTime = (options.now ?? (() => new Date()))();
      await options.send(read.events.map((e) => ({ key: e.user_id, value: JSON.stringify(e), sendTime })));
      summary.sent += read.events.length;
      for (const e of read.events) {
        trackTimes(summary, e);
        hours.add(`${e.timestamp.slice(0, 13)}:00:00.000Z`);
      }
    }
    addCounts(totals, read.counts);
    summary.files.push(file);
    options.onItem?.(item, file);
  }
  summary.hours.push(...[...hours].sort());
  return summary;
}

function trackTimes(
  s: { firstEventTime: string | null; lastEventTime: string | null },
  e: HistoryEvent,
): void {
  // ISO times in UTC with the same precision compare as strings.
  if (s.firstEventTime === null || e.timestamp < s.firstEventTime) s.firstEventTime = e.timestamp;
  if (s.lastEventTime === null || e.timestamp > s.lastEventTime) s.lastEventTime = e.timestamp;
}

/** The summary's lines: counts per file and in total, refusals and the first rejections, each naming its file. */
export function describeImport(s: ImportSummary): string[] {
  const c = s.totals;
  const lines = [
    `entries ${c.entries} = imported ${c.imported} + left out ${c.leftOut} (episodes ${c.episodes}, audiobooks ${c.audiobooks}, no track ${c.noTrack}) + rejected ${c.rejected}`,
    `files: ${s.files.length - s.refused.filter((r) => s.files.some((f) => f.file === r.file)).length} imported, ${s.refused.length} refused, ${s.skippedFiles.length} skipped (not Streaming_History_Audio_*.json)`,
  ];
  for (const r of s.refused) lines.push(`refused ${r.message}`);
  for (const r of s.rejections) lines.push(`rejected ${r.file} entry ${r.index}: ${r.problems.join('; ')}`);
  if (c.rejected > s.rejections.length)
    lines.push(`... and ${c.rejected - s.rejections.length} more rejected entries`);
  return lines;
}
