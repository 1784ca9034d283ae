/** The external endpoint settings of mds local up: flags over environment, and every malformed value refused by name. */
import { describe, expect, it } from 'vitest';
import { resolveEndpoints } from '../../localstack/pipeline/endpoint-settings.ts';

describe('resolveEndpoints', () => {
  it('is empty (every stand-in embedded) without flags or variables', () => {
    expect(resolveEndpoints({}, {})).toEqual({});
  });

  it('reads the MDS_* variables; a flag wins over its variable and is named as the setting', () => {
    const env = {
      MDS_BROKERS: 'a:9092, b:9093',
      MDS_S3_ENDPOINT: 'http://s3:8333/',
      MDS_BUCKET: 'env-bucket',
    };
    expect(resolveEndpoints({}, env)).toEqual({
      brokers: { list: ['a:9092', 'b:9093'], setting: 'MDS_BROKERS' },
      s3: { endpoint: 'http://s3:8333', setting: 'MDS_S3_ENDPOINT' },
      bucket: { name: 'env-bucket', setting: 'MDS_BUCKET' },
    });
    expect(resolveEndpoints({ brokers: 'c:1' }, env).brokers).toEqual({
      list: ['c:1'],
      setting: '--brokers',
    });
  });

  it('takes the Postgres password from PGPASSWORD only, and shows the URL without it', () => {
    const w = resolveEndpoints(
      { warehouse: 'postgres://mds@db:6543/wh' },
      { PGPASSWORD: 's3cret' },
    ).warehouse;
    expect(w).toEqual({
      kind: 'postgres',
      display: 'postgres://mds@db:6543/wh',
      connection: { host: 'db', port: 6543, user: 'mds', database: 'wh', password: 's3cret', ssl: false },
      setting: '--warehouse',
    });
    expect(resolveEndpoints({ warehouse: 'postgresql://u@h/d?sslmode=require' }, {}).warehouse).toMatchObject(
      {
        connection: { port: 5432, ssl: true },
      },
    );
    expect(resolveEndpoints({}, { MDS_WAREHOUSE: 'duckdb:/srv/w.duckdb' }).warehouse).toEqual({
      kind: 'duckdb',
      path: '/srv/w.duckdb',
      setting: 'MDS_WAREHOUSE',
    });
  });

  it.each([
    [{ brokers: 'localhost' }, /^--brokers "localhost": expected HOST:PORT/],
    [{ brokers: 'h:70000' }, /^--brokers "h:70000": expected HOST:PORT/],
    [{ s3Endpoint: 'ftp://x' }, /^--s3-endpoint "ftp:\/\/x": expected the S3 server's URL/],
    [{ s3Endpoint: 'http://key:secret@x' }, /never from the URL/],
    [{ bucket: 'Bad_Bucket' }, /^--bucket "Bad_Bucket": not an S3 bucket name/],
    [{ warehouse: 'mysql://x' }, /^--warehouse "mysql:\/\/x": expected duckdb:FILE or postgres:/],
    [{ warehouse: 'postgres://db:5432/wh' }, /user, host and database are required/],
    [
      { warehouse: 'postgres://u:pw@db/wh' },
      /^--warehouse: the URL holds a password; remove it and set PGPASSWORD/,
    ],
  ])('refuses %j', (flags, message) => {
    expect(() => resolveEndpoints(flags, {})).toThrow(message);
  });

  it('never echoes a password given in the URL', () => {
    expect(() => resolveEndpoints({ warehouse: 'postgres://u:hunter2@db/wh' }, {})).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') as unknown }),
    );
  });
});
