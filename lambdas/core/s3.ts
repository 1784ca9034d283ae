/**
 * Object-store helpers shared by every stage. They take an S3Client, so the same code runs against
 * Amazon S3 and the local S3-API server.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  type _Object,
} from '@aws-sdk/client-s3';

export interface ObjectSummary {
  readonly key: string;
  readonly size: number;
  readonly etag: string | undefined;
  readonly lastModified: Date | undefined;
}

/** Every object under a prefix, following continuation tokens (no 1,000-key ceiling). */
export async function* listObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
  startAfter?: string,
): AsyncGenerator<ObjectSummary> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
        StartAfter: token ? undefined : startAfter,
      }),
    );
    for (const o of page.Contents ?? []) yield summary(o);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

export async function listAllObjects(s3: S3Client, bucket: string, prefix: string): Promise<ObjectSummary[]> {
  const out: ObjectSummary[] = [];
  for await (const o of listObjects(s3, bucket, prefix)) out.push(o);
  return out;
}

function summary(o: _Object): ObjectSummary {
  return { key: o.Key ?? '', size: o.Size ?? 0, etag: o.ETag, lastModified: o.LastModified };
}

export async function getObjectBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!res.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return res.Body.transformToByteArray();
}

export async function putObjectBytes(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array | string,
  options: { contentType?: string; contentEncoding?: string; metadata?: Record<string, string> } = {},
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: options.contentType,
      ContentEncoding: options.contentEncoding,
      Metadata: options.metadata,
    }),
  );
}

/** An object's summary as a listing would give it, with its user metadata; undefined when there is no such object. */
export async function headObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<(ObjectSummary & { readonly metadata: Record<string, string> }) | undefined> {
  try {
    const res = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      key,
      size: res.ContentLength ?? 0,
      etag: res.ETag,
      lastModified: res.LastModified,
      metadata: res.Metadata ?? {},
    };
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (err as { name?: string }).name === 'NotFound') return undefined;
    throw err;
  }
}

/** The user metadata of an object (`x-amz-meta-*`, keys in lower case). */
export async function headObjectMetadata(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Record<string, string>> {
  const res = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return res.Metadata ?? {};
}

/** Splits `s3://bucket/key` into its parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

/**
 * Client settings for an S3-compatible endpoint (the local server): path-style addressing, fixed
 * local credentials, and checksums only when required (otherwise streamed bodies are stored with
 * their chunk framing by the local server).
 */
export function localS3ClientConfig(endpoint: string, region = 'us-east-1'): S3ClientConfig {
  return {
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}
