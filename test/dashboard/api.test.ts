/**
 * The JSON API and the static routes over real HTTP and a real DuckDB file: validation of dates and user
 * ids, 404 for unknown users and routes, no file-system access through the path, and the CLI command.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { startHarness, type Harness } from './helpers.ts';

describe('dashboard API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = async (p: string) => {
    const res = await fetch(new URL(p, h.server.url));
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), text, json: () => JSON.parse(text) };
  };

  it('reports the range Gold covers', async () => {
    // Act
    const res = await get('/api/status');

    // Assess
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ empty: false, range: { from: '2026-11-20', to: '2026-11-22' } });
  });

  it.each([
    ['/api/overview?from=2026-11-31&to=2026-12-01', '"from" must be a calendar date'],
    ['/api/overview?from=yesterday&to=2026-12-01', '"from" must be a calendar date'],
    ['/api/overview?from=2026-11-20', 'Give both "from" and "to"'],
    ['/api/overview?from=2026-11-22&to=2026-11-21', 'is after'],
    [`/api/wrapped/${'x'.repeat(65)}`, 'A user id has 1 to 64'],
    ['/api/wrapped/%E0%A4%A', 'not valid URL encoding'],
    [
      '/api/wrapped/user-0001?period=last_year',
      'period must be all_time, last_6_months, last_4_weeks or year_YYYY',
    ],
    ['/api/users?q=%01', 'A user id has 1 to 64'],
  ])('rejects %s with 400 and a message', async (url, message) => {
    // Act
    const res = await get(url);

    // Assess
    expect(res.status).toBe(400);
    expect(res.json().error.kind).toBe('bad_input');
    expect(res.json().error.message).toContain(message);
  });

  it('answers 404 with a message for an unknown user, and the same user id is not an injection', async () => {
    // Act
    const res = await get(`/api/wrapped/${encodeURIComponent("x' OR '1'='1")}`);

    // Assess
    expect(res.status).toBe(404);
    expect(res.json().error).toEqual({
      kind: 'not_found',
      message: `No listening history for user "x' OR '1'='1" in Gold (users appear after their first play)`,
    });
  });

  it('answers many overlapping requests, each with its own complete answer', async () => {
    // Act
    const urls = ['/api/overview', '/api/users', '/api/wrapped/user-0001', '/api/status'];
    const results = await Promise.all([...urls, ...urls, ...urls].map((u) => get(u)));

    // Assess
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(results[0]!.text).toBe(results[4]!.text);
    expect(results[2]!.json().user.user_id).toBe('user-0001');
  });

  it('serves only its own files: unknown paths and traversal attempts are 404, writes are 405', async () => {
    // Act
    const traversal = await get('/..%2f..%2fpackage.json');
    const unknownApi = await get('/api/nothing');
    const post = await fetch(new URL('/api/status', h.server.url), { method: 'POST' });
    const echarts = await get('/vendor/echarts.min.js');

    // Assess
    expect(traversal.status).toBe(404);
    expect(unknownApi.status).toBe(404);
    expect(post.status).toBe(405);
    expect(echarts.status).toBe(200);
    expect(echarts.type).toContain('text/javascript');
    expect(echarts.text.length).toBeGreaterThan(500_000);
  });
});

describe('mds dashboard (CLI)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves the data directory given by --data on the port given by --port, and stops on SIGTERM', async () => {
    // Prepare
    const data = path.join(h.dir, 'data');
    await mkdir(data);
    await copyFile(h.full, path.join(data, 'warehouse.duckdb'));
    const child = spawn(process.execPath, ['bin/mds.mjs', 'dashboard', '--port', '0', '--data', data], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const m = /Dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`mds dashboard exited with ${code}: ${out}`)));
      });

      // Act
      const res = await fetch(new URL('/api/status', url));

      // Assess
      expect(res.status).toBe(200);
      expect(((await res.json()) as { totalPlays: number }).totalPlays).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(out).toMatch(/dashboard info dashboard request path=\/api\/status status=200/);
  });

  it('exits with 2 and one line for a bad --port', async () => {
    // Act
    const child = spawn(process.execPath, ['bin/mds.mjs', 'dashboard', '--port', 'eighty'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const [code] = await once(child, 'exit');

    // Assess
    expect(code).toBe(2);
    expect(err.trim()).toBe('mds: --port must be a whole number from 0 to 65535, got "eighty"');
  });
});
