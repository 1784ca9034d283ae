import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { select, plan } from '../../localstack/dbt/graph.ts';
import { loadProject } from '../../localstack/dbt/project.ts';
import { DBT_PROJECT } from './helpers.ts';

// dbt's published JSON Schemas (draft-07), a copy in the repository (see its README and SOURCE_COMMIT).
const SCHEMA_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'dbt-jsonschema');

async function validator(file: string) {
  const schema = JSON.parse(await readFile(path.join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;
  expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

async function propertiesFiles(): Promise<string[]> {
  const entries = await readdir(path.join(DBT_PROJECT, 'models'), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.yml'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('the dbt project against dbt JSON Schemas', () => {
  it('dbt_project.yml is valid', async () => {
    const validate = await validator('dbt_project-latest.json');
    const doc = YAML.parse(await readFile(path.join(DBT_PROJECT, 'dbt_project.yml'), 'utf8')) as unknown;
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });

  it('every properties file is valid', async () => {
    const validate = await validator('dbt_yml_files-latest.json');
    const files = await propertiesFiles();
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const doc = YAML.parse(await readFile(file, 'utf8')) as unknown;
      expect(validate(doc), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('rejects a properties file dbt would reject (the schemas are really applied)', async () => {
    const validate = await validator('dbt_yml_files-latest.json');
    expect(validate({ version: 2, models: [{ name: 'x', colums: [] }] })).toBe(false);
  });
});

describe('the project as the runner reads it', () => {
  it('has every Gold table of docs/data-model.md in gold, Silver in silver, a test on every model', async () => {
    const project = await loadProject({ projectDir: DBT_PROJECT });
    const relations = [...project.models.values()].map((m) => m.relation.toString()).sort();
    expect(relations).toEqual(
      [
        'gold.album_completion',
        'gold.artist_day_streaks',
        'gold.artist_days',
        'gold.artist_skip_rates',
        'gold.artist_streaks',
        'gold.country_mix',
        'gold.device_mix',
        'gold.dim_listeners',
        'gold.gold_watermark',
        'gold.hourly_listening_preferences',
        'gold.listener_days',
        'gold.listener_events',
        'gold.listening_clock',
        'gold.listening_sessions',
        'gold.plays_per_hour',
        'gold.song_popularity_distribution',
        'gold.song_skip_rates',
        'gold.top_artists_daily',
        'gold.top_tracks_daily',
        'gold.track_catalog',
        'gold.track_days',
        'gold.user_top_artists',
        'gold.user_top_tracks',
        'gold.user_wrapped',
        'gold.user_wrapped_clock',
        'gold.user_wrapped_top',
        'gold.wrapped_events',
        'silver.stg_spotify__events',
      ].map((r) =>
        r
          .split('.')
          .map((p) => `"${p}"`)
          .join('.'),
      ),
    );
    for (const model of project.models.values()) {
      const tests = [...project.tests.values()].filter((t) => t.attachedTo === model.uniqueId);
      expect(
        tests.some((t) => /^(unique|unique_combination_of_columns)_/.test(t.name)),
        model.name,
      ).toBe(true);
    }
    const source = project.sources.get('source.spotify_mds.bronze.listening_events');
    expect(source?.loadedAtField).toBe('loaded_at');
    expect(source?.freshness?.error_after).toEqual({ count: 6, period: 'hour' });
  });

  it('selects with dbt syntax: +name, name+, tag:, path:', async () => {
    const project = await loadProject({ projectDir: DBT_PROJECT });
    const names = (sel: string[]) =>
      plan(project, 'run', select(project, sel))
        .nodes.map((n) => n.name)
        .join(',');
    expect(names(['+user_wrapped'])).toBe(
      'stg_spotify__events,dim_listeners,listener_events,user_wrapped_top,user_wrapped',
    );
    expect(names(['user_wrapped_top+'])).toBe('user_wrapped_top,user_wrapped,gold_watermark');
    expect(names(['tag:silver'])).toBe('stg_spotify__events');
    expect(names(['path:models/staging'])).toBe('stg_spotify__events');
    // Tests come along with the models they test ("eager" indirect selection).
    const tests = plan(project, 'test', select(project, ['plays_per_hour'])).nodes.map((n) => n.name);
    expect(tests).toContain('unique_plays_per_hour_hour_start');
    expect(tests).toContain('assert_gold_plays_reconcile_with_silver');
  });
});
