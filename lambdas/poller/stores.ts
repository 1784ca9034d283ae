/**
 * Where the poller keeps what survives an invocation, behind two small interfaces:
 * - the cursor store: per user, the recently-played cursor (unix ms of the newest play produced) and the
 *   country /v1/me gave once; a DynamoDB table in AWS, `spotify/cursors.json` in the local data directory;
 * - the token store: the client credentials and per-user refresh tokens; Secrets Manager in AWS (one secret
 *   for the client, one for the users' tokens), `spotify/tokens.json` (mode 0600) locally.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, DataError } from '../core/errors.ts';
import type { ClientCredentials } from '../core/spotify/client.ts';

export interface UserCursor {
  /** Unix ms of the newest play produced; null before the first poll. */
  readonly cursorMs: number | null;
  /** The profile's country; undefined until /v1/me was asked, null if it has none. */
  readonly country: string | null | undefined;
  readonly updatedAt?: string;
}

export interface CursorStore {
  get(userId: string): Promise<UserCursor | undefined>;
  put(userId: string, cursor: UserCursor): Promise<void>;
}

export interface TokenStore {
  client(): Promise<ClientCredentials>;
  /** The connected users' ids, in a stable order. */
  users(): Promise<string[]>;
  refreshToken(userId: string): Promise<string>;
  saveRefreshToken(userId: string, refreshToken: string): Promise<void>;
}

/** The local files, under `<data dir>/spotify/`. */
export function localSpotifyPaths(dataDir: string): { dir: string; tokens: string; cursors: string } {
  const dir = path.join(path.resolve(dataDir), 'spotify');
  return { dir, tokens: path.join(dir, 'tokens.json'), cursors: path.join(dir, 'cursors.json') };
}

/** `spotify/tokens.json`: `{ client_id, client_secret?, users: { <id>: { refresh_token } } }`. */
export interface TokensFile {
  client_id?: string;
  client_secret?: string;
  users: Record<string, { refresh_token: string; connected_at?: string }>;
}

async function readJson<T>(file: string, empty: T): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new DataError(`${file} is not valid JSON; fix or remove it (mds spotify login writes it anew)`);
  }
}

