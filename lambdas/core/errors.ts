/**
 * Typed errors shared by handlers, the CLI and the local stand-ins.
 * Every error carries a message a user can act on; `cause` keeps the original error.
 */
export class MdsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line input or configuration: the CLI prints the message on one line and exits with 2. */
export class UsageError extends MdsError {}

/** A setting has an invalid value; names the setting and how to fix it. */
export class ConfigError extends MdsError {
  constructor(
    readonly setting: string,
    problem: string,
    fix: string,
  ) {
    super(`${setting}: ${problem}. ${fix}`);
  }
}

/** A dependency (broker, object store, warehouse) failed in a way that a retry may fix. */
export class TransientError extends MdsError {}

/** The data itself is wrong (a bad record, a corrupt object); retrying will not help. */
export class DataError extends MdsError {}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Input that cannot be processed as asked (e.g. a workflow window that is not on hour boundaries); retrying will not help. */
export class ValidationError extends MdsError {}
