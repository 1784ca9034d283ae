/**
 * A real, throwaway PostgreSQL server for tests, from Debian's postgresql package: initdb into a temp
 * directory, start it listening only on a unix socket in that directory (port from a free TCP port, so the
 * socket name is unique too), and remove everything on stop. Postgres refuses to run as root, so under root
 * the binaries run as the `postgres` system user (runuser), which owns the temp directory.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';
const RUN_AS = 'postgres';

export interface TestPostgres {
  /** Socket directory (pg's `host`). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** With `password`: the server also listens on 127.0.0.1:port, where logins need that password. */
  readonly tcp?: { readonly host: '127.0.0.1'; readonly port: number };
  /** A connection string to a new, empty database. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The newest installed server's binaries, or a clear error naming the package to install. */
export function postgresBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT).filter((v) => existsSync(path.join(PG_ROOT, v, 'bin', 'initdb')))
    : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest)
    throw new Error(`no PostgreSQL server under ${PG_ROOT}; install it: apt-get install postgresql`);
  return path.join(PG_ROOT, newest, 'bin');
}

export interface StartPostgresOptions {
  /**
   * Also listen on 127.0.0.1 (the port), with password logins there (scram-sha-256) for the user
   * `postgres` with this password, as a Postgres service of a compose file does; the socket stays trust.
   */
  readonly password?: string;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-pg-'));
  const asRoot = process.getuid?.() === 0;
  const exec = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', RUN_AS, '--', path.join(bin, tool), ...args])
      : run(path.join(bin, tool), args);
  if (asRoot) {
    const [uid, gid] = await Promise.all([run('id', ['-u', RUN_AS]), run('id', ['-g', RUN_AS])]);
    await chown(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  const user = 'postgres';
  let started = false;
  const pwfile = path.join(dir, 'pwfile');
  if (options.password !== undefined) {
    await writeFile(pwfile, `${options.password}\n`, { mode: 0o600 });
    if (asRoot) await run('chown', [RUN_AS, pwfile]);
  }
  const auth =
    options.password === undefined
      ? ['--auth=trust']
      : ['--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`];
  const listen = options.password === undefined ? "listen_addresses=''" : "listen_addresses='127.0.0.1'";
  try {
    await exec('initdb', ['-D', data, '-U', user, ...auth, '-E', 'UTF8', '--no-sync', '--no-instructions']);
    await exec('pg_ctl', [
      '-D',
      data,
      '-l',
      path.join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c ${listen} -c fsync=off -c full_page_writes=off`,
      'start',
    ]);
    started = true;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const admin = new pg.Client({ host: dir, port, user, database: 'postgres' });
  await admin.connect();
  return {
    host: dir,
    port,
    user,
    ...(options.password !== undefined ? { tcp: { host: '127.0.0.1' as const, port } } : {}),
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad test database name ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      return `postgresql://${user}@/${name}?host=${encodeURIComponent(dir)}&port=${port}`;
    },
    async stop() {
      await admin.end().catch(() => undefined);
      if (started) await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
