import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { setupSqlFor } from '../../bin/commands/snowflake.ts';
import { ENVIRONMENT_NAMES, loadConfig } from '../../lib/config/environments.ts';
import {
  MODEL_SCHEMAS,
  bronzeObjectStatements,
  bronzeProbeStatements,
  bronzeTableName,
  copyIntoStatement,
  manifestMergeStatement,
  manifestTableName,
  qualified,
  storageIntegrationName,
} from '../../lambdas/core/warehouse/snowflake-sql.ts';

const run = promisify(execFile);
const MDS = path.resolve('bin/mds.mjs');

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI in a child process, as a user would. */
async function mds(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MDS, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A one-line `mds: ...` message, no stack trace, exit code 2. */
function expectUsageError(result: Result, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^mds: /);
  expect(lines[0]).toMatch(pattern);
}

/** The SQL without comments, one statement per entry (the setup SQL has no ';' inside literals). */
function statements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Every `GRANT <privileges> ON <type> <name> TO ROLE <role>` as "PRIVILEGE ON TYPE NAME" entries. */
function grantsTo(sql: string, role: string): Set<string> {
  const out = new Set<string>();
  for (const stmt of statements(sql)) {
    const m =
      /^GRANT (.+?) ON (WAREHOUSE|DATABASE|SCHEMA|TABLE|STAGE|INTEGRATION) (\S+) TO ROLE (\S+)$/s.exec(
        stmt.replace(/\s+/g, ' '),
      );
    if (!m || m[4] !== role) continue;
    for (const p of (m[1] as string).split(',')) out.add(`${p.trim()} ON ${m[2]} ${m[3]}`);
  }
  return out;
}

/** The database and schema of a "DB"."SCHEMA"."NAME" name. */
function parents(name: string): string[] {
  const [db, schema] = name.split('.');
  return [`USAGE ON DATABASE ${db}`, `USAGE ON SCHEMA ${db}.${schema}`];
}

