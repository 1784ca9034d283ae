/**
 * The import function's logic: one object under `imports/` (a Streaming_History_Audio_*.json file or the
 * export's zip) into Kafka, and a summary object with its counts under `import-summaries/` (not beside it
 * under `imports/`, where its creation would notify the function again). A zip is read through ranged GETs
 * (yauzl's RandomAccessReader): the central directory first, then each member, so nothing is downloaded
 * whole and a truncated zip is refused before anything is sent. Every GET names the ETag the import started
 * with (If-Match), so an object replaced mid-read fails the import instead of mixing two uploads.
 *
 * S3 delivers event notifications at least once; reading an object twice sends the same event ids again,
 * and Silver keeps one row per event_id, so a repeated import adds nothing.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PassThrough, Readable } from 'node:stream';
import yauzl from 'yauzl';
import {
  describeImport,
  importHistory,
  type ImportOptions,
  type ImportSummary,
} from '../core/spotify/history-import.ts';
import { zipFromReader, type ExportItem } from '../core/spotify/history-source.ts';

export { IMPORTS_PREFIX, IMPORT_SUMMARIES_PREFIX } from './env.ts';

/**
 * The object key of an S3 event notification record. Keys arrive URL-encoded, spaces as '+' (S3 User Guide,
 * "Event message structure": "The s3 key provided in the event notification is URL encoded").
 */
export const notificationKey = (raw: string): string => decodeURIComponent(raw.replace(/\+/g, ' '));

/** The user id of entries without `username`: the first folder under the prefix (`imports/<user>/...`), if any. */
export function userOfKey(key: string, prefix: string): string | undefined {
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const user = rest.slice(0, slash);
  return user.length <= 64 ? user : undefined;
}

/** The summary object's key of an imported object. */
export const summaryKey = (key: string, importsPrefix: string, summariesPrefix: string): string =>
  `${summariesPrefix}${key.startsWith(importsPrefix) ? key.slice(importsPrefix.length) : key}.summary.json`;

/** Ranged GETs of one object version, for yauzl. */
class S3RangeReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly etag: string | undefined,
  ) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const out = new PassThrough();
    if (end <= start) {
      out.end();
      return out;
    }
    this.s3
      .send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Range: `bytes=${start}-${end - 1}`,
          IfMatch: this.etag,
        }),
      )
      .then((res) => {
        const body = res.Body as Readable | undefined;
        if (!body) throw new Error('the ranged GET has no body');
        body.on('error', (err) => out.destroy(err));
        body.pipe(out);
      })
      .catch((err: unknown) => out.destroy(err as Error));
    return out;
  }
}

export interface ObjectImport {
  readonly bucket: string;
  readonly key: string;
  readonly summaryKey: string;
  readonly summary: ImportSummary;
}

export interface ImportObjectOptions {
  readonly importsPrefix: string;
  readonly summariesPrefix: string;
  readonly send: ImportOptions['send'];
}

export async function importObject(
  s3: S3Client,
  bucket: string,
  key: string,
  options: ImportObjectOptions,
): Promise<ObjectImport> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const size = head.ContentLength ?? 0;
  const name = `s3://${bucket}/${key}`;
  const items = objectItems(s3, bucket, key, name, size, head.ETag);
  const summary = await importHistory(items, {
    user: userOfKey(key, options.importsPrefix),
    send: options.send,
  });
  const out = summaryKey(key, options.importsPrefix, options.summariesPrefix);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: out,
      Body: JSON.stringify(
        { object: name, etag: head.ETag ?? null, ...summary, lines: describeImport(summary) },
        null,
        2,
      ),
      ContentType: 'application/json',
    }),
  );
  return { bucket, key, summaryKey: out, summary };
}

async function* objectItems(
  s3: S3Client,
  bucket: string,
  key: string,
  name: string,
  size: number,
  etag: string | undefined,
): AsyncGenerator<ExportItem> {
  const lower = key.toLowerCase();
  if (lower.endsWith('.zip')) {
    yield* zipFromReader(name, new S3RangeReader(s3, bucket, key, etag), size);
  } else if (lower.endsWith('.json')) {
    yield {
      kind: 'file',
      name,
      open: async () => {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }));
        if (!res.Body) throw new Error('the GET has no body');
        return res.Body as Readable;
      },
    };
  } else {
    yield {
      kind: 'refused',
      name,
      message: `${name}: not a .zip or a .json file; upload the export's zip or its Streaming_History_Audio_*.json files`,
    };
  }
}

/** Whether a key is one the function imports (the notification filters on these suffixes too). */
export const isImportKey = (key: string): boolean => /\.(zip|json)$/i.test(key);
