/**
 * The environment contracts: each function's variables are declared once (lambdas/<fn>/env.ts); the stacks
 * write them through the contract and the handlers read them through it. Checked here on the contracts
 * themselves and on what `cdk synth` writes into every function of both environments.
 */
import { describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { consumerEnv } from '../../lambdas/consumer/env.ts';
import { loaderEnv } from '../../lambdas/loader/env.ts';
import { plannerEnv } from '../../lambdas/planner/env.ts';
import { producerEnv } from '../../lambdas/producer/env.ts';
import { publisherEnv } from '../../lambdas/publisher/env.ts';
import { reconcileEnv } from '../../lambdas/reconcile/env.ts';
import { topicAdminEnv } from '../../lambdas/topic-admin/handler.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { SNOWFLAKE_ENV } from '../../lambdas/core/warehouse/config.ts';
import { buildApp } from '../../lib/app.ts';
import { loadConfig, type EnvironmentName } from '../../lib/config/environments.ts';

const CONTRACTS = {
  Planner: plannerEnv,
  Loader: loaderEnv,
  Reconcile: reconcileEnv,
  Publisher: publisherEnv,
  Consumer: consumerEnv,
  Producer: producerEnv,
  'Topic/AdminFunction': topicAdminEnv,
} as const;

/** Read by Powertools and the Node.js runtime, set for every function by MdsFunction. */
const COMMON = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'NODE_OPTIONS'];
/** Read by warehouseConfigFromEnv. */
const WAREHOUSE = ['WAREHOUSE', 'SNOWFLAKE_SCHEMA', ...Object.values(SNOWFLAKE_ENV)];

describe('an environment contract', () => {
  it('names a missing or bad variable and the fix', () => {
    expect(() => plannerEnv.read({ MAX_WINDOW_DAYS: '31' })).toThrow(ConfigError);
    expect(() => plannerEnv.read({ MAX_WINDOW_DAYS: '31' })).toThrow(
      /^LOOKBACK_HOURS: is not set\. Set it to/,
    );
    expect(() => plannerEnv.read({ MAX_WINDOW_DAYS: '31', LOOKBACK_HOURS: '24h' })).toThrow(
      /^LOOKBACK_HOURS: "24h" is not a whole number from 0 to 168/,
    );
    expect(plannerEnv.read({ MAX_WINDOW_DAYS: '31', LOOKBACK_HOURS: '24' })).toEqual({
      MAX_WINDOW_DAYS: 31,
      LOOKBACK_HOURS: 24,
    });
    expect(() => consumerEnv.read({ BUCKET_NAME: 'b', GZIP_LEVEL: '0' })).toThrow(/^GZIP_LEVEL: "0"/);
    expect(() => producerEnv.read({ KAFKA_BROKERS: 'b:1', KAFKA_AUTH: 'sasl' })).toThrow(
      /^KAFKA_AUTH: "sasl" is not one of iam, plaintext/,
    );
  });

  it('refuses at synth a variable the function does not read, a bad value, or a required one left out', () => {
    expect(() => consumerEnv.write({ BUCKET_NAME: 'b', KAFKA_TOPIC: 't' } as never)).toThrow(
      /^KAFKA_TOPIC: is not read by the consumer function/,
    );
    expect(() => plannerEnv.write({ MAX_WINDOW_DAYS: 0, LOOKBACK_HOURS: 24 })).toThrow(
      /^MAX_WINDOW_DAYS: "0"/,
    );
    expect(() => plannerEnv.write({ MAX_WINDOW_DAYS: 31 })).toThrow(/^LOOKBACK_HOURS: is not set/);
    // A token is resolved at deploy, and checked when the function reads it.
    expect(publisherEnv.write({ BUCKET_NAME: '${Token[TOKEN.42]}' })).toEqual({
      BUCKET_NAME: '${Token[TOKEN.42]}',
    });
  });
});

describe.each(['dev', 'prod'] as const)('what cdk synth writes (%s)', (envName: EnvironmentName) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildApp(app, { envName, config: loadConfig(envName), nag: false });
  const functions = [
    ['Planner', stacks.pipeline.planner],
    ['Loader', stacks.pipeline.loader],
    ['Reconcile', stacks.pipeline.reconcile],
    ['Publisher', stacks.pipeline.publisher],
    ['Consumer', stacks.ingest.consumer],
    ['Producer', stacks.ingest.producer],
    ['Topic/AdminFunction', stacks.streaming.topic.handler],
  ] as const;

  it.each(functions)(
    '%s: every variable is one its contract (or Powertools, or the warehouse) reads',
    (id, fn) => {
      const template = Template.fromStack(fn.stack).toJSON() as {
        Resources: Record<string, { Properties?: { Environment?: { Variables?: Record<string, unknown> } } }>;
      };
      const logicalId = fn.stack.getLogicalId(fn.node.defaultChild as never);
      const variables = Object.keys(template.Resources[logicalId]?.Properties?.Environment?.Variables ?? {});
      const allowed = new Set([
        ...Object.keys(CONTRACTS[id].variables),
        ...COMMON,
        ...(id === 'Loader' || id === 'Reconcile' ? WAREHOUSE : []),
      ]);
      expect(variables.filter((v) => !allowed.has(v))).toEqual([]);
    },
  );
});
