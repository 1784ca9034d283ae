/**
 * The checks of external endpoints for the local pipeline (settings: endpoint-settings.ts), before anything
 * is produced: reachable, credentials accepted, then the bucket and topic created when missing. A failed
 * check is one line naming the endpoint, its setting and what to check; nothing is created unless every
 * endpoint answered.
 */
import { CreateBucketCommand, HeadBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { errorMessage, MdsError } from '../../lambdas/core/errors.ts';
import { createKafka } from '../../lambdas/core/kafka.ts';
import { ENDPOINT_ENV, type Endpoints } from './endpoint-settings.ts';
import type { WarehouseTarget } from './warehouse-lease.ts';

/** The S3 client of an external server: path-style, credentials from the SDK's default chain. */
export function externalS3ClientConfig(endpoint: string, region: string): S3ClientConfig {
  return {
    endpoint,
    region,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  };
}

/** One failed check: the endpoint, what went wrong, and what to check. */
export class EndpointCheckError extends MdsError {
  constructor(readonly failures: readonly string[]) {
    super(failures.join('\n'));
  }
}

export interface CheckOptions {
  readonly topic: string;
  readonly partitions: number;
  /** The bucket to use on the external S3 server. */
  readonly bucket: string;
  readonly region: string;
}

/**
 * Checks every external endpoint: first what only reads (Kafka's metadata, HeadBucket, a Postgres login),
 * all of them, so one run names every failure; only when all answered, creates the bucket and the topic
 * when missing. Throws EndpointCheckError, one line per failure.
 */
export async function checkEndpoints(endpoints: Endpoints, options: CheckOptions): Promise<void> {
  const failures: string[] = [];
  const [topics, bucketExists] = await Promise.all([
    endpoints.brokers ? kafkaTopics(endpoints.brokers, failures) : undefined,
    endpoints.s3 ? bucketState(endpoints.s3, options, failures) : undefined,
    endpoints.warehouse?.kind === 'postgres' ? postgresLogin(endpoints.warehouse, failures) : undefined,
  ]);
  if (failures.length > 0) throw new EndpointCheckError(failures);
  if (endpoints.s3 && bucketExists === false) await createBucket(endpoints.s3, options, failures);
  if (failures.length > 0) throw new EndpointCheckError(failures);
  if (endpoints.brokers && topics && !topics.includes(options.topic))
    await createTopic(endpoints.brokers, options, failures);
  if (failures.length > 0) throw new EndpointCheckError(failures);
}

const quietKafkaLogger = { warn: () => undefined, error: () => undefined };

async function kafkaTopics(
  brokers: NonNullable<Endpoints['brokers']>,
  failures: string[],
): Promise<string[] | undefined> {
  const admin = createKafka({
    brokers: brokers.list,
    clientId: 'mds-endpoint-check',
    retries: 1,
    logger: quietKafkaLogger,
  }).admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } catch (err) {
    failures.push(
      `Kafka at ${brokers.list.join(',')} (${brokers.setting}) is unreachable: ${errorMessage(err)}; check the address, that the broker runs, and that it advertises an address this machine reaches`,
    );
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function createTopic(
  brokers: NonNullable<Endpoints['brokers']>,
  options: CheckOptions,
  failures: string[],
): Promise<void> {
  const admin = createKafka({ brokers: brokers.list, clientId: 'mds-endpoint-check', retries: 1 }).admin();
  try {
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: options.topic, numPartitions: options.partitions }],
      waitForLeaders: true,
    });
  } catch (err) {
    failures.push(
      `Kafka at ${brokers.list.join(',')} (${brokers.setting}): the topic ${options.topic} is missing and could not be created (${errorMessage(err)}); create it, or allow this client to create topics`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const CREDENTIALS_HINT =
  'check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) against the keys the server was given';

/** true: the bucket is there; false: it is not (and may be created); undefined: the check failed. */
async function bucketState(
  s3: NonNullable<Endpoints['s3']>,
  options: CheckOptions,
  failures: string[],
): Promise<boolean | undefined> {
  const client = new S3Client(externalS3ClientConfig(s3.endpoint, options.region));
  try {
    await client.send(new HeadBucketCommand({ Bucket: options.bucket }));
    return true;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return false;
    if ((err as Error).name === 'CredentialsProviderError') {
      failures.push(
        `S3 at ${s3.endpoint} (${s3.setting}): no AWS credentials found (${errorMessage(err)}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, to the keys the server was given`,
      );
      return undefined;
    }
    if (status === 403 || status === 401) {
      failures.push(
        `S3 at ${s3.endpoint} (${s3.setting}) refused these credentials for the bucket ${options.bucket} (HTTP ${status}); ${CREDENTIALS_HINT}`,
      );
    } else if (status !== undefined) {
      failures.push(
        `S3 at ${s3.endpoint} (${s3.setting}) answered HTTP ${status} for the bucket ${options.bucket}: ${errorMessage(err)}; check that the URL is the S3 API's`,
      );
    } else {
      failures.push(
        `S3 at ${s3.endpoint} (${s3.setting}) is unreachable: ${networkCause(err)}; check the URL and that the server runs`,
      );
    }
    return undefined;
  } finally {
    client.destroy();
  }
}

async function createBucket(
  s3: NonNullable<Endpoints['s3']>,
  options: CheckOptions,
  failures: string[],
): Promise<void> {
  const client = new S3Client(externalS3ClientConfig(s3.endpoint, options.region));
  try {
    await client.send(new CreateBucketCommand({ Bucket: options.bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    failures.push(
      status === 403
        ? `S3 at ${s3.endpoint} (${s3.setting}): the bucket ${options.bucket} does not exist and these credentials may not create it (AccessDenied); create it, or name an existing one with --bucket (${ENDPOINT_ENV.bucket})`
        : `S3 at ${s3.endpoint} (${s3.setting}): the bucket ${options.bucket} does not exist and could not be created (${errorMessage(err)}); create it, or name an existing one with --bucket (${ENDPOINT_ENV.bucket})`,
    );
  } finally {
    client.destroy();
  }
}

/** Postgres's SQLSTATE of a failed login, with the fix (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const PG_LOGIN_FIXES: Readonly<Record<string, string>> = {
  '28P01': 'check PGPASSWORD (the password is read from the environment, never from a flag)',
  '28000': "check the user and the server's pg_hba.conf for this client",
  '3D000': 'create the database, or name an existing one in the URL',
};

async function postgresLogin(
  target: Extract<WarehouseTarget, { kind: 'postgres' }> & { setting: string },
  failures: string[],
): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ ...target.connection, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const fix = PG_LOGIN_FIXES[code];
    failures.push(
      fix
        ? `Postgres at ${target.display} (${target.setting}) refused the login: ${errorMessage(err)}; ${fix}`
        : `Postgres at ${target.display} (${target.setting}) is unreachable: ${networkCause(err)}; check the host and port and that the server runs and accepts TCP connections`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function networkCause(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string }; errors?: { code?: string }[] };
  return e.code ?? e.cause?.code ?? e.errors?.[0]?.code ?? errorMessage(err);
}
