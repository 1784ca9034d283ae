/**
 * How the assembly's functions run on the local stand-ins: each gets the environment its template sets, with
 * every CloudFormation reference resolved to a local value (the bucket's name, the local broker for the
 * cluster's bootstrap brokers, placeholder ARNs for the rest), the variables the Lambda service itself sets,
 * and a short, visible list of overrides that point the AWS SDK at the local servers (or the external ones
 * `mds local up` was given) and the warehouse at the DuckDB file or the Postgres server. Nothing else differs
 * from what deploys.
 */
import { MdsError } from '../../lambdas/core/errors.ts';
import { LocalResolver } from '../workflow/definition.ts';
import type { WarehouseTarget } from '../pipeline/warehouse-lease.ts';
import type { CloudAssembly, LambdaFunctionSpec } from './assembly.ts';
import type { LocalFunctionSetup, LocalLayer } from './runtime.ts';
import { LocalLambdaRuntime } from './runtime.ts';

export interface LocalEndpoints {
  readonly region: string;
  readonly bucket: string;
  readonly s3Endpoint: string;
  readonly snsEndpoint?: string;
  /** The local Step Functions endpoint (the publisher reads a failed execution there). */
  readonly sfnEndpoint?: string;
  /** The local broker's bootstrap address, for functions that talk to Kafka. */
  readonly kafkaBootstrap?: string;
  readonly warehouse: WarehouseTarget;
  /** The S3 server's credentials; @default s3rver's (the embedded S3 server accepts only those). */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Serializes the holders of the warehouse (see WarehouseLease). */
  readonly warehouseLock: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** Credentials the local servers accept (s3rver's defaults). */
const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

/** The local environment of one function, and the layers it gets. */
export function localFunctionSetup(
  assembly: CloudAssembly,
  spec: LambdaFunctionSpec,
  endpoints: LocalEndpoints,
): LocalFunctionSetup {
  const resolver = new LocalResolver(assembly.templates, endpoints.bucket, ({ attribute }) =>
    endpoints.kafkaBootstrap && /^BootstrapBroker/.test(attribute) ? endpoints.kafkaBootstrap : undefined,
  );
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.environment)) {
    let resolved: unknown;
    try {
      resolved = resolver.resolve(value, spec.stack);
    } catch (err) {
      throw new MdsError(
        `${spec.id}: its environment variable ${name} is ${JSON.stringify(value).slice(0, 160)}, which the local runtime cannot resolve (${(err as Error).message}); map the resource in localstack/lambda/local-functions.ts or set the variable to a plain value`,
        { cause: err },
      );
    }
    environment[name] = String(resolved);
  }
  // What the Lambda service sets in every execution environment.
  const service: Record<string, string> = {
    AWS_REGION: endpoints.region,
    AWS_DEFAULT_REGION: endpoints.region,
    AWS_LAMBDA_FUNCTION_NAME: spec.id,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMiB),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.id}`,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    ...(endpoints.credentials
      ? {
          AWS_ACCESS_KEY_ID: endpoints.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: endpoints.credentials.secretAccessKey,
          ...(endpoints.credentials.sessionToken
            ? { AWS_SESSION_TOKEN: endpoints.credentials.sessionToken }
            : {}),
        }
      : LOCAL_CREDENTIALS),
  };
  // The local stand-ins: standard AWS SDK variables, so the bundle's own clients reach them unchanged.
  const overrides: Record<string, string> = {
    AWS_ENDPOINT_URL_S3: endpoints.s3Endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    ...(endpoints.snsEndpoint ? { AWS_ENDPOINT_URL_SNS: endpoints.snsEndpoint } : {}),
    ...(endpoints.sfnEndpoint ? { AWS_ENDPOINT_URL_SFN: endpoints.sfnEndpoint } : {}),
  };
  const layers: LocalLayer[] = [];
  if ('WAREHOUSE' in environment) {
    const wh = endpoints.warehouse;
    if (wh.kind === 'duckdb') {
      overrides.WAREHOUSE = 'duckdb';
      overrides.DUCKDB_PATH = wh.path;
      // DuckDB's memory limit as this process has it (lambdas/core/warehouse/duckdb.ts), so that a larger or
      // smaller MDS_DUCKDB_MEMORY_LIMIT holds in the functions' instances too, not only in RunDbt's.
      const memoryLimit = process.env.MDS_DUCKDB_MEMORY_LIMIT;
      if (memoryLimit) overrides.MDS_DUCKDB_MEMORY_LIMIT = memoryLimit;
      layers.push({ name: 'duckdb', modules: ['@duckdb'], around: endpoints.warehouseLock });
    } else {
      // POSTGRES_URL carries no password: pg reads PGPASSWORD from the environment, as libpq does.
      const c = wh.connection;
      const url = new URL(
        `postgresql://${encodeURIComponent(c.user)}@${c.host}:${c.port}/${encodeURIComponent(c.database)}`,
      );
      if (c.ssl) url.searchParams.set('sslmode', 'require');
      overrides.WAREHOUSE = 'postgres';
      overrides.POSTGRES_URL = url.toString();
      if (c.password !== undefined) overrides.PGPASSWORD = c.password;
    }
  }
  if ('KAFKA_BROKERS' in environment) overrides.KAFKA_AUTH = 'plaintext';
  return {
    environment: { ...environment, ...service, ...overrides },
    overrides: Object.keys(overrides),
    layers,
  };
}

export interface StartLocalFunctionsOptions {
  readonly logDir: string;
  /** The construct ids to run; @default every function of the assembly with code of ours */
  readonly only?: readonly string[];
  /** Environments per function. */
  readonly concurrency?: Readonly<Record<string, number>>;
  /** Extra variables per function, applied last (e.g. a local batching setting), listed as overrides. */
  readonly extraEnvironment?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A runtime with the assembly's functions registered for the local stand-ins, and each one's init checked. */
export async function startLocalFunctions(
  assembly: CloudAssembly,
  endpoints: LocalEndpoints,
  options: StartLocalFunctionsOptions,
): Promise<LocalLambdaRuntime> {
  const runtime = new LocalLambdaRuntime({ logDir: options.logDir, region: endpoints.region });
  try {
    const wanted = options.only ?? assembly.functions.map((f) => f.id);
    for (const id of wanted) {
      const spec = assembly.functions.find((f) => f.id === id);
      if (!spec) {
        throw new MdsError(
          `the cloud assembly in ${assembly.dir} has no function ${id}; it has ${assembly.functions.map((f) => f.id).join(', ')}`,
        );
      }
      const setup = localFunctionSetup(assembly, spec, endpoints);
      const extra = options.extraEnvironment?.[id] ?? {};
      runtime.register(spec, {
        ...setup,
        environment: { ...setup.environment, ...extra },
        overrides: [...setup.overrides, ...Object.keys(extra)],
        concurrency: options.concurrency?.[id],
      });
    }
    await runtime.preflight();
    return runtime;
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
