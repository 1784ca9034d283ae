import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { deepMerge, ENVIRONMENTS, loadConfig } from '../../lib/config/environments.ts';

/** The ConfigError loadConfig throws for these overrides of dev. */
function errorFor(overrides: unknown): ConfigError {
  try {
    loadConfig('dev', overrides);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig accepted the overrides');
}

describe('loadConfig', () => {
  it('returns both environments as configured', () => {
    // Act
    const dev = loadConfig('dev');
    const prod = loadConfig('prod');
    // Assess
    expect(dev.schedule).toEqual({ expression: 'cron(5 * * * ? *)', timeZone: 'UTC', enabled: true });
    expect(dev.msk.mode).toBe('serverless');
    expect(prod.producer.enabled).toBe(false);
    expect(dev.account).toBeUndefined();
  });

  it('deep-merges overrides from context, as an object or as JSON text', () => {
    const fromObject = loadConfig('prod', { schedule: { enabled: false } });
    const fromText = loadConfig('prod', '{"schedule":{"timeZone":"Europe/Berlin"}}');
    expect(fromObject.schedule).toEqual({ ...ENVIRONMENTS.prod.schedule, enabled: false });
    expect(fromText.schedule.timeZone).toBe('Europe/Berlin');
    expect(fromText.partitions).toBe(12);
  });

  it('names an unknown environment and the allowed ones', () => {
    expect(() => loadConfig('qa')).toThrow(
      'env: "qa" is not a known environment. Use -c env=dev or -c env=prod.',
    );
  });

  it.each([
    [
      { schedule: { timeZone: 'Mars/Base' } },
      'schedule.timeZone',
      `"Mars/Base" is not an IANA time zone; use e.g. 'UTC' or 'Europe/Berlin'`,
    ],
    [
      { schedule: { expression: 'every hour' } },
      'schedule.expression',
      "use e.g. 'cron(5 * * * ? *)' or 'rate(1 hour)'",
    ],
    [{ msk: { mode: 'huge' } }, 'msk.mode', 'use one of "serverless", "provisioned"'],
    [
      { msk: { mode: 'provisioned', brokerCount: 3 } },
      'msk.brokerCount',
      'not a multiple of the 2 availability zones',
    ],
    [{ consumer: { batchSize: 0 } }, 'consumer.batchSize', 'must be between 1 and 10000'],
    [
      { consumer: { startingPosition: 'EARLIEST' } },
      'consumer.startingPosition',
      'use one of "TRIM_HORIZON", "LATEST"',
    ],
    [
      { consumer: { earliestEventTime: '2008-10-07' } },
      'consumer.earliestEventTime',
      "must be an ISO-8601 instant with a zone, e.g. '2008-10-07T00:00:00Z'",
    ],
    [
      { consumer: { maxEventAheadMinutes: -1 } },
      'consumer.maxEventAheadMinutes',
      'must be between 0 and 10080',
    ],
    [{ retention: { logRetentionDays: 10 } }, 'retention.logRetentionDays', 'must be one of 1, 3, 5, 7, 14'],
    [
      { retention: { bronzeGlacierDays: 20 } },
      'retention.bronzeGlacierDays',
      'must be later than bronzeInfrequentAccessDays',
    ],
    [{ workflow: { dbtCpu: 300 } }, 'workflow.dbtCpu', 'must be one of 256, 512, 1024, 2048, 4096'],
    [{ account: '1234' }, 'account', 'must be a 12-digit AWS account id'],
    [{ alarmEmail: 'ops' }, 'alarmEmail', 'must be an e-mail address'],
    [{ shedule: {} }, 'shedule', 'is not a known setting'],
    [{ schedule: { enabled: 'yes' } }, 'schedule.enabled', 'expected boolean'],
    // The Snowflake settings are checked as the functions check them (lambdas/core/warehouse/config.ts), so a
    // value the Loader would refuse at its first run stops synth instead.
    [{ warehouse: { account: 'my account' } }, 'warehouse.account', 'must be an account identifier'],
    [{ warehouse: { role: 'MDS DEV' } }, 'warehouse.role', 'must be a plain SQL identifier'],
    [{ warehouse: { schema: 'bronze-tables' } }, 'warehouse.schema', 'must be a plain SQL identifier'],
    [{ warehouse: { stage: 'BRONZE.STAGE.X' } }, 'warehouse.stage', 'must be NAME or SCHEMA.NAME'],
  ])('rejects %j naming %s', (overrides, setting, problem) => {
    // Act
    const err = errorFor(overrides);
    // Assess
    expect(err.setting).toBe(setting);
    expect(err.message.startsWith(`${setting}: `)).toBe(true);
    expect(err.message).toContain(problem);
  });

  it.each([
    [{ network: { natGateways: 0, interfaceEndpoints: false } }, ['Snowflake', 'ECR', 'STS']],
    [{ network: { natGateways: 0, interfaceEndpoints: true } }, ['Snowflake']],
  ])('refuses %j: the private subnets would have no way to what they need', (overrides, reasons) => {
    // Act
    const err = errorFor(overrides);
    // Assess: the setting, why it cannot work, and the fix.
    expect(err.setting).toBe('network.natGateways');
    for (const reason of reasons) expect(err.message).toContain(reason);
    expect(err.message).toContain('use 1 or 2');
  });

  it('shows the wrong value of a cross-field check, not the whole object it belongs to', () => {
    expect(errorFor({ msk: { mode: 'provisioned', brokerCount: 3 } }).message).toMatch(
      /^msk\.brokerCount: 3 is not a multiple/,
    );
    expect(errorFor({ network: { natGateways: 0 } }).message).toMatch(/^network\.natGateways: 0 leaves/);
  });

  it('accepts one NAT gateway without interface endpoints (dev)', () => {
    expect(loadConfig('dev', { network: { natGateways: 1, interfaceEndpoints: false } }).network).toEqual({
      natGateways: 1,
      interfaceEndpoints: false,
    });
  });

  it('reports every wrong setting, not only the first', () => {
    const err = errorFor({ partitions: 0, topic: 'bad topic!' });
    expect(err.message).toMatch(/^(topic|partitions): /);
    expect(err.message).toContain('Also: ');
  });

  it('rejects overrides that are not an object', () => {
    expect(() => loadConfig('dev', '[1]')).toThrow('mds:dev: must be an object');
    expect(() => loadConfig('dev', '{nope')).toThrow('mds:dev: is not valid JSON');
  });
});

describe('deepMerge', () => {
  it('merges nested objects and lets scalars and arrays replace', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: 2 })).toEqual({
      a: { b: 1, c: [3] },
      d: 2,
    });
    expect(deepMerge({ a: 1 }, undefined)).toEqual({ a: 1 });
  });
});
