/**
 * `mds spotify`: real listening data from Spotify (docs/spotify.md).
 * - `login`: the authorization code flow with PKCE; a callback listener on http://127.0.0.1:<port>/callback,
 *   the authorize URL printed; the refresh token is stored in the data directory (mode 0600) or, with
 *   `--env NAME`, in that environment's refresh-token secret.
 * - `poll`: one poll of every locally connected user into the local broker (or `--brokers`), run by the
 *   poller's bundle as `cdk synth` emits it, in the local Lambda runtime, with the local state store selected
 *   by its named override (SPOTIFY_STATE_STORE=file).
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { MdsError, UsageError, errorMessage } from '../../lambdas/core/errors.ts';
import {
  DEFAULT_ACCOUNTS_BASE_URL,
  DEFAULT_API_BASE_URL,
  SPOTIFY_SCOPES,
  SpotifyClient,
  pkcePair,
} from '../../lambdas/core/spotify/client.ts';
import type { PollSummary } from '../../lambdas/poller/poll.ts';
import { FileTokenStore, localSpotifyPaths, type TokensFile } from '../../lambdas/poller/stores.ts';
import { stackName } from '../../lib/app.ts';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../lib/config/environments.ts';
import { spotifySecretNames } from '../../lib/constructs/spotify-poller.ts';
import { synthesizeAssembly, type CloudAssembly } from '../../localstack/lambda/assembly.ts';
import { startLocalFunctions } from '../../localstack/lambda/local-functions.ts';
import type { LocalLambdaRuntime } from '../../localstack/lambda/runtime.ts';
import { DEFAULT_DATA_DIR, LOCAL_DEFAULTS, ensureDirectory, localPaths } from '../../localstack/paths.ts';
import { parsePort } from './cli-util.ts';
import { registerSpotifyImport } from './spotify-import.ts';

/** The poller's function in the cloud assembly (construct path under the Ingest stack). */
export const POLLER_FUNCTION_ID = 'SpotifyPoller/Poller';

interface BaseUrlFlags {
  readonly apiBaseUrl: string;
  readonly accountsBaseUrl: string;
}

export const baseUrlOptions = (cmd: Command): Command =>
  cmd
    .option(
      '--api-base-url <url>',
      'Spotify Web API base URL (env SPOTIFY_API_BASE_URL)',
      process.env.SPOTIFY_API_BASE_URL ?? DEFAULT_API_BASE_URL,
    )
    .option(
      '--accounts-base-url <url>',
      'Spotify Accounts service base URL (env SPOTIFY_ACCOUNTS_BASE_URL)',
      process.env.SPOTIFY_ACCOUNTS_BASE_URL ?? DEFAULT_ACCOUNTS_BASE_URL,
    );

export function checkUrl(value: string, flag: string): string {
  if (!/^https?:\/\/[^\s/]+/.test(value))
    throw new UsageError(`${flag}: expected an http(s) URL, got "${value}"`);
  return value.replace(/\/+$/, '');
}

export function registerSpotify(program: Command): Command {
  const spotify = program
    .command('spotify')
    .description(
      'Real listening data from Spotify: connect an account, poll recently-played (docs/spotify.md).',
    );
  registerSpotifyImport(spotify);

  baseUrlOptions(
    spotify
      .command('login')
      .description(
        'Connect a Spotify account (authorization code with PKCE): prints the authorize URL, waits for the callback ' +
          'on http://127.0.0.1:<port>/callback and stores the refresh token locally (mode 0600) or in --env’s secret.',
      )
      .option(
        '--client-id <id>',
        'the Spotify app client id (env SPOTIFY_CLIENT_ID)',
        process.env.SPOTIFY_CLIENT_ID,
      )
      .option(
        '--port <port>',
        'callback port on 127.0.0.1 (register the redirect URI in the Spotify app)',
        '8888',
      )
      .option('--data-dir <dir>', 'local data directory', DEFAULT_DATA_DIR)
      .option(
        '--env <name>',
        `store the token in that environment's secret (${ENVIRONMENT_NAMES.join(', ')})`,
      )
      .option('--timeout-seconds <n>', 'give up waiting for the callback after this long', '300'),
  ).action(async (flags: LoginFlags) => {
    await login(flags);
  });

  baseUrlOptions(
    spotify
      .command('poll')
      .description(
        "One poll of every locally connected user into Kafka, run by the poller's synthesized bundle in the local Lambda runtime.",
      )
      .option('--brokers <list>', 'Kafka bootstrap brokers', `127.0.0.1:${LOCAL_DEFAULTS.brokerPort}`)
      .option(
        '--data-dir <dir>',
        'local data directory (spotify/tokens.json, spotify/cursors.json)',
        DEFAULT_DATA_DIR,
      )
      .option('--json', 'print the summary as JSON'),
  ).action(async (flags: PollFlags) => {
    const summary = await pollLocally(flags, (line) => process.stderr.write(`${line}\n`));
    if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(describePoll(summary));
    if (summary.invalidGrant + summary.failed > 0) process.exitCode = 1;
  });
  return spotify;
}

