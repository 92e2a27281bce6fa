/** Errors of the replication stream, each with a stable `code` to switch on. */

export type ReplicationErrorCode =
  /** An option of `createReplicationStream` is missing or invalid (`start()` was not attempted). */
  | 'REPLICATION_BAD_OPTION'
  /** `start()` called twice, or after `stop()`. */
  | 'REPLICATION_BAD_STATE'
  /** The publication named in the options does not exist in the database. */
  | 'REPLICATION_PUBLICATION_MISSING'
  /** Connecting, creating the slot or starting replication failed (PostgreSQL's message included). */
  | 'REPLICATION_CONNECT_FAILED'
  /** The replication connection ended while streaming; the stream reconnects by itself. */
  | 'REPLICATION_CONNECTION_LOST'
  /** Looking up the types or primary key of a table in the catalog failed; the stream reconnects. */
  | 'REPLICATION_CATALOG_FAILED'
  /** A pgoutput message we could not decode, or one that refers to a relation never described. */
  | 'REPLICATION_PROTOCOL'
  /** A transaction exceeded `maxTransactionChanges`: its changes were dropped and a resync requested. */
  | 'REPLICATION_TRANSACTION_TOO_LARGE'
  /** `onChanges` (or `onStatus`) threw; the batch counts as delivered. */
  | 'REPLICATION_CALLBACK_FAILED';

/** What the replication stream throws or reports through `onError`. */
export class ReplicationError extends Error {
  override readonly name = 'ReplicationError';
  constructor(
    readonly code: ReplicationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is a ReplicationError, optionally with the given code. */
export function isReplicationError(error: unknown, code?: ReplicationErrorCode): error is ReplicationError {
  return error instanceof ReplicationError && (code === undefined || error.code === code);
}

/** PostgreSQL's (or the socket's) message, for wrapping into a ReplicationError. */
export function describeCause(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
