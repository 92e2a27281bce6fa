/**
 * One replication connection, from creating its temporary slot to its end: decodes the stream,
 * hands out committed transactions in batches and acknowledges them. The stream (stream.ts)
 * replaces it with a new one when it ends.
 *
 * Batching: pg parses a whole socket read synchronously, emitting one message after another, so a
 * flush queued as a microtask runs once per read and delivers every transaction committed in it;
 * a transaction is never split (its Commit is what makes it ready).
 *
 * Acknowledging: after `deliver` returns for a batch, we report its last commit's end LSN as
 * written and flushed. Nothing is acknowledged before it was handed over, so PostgreSQL would
 * re-send rather than skip on a restart (with a temporary slot there is no restart to resume, but
 * it keeps the slot's WAL bound by what we processed). When idle (no open, blocked or undelivered
 * transaction), keepalives' WAL end is acknowledged too, or a slot whose publication has nothing to
 * send would never let PostgreSQL recycle WAL.
 *
 * Catalog lookups (new tables, types) are the only asynchronous step: the messages behind a
 * Relation that needs one wait in a backlog, in order, until it is answered.
 */
import { LogicalReplicationService } from 'pg-logical-replication';
import { parseLsn } from './resumeLog.js';
import { TransactionAssembler, type CommittedTransaction } from './changes.js';
import { describeCause, ReplicationError } from './errors.js';
import type { PgoutputMessage } from './pgoutput.js';
import type { RelationCatalog, RelationShape } from './relations.js';
import { formatLsn, TemporarySlotPlugin } from './slot.js';

export interface ReplicationConnectionOptions {
  databaseUrl: string;
  /** Startup `options` with the session settings (session.ts). */
  startupOptions: string;
  publication: string;
  slotName: string;
  catalog: RelationCatalog;
  maxTransactionChanges: number;
  /** Prefixes of transactional logical messages to deliver with their transactions (none: pgoutput sends no messages). */
  messagePrefixes?: readonly string[];
  /** Receives committed transactions in commit order; synchronous, acknowledged once it returns. */
  deliver: (transactions: CommittedTransaction[]) => void;
}

