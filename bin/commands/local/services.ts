/**
 * The local services `mds local up` and `mds run` start: their flags (data directory, ports, cloud assembly,
 * and the external endpoints that replace the embedded broker, S3 server or warehouse), and one session on
 * them that holds the data directory's lock and closes everything it opened.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { LOCAL_DEFAULTS, DEFAULT_DATA_DIR, localPaths } from '../../../localstack/paths.ts';
import { acquireLock, type Lock } from '../../../localstack/state.ts';
// The pipeline modules pull in Kafka, DuckDB, the AWS SDK and the CDK: they are loaded when a command runs,
// so `mds --help` and the other commands start fast.
import type { LocalServices } from '../../../localstack/pipeline/services.ts';
import {
  ENDPOINT_ENV,
  resolveEndpoints,
  type EndpointFlags,
  type Endpoints,
} from '../../../localstack/pipeline/endpoint-settings.ts';
import { parsePort } from '../cli-util.ts';
import { diskFullFailure } from '../disk-full.ts';

export interface ServiceFlags extends EndpointFlags {
  readonly data: string;
  readonly brokerPort: number;
  readonly s3Port: number;
  /** A cloud assembly folder (`cdk synth -c env=dev -o <dir>`); default: synthesized and cached. */
  readonly assembly?: string;
}

export function addServiceOptions(cmd: Command): Command {
  return cmd
    .option(
      '--data <dir>',
      'local data directory (broker logs, S3 objects, warehouse, runs); one mds process at a time uses it',
      DEFAULT_DATA_DIR,
    )
    .option(
      '--broker-port <port>',
      'local Kafka broker port (0 picks a free port)',
      (v) => parsePort(v, '--broker-port'),
      LOCAL_DEFAULTS.brokerPort,
    )
    .option(
      '--s3-port <port>',
      'local S3 server port (0 picks a free port)',
      (v) => parsePort(v, '--s3-port'),
      LOCAL_DEFAULTS.s3Port,
    )
    .option(
      '--brokers <host:port,...>',
      `an external Kafka cluster's bootstrap brokers instead of the local broker (env ${ENDPOINT_ENV.brokers}); the topic is created when missing`,
    )
    .option(
      '--s3-endpoint <url>',
      `an external S3-API server instead of the local one (env ${ENDPOINT_ENV.s3Endpoint}); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE`,
    )
    .option(
      '--bucket <name>',
      `the bucket for bronze/, quarantine/ and runs/ (env ${ENDPOINT_ENV.bucket}; default ${LOCAL_DEFAULTS.bucket}); created when missing`,
    )
    .option(
      '--warehouse <target>',
      `duckdb:FILE or postgres://USER@HOST:PORT/DB (env ${ENDPOINT_ENV.warehouse}; default the DuckDB file in --data); the password from PGPASSWORD, never a flag`,
    )
    .option(
      '--assembly <dir>',
      'run the functions and state machine of this cloud assembly (the output of cdk synth -c env=dev -o <dir>) ' +
        'instead of synthesizing the sources; a folder with no assembly, or one older than a source file, ' +
        'stops before anything starts',
    );
}

/** Runs `fn` on freshly started local services, holding the data directory's lock; closes both after. */
export async function withServices<T>(
  flags: ServiceFlags,
  what: string,
  fn: (services: LocalServices, lock: Lock) => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(flags.data, what);
  const { startLocalServices } = await import('../../../localstack/pipeline/services.ts');
  const { assertAssemblyFresh, readAssembly } = await import('../../../localstack/lambda/assembly.ts');
  let services: LocalServices | undefined;
  try {
    const endpoints = serviceEndpoints(flags);
    const assembly = flags.assembly ? readAssembly(path.resolve(flags.assembly), 'dev') : undefined;
    if (assembly) assertAssemblyFresh(assembly);
    services = await startLocalServices({
      dataDir: flags.data,
      brokerPort: flags.brokerPort,
      s3Port: flags.s3Port,
      assembly,
      endpoints,
    });
    await lock.update({ broker: services.broker.bootstrap, s3: services.s3Server.endpoint });
    return await fn(services, lock);
  } catch (err) {
    throw diskFullFailure(err, localPaths(flags.data).root, what) ?? err;
  } finally {
    await services?.close();
    await lock.release();
  }
}

/** The external endpoints of the flags, or of the environment (a flag wins); a bad value is a UsageError. */
export function serviceEndpoints(flags: EndpointFlags): Endpoints {
  return resolveEndpoints(flags, process.env);
}
