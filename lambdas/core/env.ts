/**
 * Environment contracts: the variables one function reads, declared once beside its handler. The CDK
 * construct writes the function's environment through `write` (so a stack cannot set a variable the function
 * does not read, nor a value it would refuse), and the handler reads it through `read`. A missing or bad value
 * is a ConfigError that names the variable and the fix, at synth or at the function's first invocation.
 *
 * Values that are CloudFormation tokens at synth (a bucket's name, a topic's ARN) are written as they are;
 * they are checked when the function reads them.
 */
import { ConfigError } from './errors.ts';

/** One variable: how it is parsed, and whether it may be absent. */
export interface EnvVariable<T> {
  readonly description: string;
  /** Parses the text; throws a string (the problem) when it is not acceptable. */
  readonly parse: (text: string) => T;
  /** The value when the variable is absent or empty; without one the variable is required. */
  readonly fallback?: T;
}

type Spec = Readonly<Record<string, EnvVariable<unknown>>>;
type Values<S extends Spec> = {
  readonly [K in keyof S]: S[K] extends EnvVariable<infer T> ? T : never;
};
/** What a stack passes to `write`: text or a number per variable (a required one left out fails at synth). */
type Inputs<S extends Spec> = { readonly [K in keyof S]?: string | number };

export interface EnvContract<S extends Spec> {
  readonly variables: S;
  /** The function's settings from its environment (process.env in the handler). */
  read(env: Readonly<Record<string, string | undefined>>): Values<S>;
  /** The environment a stack gives the function: every value checked as `read` would check it. */
  write(values: Inputs<S>): Record<string, string>;
}

/** A CDK string token (`${Token[...]}`), resolved only at deploy. */
const UNRESOLVED = /\$\{Token\[/;

export function envContract<S extends Spec>(functionName: string, variables: S): EnvContract<S> {
  const parseOne = (name: string, raw: string | undefined): unknown => {
    const variable = variables[name]!;
    if (raw === undefined || raw.trim() === '') {
      if (variable.fallback !== undefined) return variable.fallback;
      throw new ConfigError(name, 'is not set', `Set it to ${variable.description} (${functionName})`);
    }
    try {
      return variable.parse(raw.trim());
    } catch (problem) {
      throw new ConfigError(
        name,
        `${JSON.stringify(raw)} ${typeof problem === 'string' ? problem : String(problem)}`,
        `Set it to ${variable.description} (${functionName})`,
      );
    }
  };
  return {
    variables,
    read(env) {
      const out: Record<string, unknown> = {};
      for (const name of Object.keys(variables)) out[name] = parseOne(name, env[name]);
      return out as Values<S>;
    },
    write(values) {
      const given = values as Readonly<Record<string, string | number | undefined>>;
      for (const name of Object.keys(given)) {
        if (!(name in variables)) {
          throw new ConfigError(name, `is not read by ${functionName}`, 'Remove it from the environment');
        }
      }
      const out: Record<string, string> = {};
      for (const name of Object.keys(variables)) {
        const value = given[name];
        if (value === undefined) {
          parseOne(name, undefined); // a required variable left out fails here, at synth
          continue;
        }
        const text = String(value);
        if (!UNRESOLVED.test(text)) parseOne(name, text);
        out[name] = text;
      }
      return out;
    },
  };
}

/** A non-empty string. */
export function envString(description: string, fallback?: string): EnvVariable<string> {
  return { description, fallback, parse: (text) => text };
}

/** A whole number in [min, max]. */
export function envInt(
  description: string,
  min: number,
  max: number,
  fallback?: number,
): EnvVariable<number> {
  return {
    description,
    fallback,
    parse: (text) => {
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < min || n > max) throw `is not a whole number from ${min} to ${max}`;
      return n;
    },
  };
}

/** An ISO-8601 instant with its zone (e.g. 2008-10-07T00:00:00Z), read as the same instant everywhere. */
export function envInstant(description: string, fallback?: string): EnvVariable<string> {
  return {
    description,
    fallback,
    parse: (text) => {
      const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)
        ? Date.parse(text)
        : Number.NaN;
      if (Number.isNaN(ms)) throw 'is not an ISO-8601 instant with a zone, like 2008-10-07T00:00:00Z';
      return new Date(ms).toISOString();
    },
  };
}

/** One of a fixed set of words. */
export function envEnum<T extends string>(
  description: string,
  values: readonly T[],
  fallback?: T,
): EnvVariable<T> {
  return {
    description,
    fallback,
    parse: (text) => {
      if (!(values as readonly string[]).includes(text)) throw `is not one of ${values.join(', ')}`;
      return text as T;
    },
  };
}

/** An object-key prefix ending in "/" (a folder), without a leading "/". */
export function envFolderPrefix(description: string, fallback: string): EnvVariable<string> {
  return {
    description,
    fallback,
    parse: (text) => {
      if (!text.endsWith('/') || text.startsWith('/')) {
        throw `is not a folder prefix like "${fallback}" (no leading "/", a trailing "/")`;
      }
      return text;
    },
  };
}

/** BUCKET_NAME: every function that reads or writes the Bronze bucket names it the same way. */
export const BUCKET_NAME = envString('the name of the Bronze bucket');
