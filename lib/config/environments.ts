/**
 * Typed per-environment settings of the CDK app, validated at synth.
 *
 * `bin/app.ts` picks one environment by name (`-c env=prod`), deep-merges the overrides found in the
 * context key `mds:<env>` (from cdk.json or `-c 'mds:prod={"schedule":{"enabled":false}}'`) and
 * validates the result. A wrong setting stops synth with a ConfigError that names the setting path and
 * the allowed values. Stacks never read configuration themselves: they receive these values as props.
 */
import { z } from 'zod';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { SnowflakeSettingsSchema } from '../../lambdas/core/warehouse/config.ts';

export const ENVIRONMENT_NAMES = ['dev', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const isIanaTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

// EventBridge Scheduler expressions: cron with six fields, rate(n unit) or a one-off at(...).
const SCHEDULE_EXPRESSION =
  /^(cron\((\S+\s+){5}\S+\)|rate\(([1-9]\d*)\s+(minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$/;
const scheduleExpression = z.string().regex(SCHEDULE_EXPRESSION, {
  message: "is not an EventBridge Scheduler expression; use e.g. 'cron(5 * * * ? *)' or 'rate(1 hour)'",
});

// The Spotify base URLs: https, without a trailing slash (tests point them at a local server).
const httpUrl = z.string().regex(/^https:\/\/[^\s/]+(\/[^\s]*[^\s/])?$/, {
  message: "is not an https URL without a trailing '/', e.g. 'https://api.spotify.com'",
});

const int = (min: number, max: number) =>
  z
    .number()
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be between ${min} and ${max}` })
    .max(max, { message: `must be between ${min} and ${max}` });

// Kafka topic and consumer group names: legal characters and length.
const kafkaName = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, { message: 'must be 1-249 characters of a-z, A-Z, 0-9, ".", "_", "-"' });

const mskSchema = z
  .strictObject({
    /** Serverless bills per partition-hour and GB; provisioned bills per broker-hour. */
    mode: z.enum(['serverless', 'provisioned']),
    /** Provisioned only. */
    kafkaVersion: z.string().regex(/^\d+\.\d+\.\d+$/, { message: "must look like '3.6.0'" }),
    brokerInstanceType: z.enum([
      'kafka.t3.small',
      'kafka.m5.large',
      'kafka.m5.xlarge',
      'kafka.m7g.large',
      'kafka.m7g.xlarge',
    ]),
    /** Provisioned only; a multiple of the number of availability zones. */
    brokerCount: int(2, 30),
    /** Provisioned only: EBS storage per broker. */
    volumeSizeGiB: int(1, 16384),
  })
  .superRefine((msk, ctx) => {
    if (msk.mode === 'provisioned' && msk.brokerCount % 2 !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['brokerCount'],
        input: msk.brokerCount,
        message: `is not a multiple of the 2 availability zones; use 2, 4, 6, ...`,
      });
    }
  });

export const environmentConfigSchema = z.strictObject({
  /** Pin the stacks to an account and region; leave both out for environment-agnostic stacks. */
  account: z
    .string()
    .regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account id' })
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: "must be an AWS region such as 'eu-west-1'" })
    .optional(),
  network: z
    .strictObject({
      /**
       * NAT gateways: the private subnets' only way to the internet. The dbt task needs it for Snowflake,
       * so at least 1 (2 keep egress up when an availability zone is down).
       */
      natGateways: int(0, 2),
      /** Interface endpoints (STS, Lambda, ECR, Logs, Secrets Manager) so traffic to AWS stays private. */
      interfaceEndpoints: z.boolean(),
    })
    .superRefine((network, ctx) => {
      // Without NAT the PRIVATE_WITH_EGRESS subnets have no default route. Snowflake is on the internet
      // (only Snowflake's own PrivateLink, not configured here, avoids that), so the dbt task cannot run.
      // Without interface endpoints as well, nothing reaches AWS APIs either: Fargate pulls images through
      // ECR's API and registry (plus S3 for layers; AWS re:Post "ECS Fargate DockerTimeoutError"), and
      // the MSK event source mapping needs Lambda and STS through NAT or endpoints (Lambda developer
      // guide, "Configuring your Amazon MSK cluster and Amazon VPC network for Lambda").
      if (network.natGateways === 0) {
        const alsoAws = network.interfaceEndpoints
          ? ''
          : ', and with interfaceEndpoints false nothing reaches AWS APIs either: Fargate cannot pull the dbt image from ECR and the MSK event source mapping cannot reach Lambda and STS';
        ctx.addIssue({
          code: 'custom',
          path: ['natGateways'],
          input: network.natGateways,
          message: `leaves the private subnets without a route out: the dbt task cannot reach Snowflake on the internet${alsoAws}; use 1 or 2 (one NAT gateway is the cheaper choice for dev)`,
        });
      }
    }),
  msk: mskSchema,
  topic: kafkaName,
  partitions: int(1, 1000),
  consumer: z.strictObject({
    /** Records per Lambda invocation (the event source mapping's BatchSize). */
    batchSize: int(1, 10_000),
    /** Seconds the mapping waits to fill a batch (MaximumBatchingWindowInSeconds). */
    batchingWindowSeconds: int(0, 300),
    startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']),
    groupId: kafkaName,
    /**
     * Retries of a failed batch (halved each time) before its offsets go to the on-failure queue
     * (MaximumRetryAttempts; Lambda accepts 0-10000).
     */
    retryAttempts: int(0, 10_000),
    /**
     * The mapping runs in provisioned poller mode with at least one poller and at most this many;
     * each handles up to 5 MB/s. More than the topic's partitions would stay idle.
     */
    maximumPollers: int(1, 2000),
    /**
     * The plausible event times: an event stamped before `earliestEventTime` (an ISO-8601 instant), or more
     * than `maxEventAheadMinutes` after its record's Kafka timestamp, is quarantined with the reason.
     */
    earliestEventTime: z.iso.datetime({
      offset: true,
      message: "must be an ISO-8601 instant with a zone, e.g. '2008-10-07T00:00:00Z'",
    }),
    maxEventAheadMinutes: int(0, 10_080),
  }),
  producer: z.strictObject({
    /** The simulated producer; turn it off when real events arrive. */
    enabled: z.boolean(),
    schedule: scheduleExpression,
    eventsPerInvocation: int(1, 1_000_000),
  }),
  /** Real listening data from Spotify (docs/spotify.md). */
  spotify: z.strictObject({
    /** The recently-played poller: off until a Spotify app and a user are connected (mds spotify login --env). */
    poller: z.strictObject({
      enabled: z.boolean(),
      /** Spotify keeps a user's last 50 plays: poll well within 50 tracks (about 2.5 hours of music). */
      schedule: scheduleExpression,
      apiBaseUrl: httpUrl,
      accountsBaseUrl: httpUrl,
    }),
    /** The streaming-history import: exports uploaded under imports/ of the Bronze bucket (docs/streaming-history.md). */
    import: z.strictObject({
      enabled: z.boolean(),
      /** The function's memory: one export file's events (about 12 MB of JSON) and CPU for parsing. */
      memoryMiB: int(512, 10_240),
      /** One upload (a whole zip) per invocation; Lambda's limit is 15 minutes. */
      timeoutMinutes: int(1, 15),
    }),
  }),
  schedule: z.strictObject({
    expression: scheduleExpression,
    timeZone: z.string().refine(isIanaTimeZone, {
      message: "is not an IANA time zone; use e.g. 'UTC' or 'Europe/Berlin'",
    }),
    enabled: z.boolean(),
  }),
  workflow: z.strictObject({
    /** Hours before the window whose late-arriving Bronze objects the loader also picks up. */
    lookbackHours: int(0, 168),
    /** The longest window a backfill may ask for, in days. */
    maxWindowDays: int(1, 366),
    /** The dbt Fargate task's size. */
    dbtCpu: z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)], {
      message: 'must be one of 256, 512, 1024, 2048, 4096 (Fargate CPU units)',
    }),
    dbtMemoryMiB: int(512, 30_720),
  }),
  warehouse: z.strictObject({
    kind: z.literal('snowflake'),
    // account, user, role, warehouse, database, schema, stage: validated as the functions validate them.
    ...SnowflakeSettingsSchema.shape,
    /**
     * The principal Snowflake's storage integration assumes the role with: STORAGE_AWS_IAM_USER_ARN and
     * STORAGE_AWS_EXTERNAL_ID from `DESC INTEGRATION`. Until they are known, the role trusts this account.
     */
    storageIntegration: z.strictObject({
      principalArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/.+$/, {
          message: 'must be an IAM user or role ARN (STORAGE_AWS_IAM_USER_ARN)',
        })
        .optional(),
      externalId: z
        .string()
        .min(2, { message: 'must be the STORAGE_AWS_EXTERNAL_ID, at least 2 characters' }),
    }),
  }),
  /** Alarms and failed runs notify this address (a confirmation mail arrives first). */
  alarmEmail: z.email({ message: 'must be an e-mail address' }).optional(),
  retention: z
    .strictObject({
      bronzeInfrequentAccessDays: int(30, 3650),
      bronzeGlacierDays: int(31, 3650),
      /** Delete Bronze objects after this many days; leave out to keep them forever. */
      bronzeExpireDays: int(1, 36_500).optional(),
      quarantineExpireDays: int(1, 3650),
      logRetentionDays: z.union(
        LOG_RETENTION_DAYS.map((d) => z.literal(d)),
        { message: `must be one of ${LOG_RETENTION_DAYS.join(', ')} (CloudWatch Logs retention days)` },
      ),
    })
    .superRefine((r, ctx) => {
      if (r.bronzeGlacierDays <= r.bronzeInfrequentAccessDays) {
        ctx.addIssue({
          code: 'custom',
          path: ['bronzeGlacierDays'],
          input: r.bronzeGlacierDays,
          message: `must be later than bronzeInfrequentAccessDays (${r.bronzeInfrequentAccessDays})`,
        });
      }
      if (r.bronzeExpireDays !== undefined && r.bronzeExpireDays <= r.bronzeGlacierDays) {
        ctx.addIssue({
          code: 'custom',
          path: ['bronzeExpireDays'],
          input: r.bronzeExpireDays,
          message: `must be later than bronzeGlacierDays (${r.bronzeGlacierDays})`,
        });
      }
    }),
});

export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;
export type EnvironmentSettings = z.input<typeof environmentConfigSchema>;

const dev: EnvironmentSettings = {
  network: { natGateways: 1, interfaceEndpoints: false },
  msk: {
    mode: 'serverless',
    kafkaVersion: '3.6.0',
    brokerInstanceType: 'kafka.t3.small',
    brokerCount: 2,
    volumeSizeGiB: 100,
  },
  topic: 'spotify-events',
  partitions: 6,
  consumer: {
    batchSize: 1000,
    batchingWindowSeconds: 10,
    startingPosition: 'TRIM_HORIZON',
    groupId: 'bronze-writer',
    retryAttempts: 2,
    maximumPollers: 1,
    // Spotify opened to the public on this day: no listening history is older.
    earliestEventTime: '2008-10-07T00:00:00Z',
    maxEventAheadMinutes: 60,
  },
  producer: { enabled: true, schedule: 'rate(1 minute)', eventsPerInvocation: 600 },
  spotify: {
    poller: {
      enabled: false,
      schedule: 'rate(15 minutes)',
      apiBaseUrl: 'https://api.spotify.com',
      accountsBaseUrl: 'https://accounts.spotify.com',
    },
    import: { enabled: true, memoryMiB: 1024, timeoutMinutes: 15 },
  },
  schedule: { expression: 'cron(5 * * * ? *)', timeZone: 'UTC', enabled: true },
  workflow: { lookbackHours: 24, maxWindowDays: 31, dbtCpu: 512, dbtMemoryMiB: 1024 },
  warehouse: {
    kind: 'snowflake',
    account: 'xy12345.eu-west-1',
    user: 'MDS_LOADER',
    role: 'MDS_DEV',
    warehouse: 'MDS_XS',
    database: 'MDS_DEV',
    schema: 'BRONZE',
    stage: 'BRONZE_STAGE',
    storageIntegration: { externalId: 'mds-dev-pending' },
  },
  retention: {
    bronzeInfrequentAccessDays: 30,
    bronzeGlacierDays: 90,
    bronzeExpireDays: 365,
    quarantineExpireDays: 30,
    logRetentionDays: 14,
  },
};

const prod: EnvironmentSettings = {
  ...dev,
  network: { natGateways: 2, interfaceEndpoints: true },
  partitions: 12,
  // At production rates, full batches: about 5,000 events per partition and minute, objects of ~325 KiB
  // gzipped (over the 128 KiB below which S3 lifecycle tiering does not move objects), a sixth of the
  // invocations and PUTs of 1,000 / 10 s. Bronze is loaded hourly, so a minute of landing latency is free.
  consumer: { ...dev.consumer, batchSize: 10_000, batchingWindowSeconds: 60, maximumPollers: 2 },
  producer: { enabled: false, schedule: 'rate(1 minute)', eventsPerInvocation: 60_000 },
  workflow: { lookbackHours: 24, maxWindowDays: 92, dbtCpu: 1024, dbtMemoryMiB: 2048 },
  warehouse: {
    ...dev.warehouse,
    role: 'MDS_PROD',
    warehouse: 'MDS_S',
    database: 'MDS_PROD',
    storageIntegration: { externalId: 'mds-prod-pending' },
  },
  retention: {
    bronzeInfrequentAccessDays: 30,
    bronzeGlacierDays: 180,
    quarantineExpireDays: 90,
    logRetentionDays: 90,
  },
};

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, EnvironmentSettings>> = { dev, prod };

type Json = unknown;

/** Deep merge for plain objects; arrays and scalars in `override` replace the base value. */
export function deepMerge(base: Json, override: Json): Json {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The validated settings of one environment.
 * @param name the environment (context `env`); must be one of ENVIRONMENT_NAMES
 * @param overrides settings deep-merged over the environment's (an object, or JSON text from `-c`)
 * @throws ConfigError naming the first wrong setting, its allowed values and how many more are wrong
 */
export function loadConfig(name: unknown, overrides?: unknown): EnvironmentConfig {
  if (typeof name !== 'string' || !(ENVIRONMENT_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(
      'env',
      `${JSON.stringify(name ?? null)} is not a known environment`,
      `Use -c env=${ENVIRONMENT_NAMES.join(' or -c env=')}.`,
    );
  }
  const env = name as EnvironmentName;
  let parsedOverrides: unknown = overrides;
  if (typeof overrides === 'string') {
    try {
      parsedOverrides = JSON.parse(overrides);
    } catch {
      throw new ConfigError(
        `mds:${env}`,
        'is not valid JSON',
        'Pass an object such as {"schedule":{"enabled":false}}.',
      );
    }
  }
  if (parsedOverrides !== undefined && !isPlainObject(parsedOverrides)) {
    throw new ConfigError(
      `mds:${env}`,
      'must be an object',
      'Pass an object such as {"schedule":{"enabled":false}}.',
    );
  }
  const merged = deepMerge(ENVIRONMENTS[env], parsedOverrides);
  const result = environmentConfigSchema.safeParse(merged, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map(describeIssue);
  const [first, ...rest] = problems;
  const more = rest.length > 0 ? ` Also: ${rest.map((p) => `${p.setting}: ${p.problem}`).join('; ')}.` : '';
  throw new ConfigError(
    first!.setting,
    first!.problem,
    `Fix it in lib/config or in the context key mds:${env}.${more}`,
  );
}

function describeIssue(issue: z.core.$ZodIssue): { setting: string; problem: string } {
  const setting = issue.path.map(String).join('.') || '(root)';
  const shown = 'input' in issue && issue.input !== undefined ? `${JSON.stringify(issue.input)} ` : '';
  switch (issue.code) {
    case 'invalid_value':
      return {
        setting,
        problem: `${shown}is not allowed; use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'unrecognized_keys':
      return {
        setting: setting === '(root)' ? issue.keys.join(', ') : `${setting}.${issue.keys.join(', ')}`,
        problem: 'is not a known setting; check its spelling',
      };
    case 'invalid_type':
      return { setting, problem: issue.input === undefined ? 'is required' : `${shown}${issue.message}` };
    default:
      return { setting, problem: `${shown}${issue.message}` };
  }
}
