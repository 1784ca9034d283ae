/**
 * localstack/docker-compose.yml, checked by a real Compose parser: Debian's docker-compose, whose `config`
 * parses, interpolates and validates the file against the Compose schema without a container engine
 * (scripts/setup.sh installs it). The file is valid with the settings of .env.example filled in, refuses to
 * start without them (no secret has a default), wires the mds service to the other three through the
 * endpoint variables `mds local up` reads (accepted by the same code), and gives every service a health
 * check and a named volume. A file with a misspelt key is rejected, so the parser is really validating.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { ENDPOINT_ENV, resolveEndpoints } from '../../localstack/pipeline/endpoint-settings.ts';

const COMPOSE = path.join(PROJECT_ROOT, 'localstack/docker-compose.yml');
const EXAMPLE = path.join(PROJECT_ROOT, '.env.example');
const dir = mkdtempSync(path.join(tmpdir(), 'mds-compose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** .env.example with every empty value set, as a user fills it in. */
function filledEnv(): string {
  const file = path.join(dir, 'filled.env');
  const text = readFileSync(EXAMPLE, 'utf8').replace(/^([A-Z0-9_]+)=$/gm, '$1=chosen-$1');
  writeFileSync(file, text);
  return file;
}

function compose(args: string[], file = COMPOSE) {
  const res = spawnSync('docker-compose', ['-f', file, ...args], {
    encoding: 'utf8',
    // Only what the env file gives: the test's own environment must not fill in a setting.
    env: { PATH: process.env.PATH ?? '' },
  });
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      'docker-compose is not installed: run bash scripts/setup.sh (it installs it with apt-get)',
    );
  }
  return res;
}

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  healthcheck?: { test?: unknown };
  depends_on?: Record<string, { condition: string }>;
  /** SOURCE:TARGET:MODE, as docker-compose config prints them. */
  volumes?: string[];
}

describe('localstack/docker-compose.yml', () => {
  it('is valid Compose with the settings of .env.example filled in', () => {
    const res = compose(['--env-file', filledEnv(), 'config', '-q']);
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it('refuses to start without the settings, naming the first missing one', () => {
    const empty = path.join(dir, 'empty.env');
    writeFileSync(empty, '');
    const res = compose(['--env-file', empty, 'config', '-q']);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/set (S3_ACCESS_KEY|S3_SECRET_KEY|POSTGRES_PASSWORD) in localstack\/\.env/);
  });

  it('.env.example holds no secret value', () => {
    const values = readFileSync(EXAMPLE, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => l.split('='));
    for (const [name, value] of values) {
      if (/PASSWORD|SECRET|ACCESS_KEY/.test(name ?? '')) expect(value, name).toBe('');
    }
  });

  it('wires mds to Kafka, the S3 server and Postgres through the variables mds local up reads', () => {
    const res = compose(['--env-file', filledEnv(), 'config']);
    expect(res.status).toBe(0);
    const config = parse(res.stdout) as {
      services: Record<string, Service>;
      volumes: Record<string, unknown>;
    };
    const { kafka, s3, postgres, mds } = config.services;
    expect(kafka?.image).toMatch(/^apache\/kafka:/);
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(s3?.image).toMatch(/^chrislusf\/seaweedfs:\d+\.\d+$/); // a release, never :latest
    expect(mds?.build).toBeDefined();
    const env = mds?.environment ?? {};
    const endpoints = resolveEndpoints({}, env);
    expect(endpoints.brokers?.list).toEqual(['kafka:9092']);
    expect(endpoints.brokers?.setting).toBe(ENDPOINT_ENV.brokers);
    expect(endpoints.s3?.endpoint).toBe('http://s3:8333');
    expect(endpoints.bucket?.name).toBe(s3?.environment?.S3_BUCKET);
    expect(endpoints.warehouse).toMatchObject({
      kind: 'postgres',
      display: `postgres://${postgres?.environment?.POSTGRES_USER}@postgres:5432/${postgres?.environment?.POSTGRES_DB}`,
      connection: { password: postgres?.environment?.POSTGRES_PASSWORD },
    });
    // The S3 keys mds signs with are the ones the server was given.
    expect(env.AWS_ACCESS_KEY_ID).toBe(s3?.environment?.AWS_ACCESS_KEY_ID);
    expect(env.AWS_SECRET_ACCESS_KEY).toBe(s3?.environment?.AWS_SECRET_ACCESS_KEY);
    expect(mds?.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      s3: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
    });
    for (const [name, service] of Object.entries(config.services)) {
      expect(service.healthcheck?.test, name).toBeDefined();
      const named = (service.volumes ?? [])
        .map((v) => v.split(':')[0] ?? '')
        .filter((s) => /^[a-z][\w-]*$/.test(s));
      expect(named.length, name).toBe(1);
      expect(Object.keys(config.volumes)).toContain(named[0]);
    }
  });

  it('a misspelt key is rejected (the parser validates against the schema)', () => {
    const broken = path.join(dir, 'broken.yml');
    writeFileSync(broken, readFileSync(COMPOSE, 'utf8').replace('healthcheck:', 'healthchek:'));
    const res = compose(['--env-file', filledEnv(), 'config', '-q'], broken);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/healthchek/);
  });
});
