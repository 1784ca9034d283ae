/**
 * The dbt Fargate task's entrypoint (dbt/entrypoint.py), run with python3 against a fake `dbt` executable on
 * PATH and the local S3 server: `dbt source freshness` then `dbt build`, the four artifacts uploaded beside
 * the run summary (runs/<runId>/dbt/), and a stale source failing the run with its cause, without a build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../localstack/paths.ts';
import { startLocalS3, type LocalS3 } from '../../../localstack/s3-server.ts';

const python = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });

// The fake dbt records each call and writes the artifacts dbt would; FAKE_FRESHNESS=error makes the source stale.
const FAKE_DBT = `#!/usr/bin/env python3
import json, os, sys
project = sys.argv[sys.argv.index("--project-dir") + 1]
os.makedirs(os.path.join(project, "target"), exist_ok=True)
os.makedirs(os.path.join(project, "logs"), exist_ok=True)
with open(os.path.join(project, "calls.log"), "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
with open(os.path.join(project, "logs", "dbt.log"), "a") as f:
    f.write("log\\n")
def write(name, doc):
    with open(os.path.join(project, "target", name), "w") as f:
        json.dump(doc, f)
write("manifest.json", {"metadata": {"dbt_version": "1.10.15"}})
if sys.argv[1] == "source":
    stale = os.environ.get("FAKE_FRESHNESS") == "error"
    write("sources.json", {"results": [{"unique_id": "source.spotify_mds.bronze.listening_events",
        "status": "error" if stale else "pass", "max_loaded_at": "2026-07-01T10:00:00Z",
        "max_loaded_at_time_ago_in_s": 32400.0,
        "criteria": {"error_after": {"count": 6, "period": "hour"}}}]})
    sys.exit(1 if stale else 0)
write("run_results.json", {"results": []})
sys.exit(0)
`;

describe.skipIf(python.status !== 0)('dbt Fargate entrypoint', () => {
  let dir: string;
  let s3: LocalS3;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-entrypoint-'));
    await mkdir(path.join(dir, 'bin'));
    await writeFile(path.join(dir, 'bin', 'dbt'), FAKE_DBT);
    await chmod(path.join(dir, 'bin', 'dbt'), 0o755);
    // boto3 against the local server: path-style addressing, dummy credentials.
    await writeFile(
      path.join(dir, 'aws-config'),
      '[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n',
    );
    s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: ['artifacts'] });
  });
  afterAll(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (runId: string, freshness: 'pass' | 'error') => {
    const project = path.join(dir, runId);
    await mkdir(project, { recursive: true });
    // Asynchronously: the S3 server answering the uploads runs in this process.
    const child = spawn('python3', [path.join(PROJECT_ROOT, 'dbt/entrypoint.py')], {
      env: {
        PATH: `${path.join(dir, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
        HOME: dir,
        DBT_TARGET: 'duckdb',
        DBT_PROJECT_DIR: project,
        ARTIFACTS_BUCKET: 'artifacts',
        ARTIFACTS_PREFIX: `runs/${runId}/dbt`,
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_CONFIG_FILE: path.join(dir, 'aws-config'),
        FAKE_FRESHNESS: freshness,
      },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const res = { status, stdout };
    const listed = await s3
      .client()
      .send(new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: `runs/${runId}/` }));
    const calls = (await readFile(path.join(project, 'calls.log'), 'utf8')).trim().split('\n');
    return { ...res, keys: (listed.Contents ?? []).map((o) => o.Key).sort(), calls };
  };

  it('runs dbt source freshness, then dbt build, and uploads the four artifacts beside the run summary', async () => {
    const res = await run('r1', 'pass');
    expect(res.status).toBe(0);
    expect(res.calls.map((c) => c.split(' --')[0])).toEqual(['source freshness', 'build']);
    expect(res.keys).toEqual([
      'runs/r1/dbt/dbt.log',
      'runs/r1/dbt/manifest.json',
      'runs/r1/dbt/run_results.json',
      'runs/r1/dbt/sources.json',
    ]);
  });

  it('a stale source fails the run with its cause, uploads what there is, and does not build', async () => {
    const res = await run('r2', 'error');
    expect(res.status).toBe(1);
    expect(res.calls.map((c) => c.split(' --')[0])).toEqual(['source freshness']);
    expect(res.stdout).toMatch(
      /source freshness: source\.spotify_mds\.bronze\.listening_events is stale: newest row loaded at 2026-07-01T10:00:00Z \(32400 s ago\), error after 6 hour/,
    );
    expect(res.keys).toEqual([
      'runs/r2/dbt/dbt.log',
      'runs/r2/dbt/manifest.json',
      'runs/r2/dbt/sources.json',
    ]);
  });
});