export interface ReplicationConnection {
  /** The slot's consistent point, once replication started: later commits are all streamed. */
  readonly started: Promise<bigint>;
  /** Settles when the connection is over: with what ended it, or null after `close()`. */
  readonly ended: Promise<ReplicationError | null>;
  /**
   * Starts handing out transactions (held, unacknowledged, until then), from a later macrotask: the
   * stream first tells its caller where the stream starts (start() / the `live` status).
   */
  resume(): void;
  /** Ends the connection (PostgreSQL then drops the temporary slot). Idempotent. */
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 10_000;

/** Shown in pg_stat_activity / pg_stat_replication. */
export const APPLICATION_NAME = 'rtk-postgrest realtime';

/** Connects, creates the slot and starts streaming; see the module notes. */
export function openReplicationConnection(options: ReplicationConnectionOptions): ReplicationConnection {
  const { catalog, deliver } = options;
  const service = new LogicalReplicationService(
    {
      connectionString: options.databaseUrl,
      options: options.startupOptions,
      application_name: APPLICATION_NAME,
      // A silently dead peer must end the connection (and so trigger a reconnect), not hang it.
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    },
    { acknowledge: { auto: false, timeoutSeconds: 0 } },
  );
  const prefixes = new Set(options.messagePrefixes ?? []);
  const plugin = new TemporarySlotPlugin(options.publication, prefixes.size > 0);
  const relations = new Map<number, RelationShape>();
  const assembler = new TransactionAssembler(relations, options.maxTransactionChanges, prefixes);

  let closed = false;
  let streaming = false;
  let blocked = false;
  let backlog: PgoutputMessage[] = [];
  let backlogAt = 0;
  let ready: CommittedTransaction[] = [];
  let flushQueued = false;
  let paused = true;
  let acknowledged = 0n;
  let closing: Promise<void> | undefined;

  let resolveStarted!: (point: bigint) => void;
  let rejectStarted!: (error: ReplicationError) => void;
  const started = new Promise<bigint>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  // A rejection nobody awaits (the stream stopped first) must not surface as unhandled.
  started.catch(() => undefined);
  let resolveEnded!: (error: ReplicationError | null) => void;
  const ended = new Promise<ReplicationError | null>((resolve) => {
    resolveEnded = resolve;
  });

  /** Ends the connection once, for the first reason that comes up. */
  const end = (error: ReplicationError | null): Promise<void> => {
    if (!closed) {
      // Transactions already complete are worth handing over before the loss is reported.
      if (error !== null && !paused && ready.length > 0) {
        const batch = ready;
        ready = [];
        deliver(batch);
      }
      closed = true;
      if (!streaming) rejectStarted(error ?? new ReplicationError('REPLICATION_BAD_STATE', 'the replication stream was stopped while connecting'));
      resolveEnded(error);
      backlog = [];
      ready = [];
      closing = service.destroy().then(
        () => undefined,
        () => undefined,
      );
    }
    return closing!;
  };

  const fail = (error: unknown) => {
    if (error instanceof ReplicationError) {
      void end(error);
      return;
    }
    const code = streaming ? 'REPLICATION_CONNECTION_LOST' : 'REPLICATION_CONNECT_FAILED';
    void end(new ReplicationError(code, `replication connection: ${describeCause(error)}`, { cause: error }));
  };

  const acknowledge = (lsn: bigint) => {
    acknowledged = lsn;
    // The library reports the LSN it is given plus one ("last byte + 1"); we mean `lsn` itself.
    void service.acknowledge(formatLsn(lsn - 1n));
  };

  const flush = () => {
    flushQueued = false;
    if (closed || paused || ready.length === 0) return;
    const batch = ready;
    ready = [];
    deliver(batch);
    acknowledge(batch[batch.length - 1]!.endLsn);
  };

  const process = (message: PgoutputMessage) => {
    switch (message.tag) {
      case 'begin':
        assembler.begin(message);
        return;
      case 'insert':
      case 'update':
      case 'delete':
        assembler.change(message);
        return;
      case 'truncate':
        assembler.truncate(message);
        return;
      case 'message':
        assembler.message(message);
        return;
      case 'commit':
        ready.push(assembler.commit(message));
        if (!flushQueued) {
          flushQueued = true;
          queueMicrotask(flush);
        }
        return;
      case 'relation': {
        const shape = catalog.describe(message);
        if (!(shape instanceof Promise)) {
          relations.set(shape.oid, shape);
          return;
        }
        blocked = true;
        shape.then(
          (described) => {
            if (closed) return;
            relations.set(described.oid, described);
            blocked = false;
            drain();
          },
          (error: unknown) =>
            fail(new ReplicationError('REPLICATION_CATALOG_FAILED', `looking up ${message.schema}.${message.table} in the catalog: ${describeCause(error)}`, { cause: error })),
        );
        return;
      }
      default:
        // Origin and type messages carry nothing a change event needs.
        return;
    }
  };

  const drain = () => {
    try {
      while (!blocked && !closed && backlogAt < backlog.length) {
        const message = backlog[backlogAt]!;
        backlogAt++;
        process(message);
      }
    } catch (error) {
      fail(error);
      return;
    }
    if (backlogAt === backlog.length) {
      backlog = [];
      backlogAt = 0;
    }
  };

  service.on('data', (_lsn: string, message: PgoutputMessage) => {
    if (closed) return;
    if (blocked) {
      backlog.push(message);
      return;
    }
    try {
      process(message);
    } catch (error) {
      fail(error);
    }
  });

  service.on('heartbeat', (walEnd: string, _timestamp: number, replyRequested: boolean) => {
    if (closed || !streaming) return;
    const idle = !assembler.inTransaction && !blocked && ready.length === 0;
    const end = parseLsn(walEnd);
    if (idle && end > acknowledged) acknowledge(end);
    else if (replyRequested) acknowledge(acknowledged);
  });

  service.on('start', () => {
    if (closed) return;
    streaming = true;
    acknowledged = plugin.consistentPoint ?? 0n;
    resolveStarted(acknowledged);
  });

  service.on('error', (error: Error) => fail(error));

  service.subscribe(plugin, options.slotName).then(
    () => fail(new Error('PostgreSQL ended replication')),
    (error: unknown) => fail(error),
  );

  const resume = () => {
    if (!paused) return;
    paused = false;
    if (ready.length > 0 && !flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };

  return { started, ended, resume, close: () => end(null) };
}
