/** Stable codes for every way `startStack` can fail. */
export type StackErrorCode =
  | 'BAD_OPTION'
  | 'PORT_IN_USE'
  | 'SQL_FAILED'
  | 'POSTGRES_FAILED'
  | 'POSTGREST_FAILED'
  | 'REALTIME_FAILED'
  | 'REDIS_FAILED'
  | 'NO_BINARY'
  | 'MISSING_PACKAGE';

/** Where a failing SQL statement is: `file` as shown to the user, 1-based `line` when known. */
export interface SqlLocation {
  file: string;
  line?: number;
}

export interface StackErrorDetails {
  /** The port that was in use (`PORT_IN_USE`). */
  port?: number;
  /** The SQL source that failed (`SQL_FAILED`). */
  sql?: SqlLocation;
  /** PostgreSQL's SQLSTATE (`SQL_FAILED`). */
  sqlState?: string;
  /** Captured process log lines (`POSTGRES_FAILED`, `POSTGREST_FAILED`). */
  log?: string[];
  cause?: unknown;
}

/** The one error class the dev stack throws; switch on `code`, show `message`. */
export class StackError extends Error {
  override readonly name = 'StackError';
  readonly code: StackErrorCode;
  readonly port?: number;
  readonly sql?: SqlLocation;
  readonly sqlState?: string;
  readonly log?: string[];

  constructor(code: StackErrorCode, message: string, details: StackErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.port !== undefined) this.port = details.port;
    if (details.sql !== undefined) this.sql = details.sql;
    if (details.sqlState !== undefined) this.sqlState = details.sqlState;
    if (details.log !== undefined) this.log = details.log;
  }
}

/** True when `error` is a StackError, optionally with the given code. */
export function isStackError(error: unknown, code?: StackErrorCode): error is StackError {
  return error instanceof StackError && (code === undefined || error.code === code);
}
