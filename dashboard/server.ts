/**
 * The dashboard's HTTP server: the page, its static assets (ECharts served from node_modules, no CDN)
 * and a JSON API over Gold. Bound to 127.0.0.1 only.
 *
 * The warehouse is acquired per request and released afterwards, so a missing or locked warehouse file is
 * a message on the page (and in the log) for that request, and the next request tries again. Opening the
 * local DuckDB file per request costs a few milliseconds (see bench/dashboard.bench.ts) and leaves the file
 * free for the pipeline between requests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, MdsError, TransientError, errorMessage } from '../lambdas/core/errors.ts';
import {
  InputError,
  NotFoundError,
  goldStatus,
  overview,
  parseDateRange,
  parseUserId,
  parseWrappedPeriod,
  topUsers,
  wrapped,
} from './gold.ts';
import type { GoldWarehouse } from './warehouse.ts';
import type { RunsSource } from './runs.ts';

export interface DashboardLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface DashboardServerOptions {
  /** Called for every API request; may throw (file missing, locked) and will be called again next time. */
  readonly warehouse: () => Promise<GoldWarehouse>;
  /** Called after each request with what `warehouse()` returned; omit it when the warehouse is shared. */
  readonly release?: (warehouse: GoldWarehouse) => Promise<void>;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  readonly log: DashboardLog;
  /** The workflow's executions for the runs page (/runs); without it the page says how to get them. */
  readonly runs?: RunsSource;
}

export interface DashboardServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
/** The chart definitions and formatting the page shares with the run report (lambdas/core/charts). */
const CHARTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lambdas', 'core', 'charts');
// echarts' package exports do not expose dist/ files; its CommonJS entry is dist/echarts.js, next to the min build.
const ECHARTS_MIN = path.join(
  path.dirname(createRequire(import.meta.url).resolve('echarts')),
  'echarts.min.js',
);

