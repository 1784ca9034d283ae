/**
 * Decoding Bronze objects for the engines that load them from bytes (DuckDB, Postgres): gunzip, count
 * lines, and, when a bulk load rejects an object, validate it line by line in JavaScript so every bad line
 * is reported with its object key and 1-based line number.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { errorMessage } from '../errors.ts';
import { EVENT_COLUMNS, MAX_LINE_ERRORS_PER_OBJECT, type LoadError } from './types.ts';

export type DecodedObject =
  | { readonly ok: true; readonly text: Buffer; readonly lines: number; readonly regular: boolean }
  | { readonly ok: false; readonly error: string };

const NL = 0x0a;

const gunzipAsync = promisify(gunzip);

/**
 * Gunzips an object (on the libuv thread pool, so several objects inflate at once). `regular` is true when every line is non-empty and the text ends with one newline
 * (or none): then the n-th record a JSON reader returns is line n, which the DuckDB bulk path relies on.
 */
export async function decodeObject(bytes: Uint8Array): Promise<DecodedObject> {
  let text: Buffer;
  try {
    text = await gunzipAsync(bytes);
  } catch (err) {
    return { ok: false, error: `cannot gunzip the object (${errorMessage(err)}); is it truncated?` };
  }
  if (text.length === 0) return { ok: true, text, lines: 0, regular: true };
  let lines = 0;
  let regular = text[0] !== NL;
  let prev = -1;
  for (let i = text.indexOf(NL); i !== -1; i = text.indexOf(NL, i + 1)) {
    if (i === prev + 1) regular = false;
    lines++;
    prev = i;
  }
  if (prev !== text.length - 1) lines++;
  else if (text.length > 1 && text[text.length - 2] === NL) regular = false;
  return { ok: true, text, lines, regular };
}

/** A validated line: the event's values in EVENT_COLUMNS order, plus its line number. */
export interface ValidLine {
  readonly line: number;
  readonly values: readonly (string | number | null)[];
}

export interface ValidatedObject {
  readonly valid: ValidLine[];
  readonly errors: LoadError[];
  readonly badLines: number;
}

const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z?$/;

/** Validates every line of an object against the Bronze column types; errors are capped per object. */
export function validateLines(key: string, text: Buffer): ValidatedObject {
  const valid: ValidLine[] = [];
  const errors: LoadError[] = [];
  let badLines = 0;
  const lines = text.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const problem = lineProblem(raw);
    if (typeof problem === 'string') {
      badLines++;
      if (errors.length < MAX_LINE_ERRORS_PER_OBJECT) errors.push({ key, line: i + 1, message: problem });
    } else {
      valid.push({ line: i + 1, values: problem });
    }
  });
  if (badLines > errors.length) {
    errors.push({ key, message: `${badLines - errors.length} more bad lines not listed` });
  }
  return { valid, errors, badLines };
}

function lineProblem(raw: string): string | (string | number | null)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    return `malformed JSON: ${errorMessage(err)}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return 'not a JSON object';
  }
  const record = parsed as Record<string, unknown>;
  const values: (string | number | null)[] = [];
  for (const col of EVENT_COLUMNS) {
    const v = record[col.field];
    if (v === undefined || v === null) {
      values.push(null);
      continue;
    }
    switch (col.type) {
      case 'VARCHAR':
        if (typeof v !== 'string') return `${col.field}: expected a string, got ${JSON.stringify(v)}`;
        values.push(v);
        break;
      case 'TIMESTAMP':
        if (typeof v !== 'string' || !TIMESTAMP_RE.test(v) || Number.isNaN(Date.parse(v))) {
          return `${col.field}: expected an ISO-8601 UTC timestamp, got ${JSON.stringify(v)}`;
        }
        values.push(v);
        break;
      case 'BIGINT':
      case 'INTEGER': {
        const limit = col.type === 'INTEGER' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
        if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > limit) {
          return `${col.field}: expected an integer, got ${JSON.stringify(v)}`;
        }
        values.push(v);
        break;
      }
    }
  }
  return values;
}

/** Runs `fn` over items with at most `limit` in flight, keeping the order of results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
