/**
 * target/manifest.json is written in dbt's manifest v12 schema (dbt 1.10), validated against dbt's published
 * JSON schema (vendored in test/fixtures/dbt-schemas), for a small project and for this project.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DBT_VERSION } from '../../../localstack/dbt/index.ts';
import { PROJECT_ROOT } from '../../../localstack/paths.ts';
import { DBT_PROJECT, tempWarehouse, type TempWarehouse } from '../helpers.ts';
import { runDbt } from '../../../localstack/dbt/index.ts';
import { sandbox, type Sandbox } from './project.ts';

interface Manifest {
  metadata: Record<string, unknown>;
  nodes: Record<string, { depends_on: { nodes: string[] }; resource_type: string; fqn: string[] }>;
  sources: Record<string, unknown>;
  parent_map: Record<string, string[]>;
  child_map: Record<string, string[]>;
}

async function validator(): Promise<(doc: unknown) => string[]> {
  const schema = JSON.parse(
    await readFile(path.join(PROJECT_ROOT, 'test/fixtures/dbt-schemas/manifest-v12.json'), 'utf8'),
  ) as Record<string, unknown>;
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  return (doc) => {
    if (validate(doc)) return [];
    return (validate.errors ?? []).slice(0, 10).map((e) => `${e.instancePath} ${e.message ?? ''}`);
  };
}

const readManifest = async (dir: string): Promise<Manifest> =>
  JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;

describe('manifest.json', () => {
  let box: Sandbox;
  let wh: TempWarehouse;
  beforeAll(async () => {
    box = await sandbox({
      'models/marts/_props.yml':
        'version: 2\nmodels:\n  - name: m\n    columns:\n      - name: id\n        data_tests: [not_null, unique]\n',
      'tests/assert_m_has_rows.sql': "select 1 from {{ ref('m') }} having count(*) = 0",
    });
    wh = await tempWarehouse();
  });
  afterAll(async () => {
    await box?.close();
    await wh?.close();
  });

  it("validates against dbt's published manifest v12 schema, with the pinned dbt version", async () => {
    await box.run('build');
    const manifest = await readManifest(path.join(box.dir, 'target'));
    expect(await validator().then((v) => v(manifest))).toEqual([]);
    expect(manifest.metadata).toMatchObject({
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
      dbt_version: DBT_VERSION,
      project_name: 'conf',
      adapter_type: 'duckdb',
    });
    expect(DBT_VERSION).toBe('1.10.15');
  });

  it('holds every node, its dependencies and the parent and child maps', async () => {
    const manifest = await readManifest(path.join(box.dir, 'target'));
    expect(Object.keys(manifest.nodes).sort()).toEqual([
      'model.conf.m',
      'model.conf.n',
      'model.conf.o',
      'model.conf.other',
      'model.conf.stg_a',
      'test.conf.assert_m_has_rows',
      expect.stringMatching(/^test\.conf\.not_null_m_id\./),
      expect.stringMatching(/^test\.conf\.unique_m_id\./),
    ]);
    expect(manifest.nodes['model.conf.n']?.depends_on.nodes).toEqual(['model.conf.m']);
    expect(manifest.nodes['model.conf.n']?.fqn).toEqual(['conf', 'marts', 'n']);
    expect(manifest.parent_map['model.conf.m']).toEqual(['model.conf.stg_a']);
    expect(manifest.child_map['model.conf.stg_a']).toEqual(['model.conf.m', 'model.conf.other']);
    expect(manifest.child_map['model.conf.m']).toContain('test.conf.assert_m_has_rows');
  });

  it("this project's manifest validates too (every model, test and source)", async () => {
    await runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'build',
      targetDir: wh.dir,
      select: ['nothing'],
    });
    const manifest = await readManifest(wh.dir);
    expect(await validator().then((v) => v(manifest))).toEqual([]);
    expect(Object.keys(manifest.sources)).toEqual(['source.spotify_mds.bronze.listening_events']);
    expect(Object.values(manifest.nodes).filter((n) => n.resource_type === 'model').length).toBeGreaterThan(
      10,
    );
  });
});