describe.each(ENVIRONMENT_NAMES)('mds snowflake setup-sql --env %s', (env) => {
  const config = loadConfig(env);
  const wh = config.warehouse;
  const sql = setupSqlFor({ env });
  const names = { database: wh.database, stage: `${wh.schema}.${wh.stage}` };
  const role = qualified(wh.role);

  it("creates exactly the environment's account objects, under the configured names", () => {
    // Act
    const created = statements(sql).flatMap((s) => {
      const m = /^CREATE (WAREHOUSE|DATABASE|ROLE|USER|STORAGE INTEGRATION|STAGE) IF NOT EXISTS (\S+)/.exec(
        s,
      );
      return m ? [`${m[1]} ${m[2]}`] : [];
    });
    const accountNames = [
      ...sql.matchAll(/\b(WAREHOUSE|DATABASE|ROLE|USER|DEFAULT_ROLE =|DEFAULT_WAREHOUSE =) ("[A-Z0-9_$]+")/g),
    ].map((m) => `${m[1]?.replace(/^DEFAULT_(\w+) =$/, '$1')} ${m[2]}`);

    // Assess
    expect(created).toEqual([
      `ROLE ${role}`,
      `USER ${qualified(wh.user)}`,
      `STORAGE INTEGRATION ${qualified(storageIntegrationName(names))}`,
      `WAREHOUSE ${qualified(wh.warehouse)}`,
      `DATABASE ${qualified(wh.database)}`,
      `STAGE ${qualified(wh.database, wh.schema, wh.stage)}`,
    ]);
    expect(new Set(accountNames)).toEqual(
      new Set([
        `WAREHOUSE ${qualified(wh.warehouse)}`,
        `DATABASE ${qualified(wh.database)}`,
        `ROLE ${role}`,
        `USER ${qualified(wh.user)}`,
      ]),
    );
    // Every schema-level name is in the configured database; none of the old document's names is left.
    for (const m of sql.matchAll(/("[A-Z0-9_$]+")\.("[A-Z0-9_$]+")/g))
      expect(m[1]).toBe(qualified(wh.database));
    expect(sql).not.toMatch(/MDS_WH|SPOTIFY_MDS|MDS_LOADER_ROLE/);
  });

  it('creates the Bronze table and manifest with exactly the DDL of the loader (one source of truth)', () => {
    const all = statements(sql);
    for (const ddl of bronzeObjectStatements(names)) expect(all).toContain(ddl);
  });

  it("grants every privilege the loader's and dbt's statements need, to the configured role", () => {
    // Prepare: the objects the loader's statements touch, read off the statements themselves
    const key = 'bronze/date=2026-11-23/hour=09/spotify-events-0-1-2.ndjson.gz';
    const copy = copyIntoStatement(names, [key], 'CONTINUE');
    const copyTable = /^COPY INTO (\S+)/.exec(copy)?.[1] as string;
    const stage = /FROM @(\S+)/.exec(copy)?.[1] as string;
    const mergeTable = /^MERGE INTO (\S+)/.exec(
      manifestMergeStatement(names, [
        { key, etag: null, status: 'loaded', rowsLoaded: 1, errorCount: 0, firstError: null },
      ]).sql,
    )?.[1] as string;
    const selected = bronzeProbeStatements(names).map((p) => /FROM (\S+)/.exec(p.sql)?.[1] as string);
    const integration = qualified(storageIntegrationName(names));
    const grants = grantsTo(sql, role);

    // Assess: per Snowflake's access control privileges, COPY INTO <table> needs INSERT on the table and
    // USAGE on an external stage and on its storage integration; MERGE reads the target (SELECT) and
    // inserts and updates it; a query needs SELECT; any schema object needs USAGE on its database and schema
    const needed = [
      `USAGE ON WAREHOUSE ${qualified(wh.warehouse)}`,
      `INSERT ON TABLE ${copyTable}`,
      `USAGE ON STAGE ${stage}`,
      `USAGE ON INTEGRATION ${integration}`,
      ...['SELECT', 'INSERT', 'UPDATE'].map((p) => `${p} ON TABLE ${mergeTable}`),
      ...selected.map((t) => `SELECT ON TABLE ${t}`),
      `SELECT ON TABLE ${manifestTableName(names)}`, // manifestEntries reads it
      ...[copyTable, stage, mergeTable, ...selected].flatMap(parents),
      // dbt: reads Bronze, creates its tables and views (and an incremental model's temporary relation)
      // in the Silver and Gold schemas, which it then owns
      `SELECT ON TABLE ${bronzeTableName(names)}`,
      ...MODEL_SCHEMAS.flatMap((s) =>
        ['USAGE', 'CREATE TABLE', 'CREATE VIEW'].map((p) => `${p} ON SCHEMA ${qualified(wh.database, s)}`),
      ),
    ];
    for (const g of needed) expect([...grants], g).toContain(g);
    expect(statements(sql)).toContain(`GRANT ROLE ${role} TO USER ${qualified(wh.user)}`);
  });

  it('leaves placeholders for the key and the stack outputs, and says where each comes from', () => {
    expect(sql).toContain("RSA_PUBLIC_KEY = '<RSA_PUBLIC_KEY>'");
    expect(sql).toMatch(/-- .*openssl genrsa 2048 \| openssl pkcs8 -topk8/);
    expect(sql).toMatch(/-- .*openssl rsa -in rsa_key\.p8 -pubout/);
    expect(sql).toContain(`STORAGE_AWS_ROLE_ARN = '<StorageIntegrationRoleArn of Mds-${env}-Pipeline>'`);
    expect(sql).toMatch(new RegExp(`-- .*StorageIntegrationRoleArn.*Mds-${env}-Pipeline`));
    expect(sql).toContain(`'s3://<BronzeBucketName of Mds-${env}-Storage>/bronze/'`);
  });
});