interface LoginFlags extends BaseUrlFlags {
  readonly clientId?: string;
  readonly port: string;
  readonly dataDir: string;
  readonly env?: string;
  readonly timeoutSeconds: string;
}

export interface PollFlags extends BaseUrlFlags {
  readonly brokers: string;
  readonly dataDir: string;
  readonly json?: boolean;
}

/** The PKCE flow, as Spotify documents it; returns the connected user's id. */
export async function login(
  flags: LoginFlags,
  print: (line: string) => void = (l) => console.log(l),
): Promise<string> {
  if (!flags.clientId) {
    throw new UsageError('--client-id: the Spotify app client id is required (or set SPOTIFY_CLIENT_ID)');
  }
  if (flags.env !== undefined && !(ENVIRONMENT_NAMES as readonly string[]).includes(flags.env)) {
    throw new UsageError(
      `--env: "${flags.env}" is not an environment; use ${ENVIRONMENT_NAMES.join(' or ')}`,
    );
  }
  const api = checkUrl(flags.apiBaseUrl, '--api-base-url');
  const accounts = checkUrl(flags.accountsBaseUrl, '--accounts-base-url');
  const client = { clientId: flags.clientId };
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(16).toString('hex');
  const timeoutMs = Number(flags.timeoutSeconds) * 1000;

  // The redirect URI is a loopback IP literal: Spotify refuses `localhost` redirect URIs.
  let redirectUri = '';
  const code = await new Promise<string>((resolve, reject) => {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/callback') {
        res.statusCode = 404;
        res.end();
        return;
      }
      const error = url.searchParams.get('error');
      const got = url.searchParams.get('code');
      const ok = !error && got && url.searchParams.get('state') === state;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(ok ? 'Connected. You can close this tab.\n' : `Not connected: ${error ?? 'state mismatch'}\n`);
      clearTimeout(timer);
      server.closeAllConnections();
      server.close();
      if (ok) resolve(got);
      else
        reject(
          new MdsError(
            `Spotify login: the authorization was not granted (${error ?? 'the state did not match'})`,
          ),
        );
    });
    const timer = setTimeout(() => {
      server.close();
      reject(
        new MdsError(
          `Spotify login: no callback within ${flags.timeoutSeconds} s; run mds spotify login again`,
        ),
      );
    }, timeoutMs);
    server.once('error', (err) => {
      clearTimeout(timer);
      reject(new UsageError(`--port: cannot listen on 127.0.0.1:${flags.port} (${errorMessage(err)})`));
    });
    server.listen(parsePort(flags.port, '--port'), '127.0.0.1', () => {
      redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
      const authorize = new URL(`${accounts}/authorize`);
      authorize.search = new URLSearchParams({
        client_id: client.clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        code_challenge_method: 'S256',
        code_challenge: challenge,
        scope: SPOTIFY_SCOPES.join(' '),
        state,
      }).toString();
      print(`Open this URL in a browser and allow access:\n${authorize.toString()}`);
    });
  });

  const spotify = new SpotifyClient({ apiBaseUrl: api, accountsBaseUrl: accounts });
  const grant = await spotify.exchangeCode(client, code, redirectUri, verifier);
  const profile = await spotify.me(grant.accessToken);
  if (flags.env) {
    const names = spotifySecretNames(stackName(flags.env as EnvironmentName, 'Ingest'));
    await saveToSecrets(names, profile.id, grant.refreshToken, client.clientId);
    print(`Connected Spotify user ${profile.id}; its refresh token is in the secret ${names.tokens}.`);
  } else {
    await ensureDirectory(flags.dataDir, '--data-dir');
    const file = localSpotifyPaths(flags.dataDir).tokens;
    const store = new FileTokenStore(file);
    await store.saveClient(client);
    await store.saveRefreshToken(profile.id, grant.refreshToken);
    print(`Connected Spotify user ${profile.id}; its refresh token is in ${file} (mode 0600).`);
  }
  return profile.id;
}