/** The only files the server sends: a fixed map, so no request path ever reaches the file system. */
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(PUBLIC_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: path.join(PUBLIC_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/runs': { file: path.join(PUBLIC_DIR, 'runs.html'), type: 'text/html; charset=utf-8' },
  '/runs.js': { file: path.join(PUBLIC_DIR, 'runs.js'), type: 'text/javascript; charset=utf-8' },
  '/charts/format.js': { file: path.join(CHARTS_DIR, 'format.js'), type: 'text/javascript; charset=utf-8' },
  '/charts/options.js': { file: path.join(CHARTS_DIR, 'options.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: path.join(PUBLIC_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/echarts.min.js': { file: ECHARTS_MIN, type: 'text/javascript; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** How many users the Wrapped picker lists. */
const USER_LIST_LIMIT = 50;

class HttpError extends MdsError {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': bytes.length,
    'cache-control': 'no-store',
  });
  res.end(bytes);
}

/** Maps what went wrong to a status, a kind the page switches on, and a message for people. */
function classify(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof InputError) return new HttpError(400, 'bad_input', err.message);
  if (err instanceof NotFoundError) return new HttpError(404, 'not_found', err.message);
  if (err instanceof ConfigError || err instanceof TransientError) {
    return new HttpError(503, 'warehouse_unavailable', err.message);
  }
  return new HttpError(500, 'query_failed', `Reading Gold failed: ${errorMessage(err)}`);
}

export async function createDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const { log } = options;

  // One API request reads Gold at a time: an embedded DuckDB connection runs one statement at a time, and
  // a local dashboard's few requests per page load gain nothing from overlapping.
  let queue: Promise<unknown> = Promise.resolve();
  function withWarehouse<T>(fn: (wh: GoldWarehouse) => Promise<T>): Promise<T> {
    const run = queue.then(() => readGold(fn));
    queue = run.catch(() => undefined);
    return run;
  }

  async function readGold<T>(fn: (wh: GoldWarehouse) => Promise<T>): Promise<T> {
    const wh = await options.warehouse();
    try {
      return await fn(wh);
    } finally {
      if (options.release) {
        await options.release(wh).catch((err: unknown) => {
          log.warn('Releasing the warehouse failed', { error: errorMessage(err) });
        });
      }
    }
  }

  async function api(url: URL): Promise<unknown> {
    const p = url.pathname;
    if (p === '/api/status') return withWarehouse(goldStatus);
    if (p === '/api/overview') {
      const requested = parseDateRange(url.searchParams.get('from'), url.searchParams.get('to'));
      return withWarehouse(async (wh) => {
        const status = await goldStatus(wh);
        if (status.empty) return { status, overview: null };
        const range = requested ?? status.range;
        return { status, overview: range ? await overview(wh, range) : null };
      });
    }
    if (p === '/api/users') {
      const q = url.searchParams.get('q') ?? '';
      const search = q === '' ? '' : parseUserId(q);
      return withWarehouse(async (wh) => ({ users: await topUsers(wh, search, USER_LIST_LIMIT) }));
    }
    if (p === '/api/runs') {
      if (!options.runs) {
        throw new HttpError(
          503,
          'runs_unavailable',
          'This dashboard has no workflow runs to show: serve it with `mds dashboard` over the local data directory',
        );
      }
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 50) || 50, 1), 200);
      try {
        return { runs: await options.runs.list(limit) };
      } catch (err) {
        throw new HttpError(
          503,
          'runs_unavailable',
          `Reading the workflow runs failed: ${errorMessage(err)}`,
        );
      }
    }
    if (p.startsWith('/api/wrapped/')) {
      let raw: string;
      try {
        raw = decodeURIComponent(p.slice('/api/wrapped/'.length));
      } catch {
        throw new InputError('The user id in the address is not valid URL encoding');
      }
      const userId = parseUserId(raw);
      const period = parseWrappedPeriod(url.searchParams.get('period'));
      return withWarehouse((wh) => wrapped(wh, userId, period));
    }
    throw new HttpError(404, 'not_found', `No API endpoint ${p}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { kind: 'method', message: 'Only GET is supported' } });
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      try {
        const body = await api(url);
        sendJson(res, 200, body);
        log.info('dashboard request', {
          path: url.pathname,
          status: 200,
          ms: Math.round(performance.now() - started),
        });
      } catch (err) {
        const e = classify(err);
        sendJson(res, e.status, { error: { kind: e.kind, message: e.message } });
        const fields = { path: url.pathname, query: url.search, status: e.status, error: e.message };
        if (e.status >= 500) log.error('dashboard request failed', fields);
        else log.warn('dashboard request rejected', fields);
      }
      return;
    }
    // A run's report (report.html as the Publisher rendered it), by run id: never a path of the request.
    const report = /^\/runs\/([A-Za-z0-9._-]{1,200})\/report\.html$/.exec(url.pathname);
    if (report && options.runs) {
      const html = await options.runs.report(report[1] as string).catch(() => undefined);
      if (html !== undefined) {
        const bytes = Buffer.from(html);
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type': 'text/html; charset=utf-8',
          'content-length': bytes.length,
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : bytes);
        return;
      }
    }
    const asset = STATIC[url.pathname];
    if (!asset) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Not found: ${url.pathname}\n`);
      return;
    }
    const bytes = await readFile(asset.file);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      'content-length': bytes.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Only a failure to read a bundled asset lands here; the server keeps serving.
      log.error('dashboard request crashed', { path: req.url, error: errorMessage(err) });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal error\n');
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A log for terminals: one line per entry, fields as key=value. */
export function consoleLog(prefix = 'dashboard'): DashboardLog {
  const line = (level: string, message: string, fields?: Record<string, unknown>) => {
    const rest = Object.entries(fields ?? {})
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    return `${new Date().toISOString()} ${prefix} ${level} ${message}${rest ? ` ${rest}` : ''}`;
  };
  return {
    info: (m, f) => console.log(line('info', m, f)),
    warn: (m, f) => console.warn(line('warn', m, f)),
    error: (m, f) => console.error(line('error', m, f)),
  };
}