describe('mds snowflake setup-sql', () => {
  it('grants CREATE on the schemas dbt builds into, and reads the schema its source names', async () => {
    // Prepare: the dbt project's custom schemas (generate_schema_name uses them as-is) and its Bronze source
    const project = YAML.parse(await readFile('dbt/dbt_project.yml', 'utf8')) as {
      models: Record<string, Record<string, { '+schema'?: string }>>;
    };
    const dbtSchemas = Object.values(project.models.spotify_mds ?? {}).flatMap((m) => m['+schema'] ?? []);
    const sources = YAML.parse(await readFile('dbt/models/staging/_sources.yml', 'utf8')) as {
      sources: { schema: string; tables: { name: string }[] }[];
    };

    // Assess
    expect([...dbtSchemas].sort()).toEqual([...MODEL_SCHEMAS].sort());
    const sql = setupSqlFor({ env: 'dev' });
    const grants = grantsTo(sql, qualified(loadConfig('dev').warehouse.role));
    for (const s of sources.sources) {
      for (const t of s.tables)
        expect([...grants]).toContain(`SELECT ON TABLE ${qualified('MDS_DEV', s.schema, t.name)}`);
    }
  });

  it('docs/snowflake-setup.sql is the generated dev setup, so it cannot drift', async () => {
    expect(await readFile('docs/snowflake-setup.sql', 'utf8')).toBe(setupSqlFor({ env: 'dev' }));
  });

  it('fills in the bucket and the integration role, and follows --overrides', () => {
    const sql = setupSqlFor({
      env: 'prod',
      bucket: 'mds-prod-storage-bronze1a2b3c',
      integrationRoleArn: 'arn:aws:iam::123456789012:role/Mds-prod-Pipeline-SnowflakeStorageIntegrat-ABC',
      overrides: '{"warehouse":{"role":"MDS_PROD_LOADER","warehouse":"MDS_M"}}',
      warehouseSize: 'MEDIUM',
    });
    expect(sql).toContain("URL = 's3://mds-prod-storage-bronze1a2b3c/bronze/'");
    expect(sql).toContain("STORAGE_ALLOWED_LOCATIONS = ('s3://mds-prod-storage-bronze1a2b3c/bronze/')");
    expect(sql).toContain(
      "STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/Mds-prod-Pipeline-SnowflakeStorageIntegrat-ABC'",
    );
    expect(sql).toContain('CREATE ROLE IF NOT EXISTS "MDS_PROD_LOADER"');
    expect(sql).toContain('CREATE WAREHOUSE IF NOT EXISTS "MDS_M"\n  WAREHOUSE_SIZE = MEDIUM');
    expect(sql).not.toContain('ROLE "MDS_PROD"');
  });

  it('prints the SQL on stdout', async () => {
    const result = await mds('snowflake', 'setup-sql', '--env', 'prod');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(setupSqlFor({ env: 'prod' }));
  });

  it('refuses bad input with one line naming the setting and the fix', async () => {
    const [unknown, notJson, badRole, badBucket, badArn, badSize] = await Promise.all([
      mds('snowflake', 'setup-sql', '--env', 'staging'),
      mds('snowflake', 'setup-sql', '--env', 'dev', '--overrides', '{"warehouse":'),
      mds('snowflake', 'setup-sql', '--env', 'dev', '--overrides', '{"warehouse":{"role":"MDS-DEV"}}'),
      mds('snowflake', 'setup-sql', '--env', 'dev', '--bucket', 'Not_A_Bucket'),
      mds('snowflake', 'setup-sql', '--env', 'dev', '--integration-role-arn', 'role/x'),
      mds('snowflake', 'setup-sql', '--env', 'dev', '--warehouse-size', 'HUGE'),
    ]);
    expectUsageError(unknown, /^mds: --env: "staging" is not an environment; use --env dev or --env prod$/);
    expectUsageError(notJson, /^mds: --overrides: is not valid JSON; pass an object such as /);
    // lib/config checks the Snowflake settings as the functions do (lambdas/core/warehouse/config.ts).
    expectUsageError(
      badRole,
      /^mds: warehouse\.role: "MDS-DEV" must be a plain SQL identifier .*\. Fix it in lib\/config or in the context key mds:dev\.$/,
    );
    expectUsageError(badBucket, /^mds: --bucket: "Not_A_Bucket" is not an S3 bucket name/);
    expectUsageError(badArn, /^mds: --integration-role-arn: "role\/x" is not an IAM role ARN/);
    expectUsageError(badSize, /^mds: --warehouse-size: "HUGE" is not one of XSMALL, SMALL, /);
  });
});
