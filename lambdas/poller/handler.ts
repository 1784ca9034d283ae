/**
 * The Spotify recently-played poller Lambda, on its own EventBridge Scheduler schedule: one poll of every
 * connected user per invocation (poll.ts). Thin wiring only: configuration, stores, the Kafka producer
 * (connected once per execution environment), the Spotify client with the invocation's remaining time as its
 * budget for waiting, logging and metrics.
 *
 * Metrics (Powertools EMF, one set per invocation): UsersPolled, PlaysProduced, PlaysLeftOut, InvalidGrant
 * (users skipped for an expired consent; alarmed), PossibleGaps (users with a full page since their cursor;
 * alarmed), UsersFailed (any other failure of one user; alarmed).
 *
 * Environment (env.ts): KAFKA_BROKERS, KAFKA_TOPIC, KAFKA_AUTH, AWS_REGION, SPOTIFY_API_BASE_URL,
 * SPOTIFY_ACCOUNTS_BASE_URL, SPOTIFY_STATE_STORE (aws | file), SPOTIFY_DATA_DIR, CURSOR_TABLE,
 * CLIENT_SECRET_ID, TOKENS_SECRET_ID, TIME_MARGIN_SECONDS.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Producer } from 'kafkajs';
import { ConfigError } from '../core/errors.ts';
import { createKafka, createProducer, kafkaSettings } from '../core/kafka.ts';
import { SpotifyClient } from '../core/spotify/client.ts';
import { pollerEnv } from './env.ts';
import { pollAll, type PollSummary } from './poll.ts';
import {
  DynamoCursorStore,
  FileCursorStore,
  FileTokenStore,
  localSpotifyPaths,
  SecretsTokenStore,
  type CursorStore,
  type TokenStore,
} from './stores.ts';

export type { PollSummary, UserPollResult } from './poll.ts';

export interface PollerConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly iamRegion: string | null;
  readonly apiBaseUrl: string;
  readonly accountsBaseUrl: string;
  readonly marginMs: number;
  readonly store:
    | { readonly kind: 'file'; readonly dataDir: string }
    | {
        readonly kind: 'aws';
        readonly table: string;
        readonly clientSecretId: string;
        readonly tokensSecretId: string;
      };
}

export function pollerConfig(env: NodeJS.ProcessEnv): PollerConfig {
  const c = pollerEnv.read(env);
  const { brokers, iamRegion } = kafkaSettings(c);
  const required = (
    name: 'SPOTIFY_DATA_DIR' | 'CURSOR_TABLE' | 'CLIENT_SECRET_ID' | 'TOKENS_SECRET_ID',
  ): string => {
    if (!c[name]) {
      throw new ConfigError(
        name,
        `is not set (SPOTIFY_STATE_STORE=${c.SPOTIFY_STATE_STORE})`,
        `Set it to ${pollerEnv.variables[name].description}`,
      );
    }
    return c[name];
  };
  return {
    brokers,
    topic: c.KAFKA_TOPIC,
    iamRegion,
    apiBaseUrl: c.SPOTIFY_API_BASE_URL,
    accountsBaseUrl: c.SPOTIFY_ACCOUNTS_BASE_URL,
    marginMs: c.TIME_MARGIN_SECONDS * 1000,
    store:
      c.SPOTIFY_STATE_STORE === 'file'
        ? { kind: 'file', dataDir: required('SPOTIFY_DATA_DIR') }
        : {
            kind: 'aws',
            table: required('CURSOR_TABLE'),
            clientSecretId: required('CLIENT_SECRET_ID'),
            tokensSecretId: required('TOKENS_SECRET_ID'),
          },
  };
}

function stores(config: PollerConfig): { cursors: CursorStore; tokens: TokenStore } {
  if (config.store.kind === 'file') {
    const paths = localSpotifyPaths(config.store.dataDir);
    return { cursors: new FileCursorStore(paths.cursors), tokens: new FileTokenStore(paths.tokens) };
  }
  return {
    cursors: new DynamoCursorStore(new DynamoDBClient({}), config.store.table),
    tokens: new SecretsTokenStore(
      new SecretsManagerClient({}),
      config.store.clientSecretId,
      config.store.tokensSecretId,
    ),
  };
}

interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export interface PollerDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export function createPollerHandler(
  deps: PollerDeps = {},
): (event: unknown, context?: LambdaContext) => Promise<PollSummary> {
  const logger = deps.logger ?? new Logger({ serviceName: 'spotify-poller' });
  const metrics = deps.metrics ?? new Metrics();
  const accessTokens = new Map<string, { token: string; expiresAt: number }>();
  let config: PollerConfig | undefined;
  let connected: Promise<Producer> | undefined;
  return async (_event, context) => {
    config ??= pollerConfig(deps.env ?? process.env);
    const c = config;
    const { cursors, tokens } = stores(c);
    const remainingMs = () =>
      context ? context.getRemainingTimeInMillis() - c.marginMs : Number.POSITIVE_INFINITY;
    const client = new SpotifyClient({
      apiBaseUrl: c.apiBaseUrl,
      accountsBaseUrl: c.accountsBaseUrl,
      remainingMs,
    });
    const producer = () =>
      (connected ??= (async () => {
        const kafka = createKafka({
          brokers: c.brokers,
          clientId: 'mds-spotify-poller',
          iamAuth: c.iamRegion ? { region: c.iamRegion } : undefined,
          logger,
          retries: 3,
        });
        const p = createProducer(kafka);
        await p.connect();
        return p;
      })());
    try {
      const summary = await pollAll({
        client,
        tokens,
        cursors,
        producer,
        topic: c.topic,
        brokers: c.brokers,
        accessTokens,
        log: (message, extra) => logger.info(message, extra),
      });
      for (const r of summary.results) {
        if (r.status === 'invalid_grant')
          logger.warn('user skipped: consent expired', { userId: r.userId, error: r.message });
        if (r.status === 'failed') logger.error('user not polled', { userId: r.userId, error: r.message });
      }
      if (summary.results.some((r) => r.status === 'failed' && /Kafka at /.test(r.message ?? ''))) {
        // A broken connection is not reused: the next invocation connects afresh.
        const broken = connected;
        connected = undefined;
        void broken?.then((p) => p.disconnect()).catch(() => undefined);
      }
      metrics.addMetric('UsersPolled', MetricUnit.Count, summary.polled);
      metrics.addMetric('PlaysProduced', MetricUnit.Count, summary.plays);
      metrics.addMetric('PlaysLeftOut', MetricUnit.Count, summary.leftOut);
      metrics.addMetric('InvalidGrant', MetricUnit.Count, summary.invalidGrant);
      metrics.addMetric('PossibleGaps', MetricUnit.Count, summary.possibleGaps);
      metrics.addMetric('UsersFailed', MetricUnit.Count, summary.failed);
      logger.info('poll done', { ...summary, results: undefined });
      return summary;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = createPollerHandler();