async function saveToSecrets(
  names: { client: string; tokens: string },
  userId: string,
  refreshToken: string,
  clientId: string,
): Promise<void> {
  const sm = new SecretsManagerClient({});
  const read = async (id: string): Promise<Record<string, unknown>> => {
    try {
      const out = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      return JSON.parse(out.SecretString ?? '{}') as Record<string, unknown>;
    } catch (err) {
      throw new MdsError(
        `secret ${id}: cannot read it (${errorMessage(err)}); is the Ingest stack deployed there?`,
        {
          cause: err,
        },
      );
    }
  };
  const tokens = (await read(names.tokens)) as Partial<TokensFile>;
  const users = {
    ...tokens.users,
    [userId]: { refresh_token: refreshToken, connected_at: new Date().toISOString() },
  };
  await sm.send(
    new PutSecretValueCommand({ SecretId: names.tokens, SecretString: JSON.stringify({ users }) }),
  );
  // A PKCE token is refreshed with the client id alone: the client secret gets the id if it has none yet.
  const credentials = await read(names.client);
  if (typeof credentials.client_id !== 'string' || !credentials.client_id) {
    await sm.send(
      new PutSecretValueCommand({
        SecretId: names.client,
        SecretString: JSON.stringify({ client_id: clientId }),
      }),
    );
  }
}

/**
 * One poll by the synthesized poller bundle in the local Lambda runtime. The template's environment is kept
 * (resolved locally); the overrides, listed by the runtime, are the local state store
 * (SPOTIFY_STATE_STORE=file, SPOTIFY_DATA_DIR), the base URLs and KAFKA_AUTH=plaintext.
 */
export async function pollLocally(
  flags: PollFlags,
  log: (line: string) => void = () => undefined,
): Promise<PollSummary> {
  const poller = await startLocalPoller(flags, log);
  try {
    return await poller.poll();
  } finally {
    await poller.close();
  }
}

export interface LocalPoller {
  /** One invocation of the poller function (the same execution environment each time, as a warm Lambda). */
  poll(): Promise<PollSummary>;
  /** The runtime's report of the function: its overrides, cold starts and invocations. */
  report(): ReturnType<LocalLambdaRuntime['report']>[number];
  close(): Promise<void>;
}

/** The poller function of the synthesized assembly, registered in a local Lambda runtime. */
export async function startLocalPoller(
  flags: Omit<PollFlags, 'json'> & { readonly assembly?: CloudAssembly },
  log: (line: string) => void = () => undefined,
): Promise<LocalPoller> {
  const api = checkUrl(flags.apiBaseUrl, '--api-base-url');
  const accounts = checkUrl(flags.accountsBaseUrl, '--accounts-base-url');
  const dataDir = path.resolve(flags.dataDir);
  const paths = localPaths(dataDir);
  const assembly = flags.assembly ?? (await synthesizeAssembly({ envName: 'dev', log }));
  const runtime = await startLocalFunctions(
    assembly,
    {
      region: LOCAL_DEFAULTS.region,
      bucket: LOCAL_DEFAULTS.bucket,
      s3Endpoint: 'http://127.0.0.1:1', // the poller uses no S3
      kafkaBootstrap: flags.brokers,
      warehouse: { kind: 'duckdb', path: paths.warehouse },
      warehouseLock: (fn) => fn(),
    },
    {
      logDir: path.join(paths.root, 'logs'),
      only: [POLLER_FUNCTION_ID],
      extraEnvironment: {
        [POLLER_FUNCTION_ID]: {
          SPOTIFY_STATE_STORE: 'file',
          SPOTIFY_DATA_DIR: dataDir,
          SPOTIFY_API_BASE_URL: api,
          SPOTIFY_ACCOUNTS_BASE_URL: accounts,
        },
      },
    },
  );
  return {
    poll: async () => (await runtime.invoke(POLLER_FUNCTION_ID, {})) as PollSummary,
    report: () => runtime.report().find((f) => f.id === POLLER_FUNCTION_ID)!,
    close: () => runtime.close(),
  };
}

export function describePoll(s: PollSummary): string {
  const lines = [
    `Spotify poll: ${s.users} user(s), ${s.polled} polled, ${s.plays} play(s) produced, ${s.leftOut} left out (local files), ` +
      `${s.possibleGaps} possible gap(s), ${s.invalidGrant} consent(s) expired, ${s.failed} failed`,
  ];
  for (const r of s.results) {
    if (r.status === 'polled') {
      lines.push(
        `  ${r.userId}: ${r.plays} play(s)${r.possibleGap ? ', a full page since the cursor: older plays may be missing' : ''}`,
      );
    } else {
      lines.push(`  ${r.message ?? `${r.userId}: ${r.status}`}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