/** Written to a temporary file and renamed over, so a crash never leaves half a file; mode 0600. */
export async function writeJsonPrivate(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

export class FileCursorStore implements CursorStore {
  constructor(private readonly file: string) {}
  async get(userId: string): Promise<UserCursor | undefined> {
    const all = await readJson<{ users: Record<string, UserCursor> }>(this.file, { users: {} });
    return all.users?.[userId];
  }
  async put(userId: string, cursor: UserCursor): Promise<void> {
    const all = await readJson<{ users: Record<string, UserCursor> }>(this.file, { users: {} });
    all.users = { ...all.users, [userId]: { ...cursor, updatedAt: new Date().toISOString() } };
    await writeJsonPrivate(this.file, all);
  }
}

export class FileTokenStore implements TokenStore {
  constructor(
    private readonly file: string,
    /** Overrides of the file's client id / secret (SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET). */
    private readonly override: Partial<ClientCredentials> = {},
  ) {}
  private read(): Promise<TokensFile> {
    return readJson<TokensFile>(this.file, { users: {} });
  }
  async client(): Promise<ClientCredentials> {
    const f = await this.read();
    const clientId = this.override.clientId ?? f.client_id;
    if (!clientId) {
      throw new ConfigError(
        'SPOTIFY_CLIENT_ID',
        `is not set and ${this.file} names no client`,
        'Connect an account with: mds spotify login --client-id <your app client id>',
      );
    }
    const clientSecret = this.override.clientSecret ?? f.client_secret;
    return clientSecret ? { clientId, clientSecret } : { clientId };
  }
  async users(): Promise<string[]> {
    return Object.keys((await this.read()).users ?? {}).sort();
  }
  async refreshToken(userId: string): Promise<string> {
    const token = (await this.read()).users?.[userId]?.refresh_token;
    if (!token)
      throw new DataError(`Spotify user ${userId}: no refresh token in ${this.file}; run mds spotify login`);
    return token;
  }
  async saveRefreshToken(userId: string, refreshToken: string): Promise<void> {
    const f = await this.read();
    f.users = { ...f.users, [userId]: { ...f.users?.[userId], refresh_token: refreshToken } };
    await writeJsonPrivate(this.file, f);
  }
  async saveClient(client: ClientCredentials): Promise<void> {
    const f = await this.read();
    f.client_id = client.clientId;
    if (client.clientSecret) f.client_secret = client.clientSecret;
    else delete f.client_secret;
    await writeJsonPrivate(this.file, f);
  }
}

/** The cursor table: partition key `user_id` (S); `cursor_ms` (N), `country` (S or NULL), `updated_at` (S). */
export class DynamoCursorStore implements CursorStore {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly table: string,
  ) {}
  async get(userId: string): Promise<UserCursor | undefined> {
    const { Item } = await this.dynamo.send(
      new GetItemCommand({ TableName: this.table, Key: { user_id: { S: userId } }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      cursorMs: Item.cursor_ms?.N !== undefined ? Number(Item.cursor_ms.N) : null,
      country: Item.country === undefined ? undefined : (Item.country.S ?? null),
      updatedAt: Item.updated_at?.S,
    };
  }
  async put(userId: string, cursor: UserCursor): Promise<void> {
    const item: Record<string, AttributeValue> = {
      user_id: { S: userId },
      updated_at: { S: new Date().toISOString() },
    };
    if (cursor.cursorMs !== null) item.cursor_ms = { N: String(cursor.cursorMs) };
    if (cursor.country !== undefined)
      item.country = cursor.country === null ? { NULL: true } : { S: cursor.country };
    await this.dynamo.send(new PutItemCommand({ TableName: this.table, Item: item }));
  }
}

/** The tokens secret's JSON: `{ "users": { "<id>": { "refresh_token": "..." } } }`. */
export class SecretsTokenStore implements TokenStore {
  private cache: TokensFile | undefined;
  constructor(
    private readonly secrets: SecretsManagerClient,
    private readonly clientSecretId: string,
    private readonly tokensSecretId: string,
  ) {}
  async client(): Promise<ClientCredentials> {
    const text = await this.value(this.clientSecretId);
    let parsed: { client_id?: unknown; client_secret?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (typeof parsed.client_id !== 'string' || !parsed.client_id) {
      throw new ConfigError(
        `secret ${this.clientSecretId}`,
        'holds no {"client_id": ..., "client_secret": ...} JSON',
        'Put the Spotify app credentials in it (docs/spotify.md, connecting an account)',
      );
    }
    return typeof parsed.client_secret === 'string' && parsed.client_secret
      ? { clientId: parsed.client_id, clientSecret: parsed.client_secret }
      : { clientId: parsed.client_id };
  }
  private async tokens(): Promise<TokensFile> {
    if (this.cache) return this.cache;
    const text = await this.value(this.tokensSecretId);
    try {
      const parsed = JSON.parse(text) as TokensFile;
      this.cache = { users: parsed.users ?? {} };
    } catch {
      throw new DataError(
        `secret ${this.tokensSecretId} is not {"users": {...}} JSON; connect a user with mds spotify login --env <env>`,
      );
    }
    return this.cache;
  }
  async users(): Promise<string[]> {
    this.cache = undefined; // read afresh once per poll
    return Object.keys((await this.tokens()).users).sort();
  }
  async refreshToken(userId: string): Promise<string> {
    const token = (await this.tokens()).users[userId]?.refresh_token;
    if (!token)
      throw new DataError(`Spotify user ${userId}: no refresh token in secret ${this.tokensSecretId}`);
    return token;
  }
  async saveRefreshToken(userId: string, refreshToken: string): Promise<void> {
    this.cache = undefined;
    const current = await this.tokens();
    current.users[userId] = { ...current.users[userId], refresh_token: refreshToken };
    await this.secrets.send(
      new PutSecretValueCommand({ SecretId: this.tokensSecretId, SecretString: JSON.stringify(current) }),
    );
  }
  private async value(id: string): Promise<string> {
    const out = await this.secrets.send(new GetSecretValueCommand({ SecretId: id }));
    return out.SecretString ?? '';
  }
}
