/** The replication stream's public types: what it delivers and how it is configured. */
import type { ResumeResult, StreamPosition } from './resumeLog.js';
import type { ReplicationError } from './errors.js';

/** One column of the changed table, as Supabase lists it in `columns`. */
export interface ChangeColumn {
  name: string;
  /** pg_type.typname of the column's declared type (`int4`, `_text`, a domain's or enum's own name). */
  type: string;
}

/** The Supabase error a change of a table without a primary key carries (shared with the client: lib/protocol). */
export { NO_PRIMARY_KEY_ERROR } from '../../../protocol/postgresChanges.js';

/**
 * One row change of a committed transaction. Key presence follows Supabase: INSERT has `record`,
 * UPDATE `record` and `oldRecord`, DELETE `oldRecord`; the `*Text` twins hold the same keys.
 * TRUNCATE (one event per truncated table) has no rows: Supabase sends nothing for it, and our
 * server tells the table's subscribers to resync.
 */
export interface ChangeEvent {
  /** `formatPosition(commitLsn, index of the change in its transaction)`: increases along the stream. */
  position: StreamPosition;
  /** The commit's time as Supabase prints `commit_timestamp`: UTC, milliseconds, `2026-11-24T10:00:00.123Z`. */
  commitTimestamp: string;
  schema: string;
  table: string;
  type: 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE';
  /** Shared by every event of the same table (until its next Relation message): do not mutate. */
  columns: readonly ChangeColumn[];
  /** The new row as JSON values (to_json's), without unchanged TOASTed columns the log left out. */
  record?: Record<string, unknown>;
  /** The old row (REPLICA IDENTITY FULL), the old key (key changed, or DELETE), or the key read from the new row. */
  oldRecord?: Record<string, unknown>;
  /** `record`'s values as PostgreSQL's text output (null for NULL), for filter matching. */
  recordText?: Record<string, string | null>;
  /** `oldRecord`'s values as text output. */
  oldRecordText?: Record<string, string | null>;
  /** Primary key column names (empty when the table has none). Shared: do not mutate. */
  primaryKey: readonly string[];
  /** `null`, or `[NO_PRIMARY_KEY_ERROR]` for a table without a primary key (Supabase withholds the row then). */
  errors: string[] | null;
}

/** A transactional logical decoding message: `pg_logical_emit_message(true, prefix, content)`. */
export interface LogicalMessage {
  prefix: string;
  /** The content as UTF-8 text. */
  content: string;
  /** The 32-bit id of the transaction that emitted it (pgoutput's Begin). */
  xid: number;
}

/** The stream's connection state, reported through `onStatus`. */
export interface ReplicationStatus {
  state: 'reconnecting' | 'live';
  /**
   * True when changes may have been missed: the temporary slot died with its connection, so
   * whatever committed between the drop and the new slot is not in the stream. Subscribers should
   * refetch once the state is `live` again (a refetch during `reconnecting` could still miss changes
   * committed before the new slot exists).
   */
  resyncNeeded: boolean;
  /** With `live`: the stream is complete after this position (pass it to the resume log's `reset`). */
  startPosition?: StreamPosition;
  /** Why a resync is needed: the connection was lost, or a transaction was too large to deliver. */
  reason?: 'connection_lost' | 'transaction_too_large';
}

export interface ReplicationStreamOptions {
  /** A connection string of a role with the REPLICATION attribute (or a superuser). */
  databaseUrl: string;
  /** The publication to stream (it must exist). */
  publication: string;
  /** Base name of the temporary slots (`[a-z0-9_]`, at most 50 characters); default `rtk_realtime_<random>`. */
  slotName?: string;
  /**
   * Receives the changes of one or more committed transactions (those that arrived together), in
   * commit order, never splitting a transaction. Synchronous: the batch is acknowledged to
   * PostgreSQL once it returns. First called after start() resolved, and after a new slot's `live`
   * status, so the caller knows where the stream (re)starts before any change of it arrives.
   */
  onChanges: (events: ChangeEvent[]) => void;
  /**
   * Prefixes of transactional logical messages (`pg_logical_emit_message(true, prefix, ...)`) to
   * hand to `onMessage`. Default none (pgoutput is then not asked for messages).
   */
  messagePrefixes?: readonly string[];
  /**
   * Receives each wanted message in commit order with `onChanges`: after the changes of every
   * transaction committed before the message's, before those of its own transaction and of every
   * transaction committed after it. Synchronous, like onChanges.
   */
  onMessage?: (message: LogicalMessage) => void;
  /** Problems the stream handles by itself (reconnects, dropped transactions, a throwing callback). */
  onError?: (error: ReplicationError) => void;
  /** Connection state changes after `start()` resolved. */
  onStatus?: (status: ReplicationStatus) => void;
  /** TimeZone for the replication session; default the database's (what PostgREST's sessions see). */
  timeZone?: string;
  /** Changes of one transaction kept at most; a larger one is dropped and a resync requested. Default 200,000. */
  maxTransactionChanges?: number;
  /** Delays between reconnection attempts, in ms; the last one repeats. Default 100, 250, 500, 1000, 2000, 5000. */
  reconnectDelaysMs?: readonly number[];
}

export interface ReplicationStream {
  /** Creates the slot and starts streaming; resolves once changes committed from now on will be delivered. */
  start(): Promise<{ startPosition: StreamPosition }>;
  /** Ends streaming, reconnection timers and connections; resolves once PostgreSQL released the slot. */
  stop(): Promise<void>;
  /**
   * A stream read from a log other processes share (the cluster's, cluster/clusterStream.ts) holds
   * the resume log itself: the changes after `position`, up to `upTo` (what the caller dispatched).
   */
  since?(position: unknown, upTo: StreamPosition | undefined): Promise<ResumeResult<ChangeEvent>>;
  /** With `since`: resolves once this process delivered every change up to `position` that the shared log holds (or gave up waiting). */
  reached?(position: StreamPosition): Promise<void>;
}
