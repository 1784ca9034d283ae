/**
 * The scheduled producer Lambda: each invocation simulates EVENTS_PER_INVOCATION listening events whose
 * send times fall in the WINDOW_SECONDS before the invocation and sends them to KAFKA_TOPIC. The kafkajs
 * producer is connected once per execution environment and reused by later invocations.
 *
 * Environment: KAFKA_BROKERS (comma-separated), KAFKA_TOPIC (default spotify-events), EVENTS_PER_INVOCATION
 * (default 600), WINDOW_SECONDS (default 60), KAFKA_AUTH (`iam`, the default: TLS + MSK IAM; `plaintext`
 * for the local broker), AWS_REGION (for the IAM token).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Kafka, Producer } from 'kafkajs';
import { ConfigError } from '../shared/errors.ts';
import { createKafka, createProducer } from '../shared/kafka.ts';
import { simulate } from '../shared/simulator/index.ts';
import { kafkaFailure, produceRecords, type ProduceResult } from './produce.ts';

export interface ProducerConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly eventsPerInvocation: number;
  readonly windowSeconds: number;
  readonly iamRegion: string | null;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(
      name,
      `must be a positive integer, got "${raw}"`,
      'Fix the producer settings in lib/config.',
    );
  }
  return n;
}

export function producerConfig(env: NodeJS.ProcessEnv): ProducerConfig {
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) {
    throw new ConfigError(
      'KAFKA_BROKERS',
      'is empty',
      'Set it to the comma-separated host:port list of the brokers.',
    );
  }
  const auth = env.KAFKA_AUTH ?? 'iam';
  if (auth !== 'iam' && auth !== 'plaintext') {
    throw new ConfigError('KAFKA_AUTH', `must be "iam" or "plaintext", got "${auth}"`, 'Use iam for MSK.');
  }
  const region = env.AWS_REGION ?? '';
  if (auth === 'iam' && !region) {
    throw new ConfigError(
      'AWS_REGION',
      'is not set',
      'MSK IAM tokens are signed for a region; set AWS_REGION.',
    );
  }
  return {
    brokers,
    topic: env.KAFKA_TOPIC || 'spotify-events',
    eventsPerInvocation: positiveInt(env, 'EVENTS_PER_INVOCATION', 600),
    windowSeconds: positiveInt(env, 'WINDOW_SECONDS', 60),
    iamRegion: auth === 'iam' ? region : null,
  };
}

export interface ProducerDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly kafka?: Kafka;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

export function createProducerHandler(deps: ProducerDeps = {}): () => Promise<ProduceResult> {
  const logger = deps.logger ?? new Logger({ serviceName: 'producer' });
  let connected: Promise<Producer> | undefined;
  return async () => {
    const config = producerConfig(deps.env ?? process.env);
    const now = (deps.now ?? (() => new Date()))();
    connected ??= (async () => {
      const kafka =
        deps.kafka ??
        createKafka({
          brokers: config.brokers,
          clientId: 'mds-producer',
          iamAuth: config.iamRegion ? { region: config.iamRegion } : undefined,
          logger,
        });
      const p = createProducer(kafka);
      await p.connect();
      return p;
    })();
    try {
      const producer = await connected;
      const run = simulate({
        seed: Math.floor(now.getTime() / 1000),
        events: config.eventsPerInvocation,
        start: new Date(now.getTime() - config.windowSeconds * 1000),
        end: now,
      });
      const result = await produceRecords(producer, config.topic, run.records());
      logger.info('events sent', { topic: config.topic, sent: result.sent, seconds: result.seconds });
      return result;
    } catch (err) {
      // A broken connection is not reused: the next invocation connects afresh.
      const broken = connected;
      connected = undefined;
      void broken.then((p) => p.disconnect()).catch(() => undefined);
      throw kafkaFailure(err, config.brokers, config.topic);
    }
  };
}

export const handler = createProducerHandler();
