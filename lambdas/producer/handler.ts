/**
 * The scheduled producer Lambda: each invocation simulates EVENTS_PER_INVOCATION listening events whose
 * send times fall in the WINDOW_SECONDS before the invocation and sends them to KAFKA_TOPIC. The kafkajs
 * producer is connected once per execution environment and reused by later invocations.
 *
 * Environment (env.ts): KAFKA_BROKERS (comma-separated), KAFKA_TOPIC (default spotify-events), EVENTS_PER_INVOCATION
 * (default 600), WINDOW_SECONDS (default 60), KAFKA_AUTH (`iam`, the default: TLS + MSK IAM; `plaintext`
 * for the local broker), AWS_REGION (for the IAM token).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Kafka, Producer } from 'kafkajs';
import { producerEnv } from './env.ts';
import { createKafka, createProducer, kafkaSettings } from '../core/kafka.ts';
import { simulate } from '../core/simulator/index.ts';
import { kafkaFailure, produceRecords, type ProduceResult } from '../core/produce.ts';

export interface ProducerConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly eventsPerInvocation: number;
  readonly windowSeconds: number;
  readonly iamRegion: string | null;
}

export function producerConfig(env: NodeJS.ProcessEnv): ProducerConfig {
  const c = producerEnv.read(env);
  const { brokers, iamRegion } = kafkaSettings(c);
  return {
    brokers,
    topic: c.KAFKA_TOPIC,
    eventsPerInvocation: c.EVENTS_PER_INVOCATION,
    windowSeconds: c.WINDOW_SECONDS,
    iamRegion,
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
