/**
 * createReplicationStream: committed row changes of one publication, as ChangeEvents, for as long
 * as it runs. It owns the catalog pool, the current replication connection (connection.ts) and the
 * reconnection schedule; what it hands out is in commit order with strictly increasing positions,
 * across reconnections too.
 *
 * On a lost connection (network, PostgreSQL restart, walsender terminated) it reports
 * `reconnecting` with `resyncNeeded: true` (the temporary slot is gone, see slot.ts), retries on a
 * backoff schedule, and reports `live` with the new start position once a new slot streams.
 */
import pg from 'pg';
import { formatPosition, type StreamPosition } from './resumeLog.js';
import type { CommittedTransaction } from './changes.js';
import { openReplicationConnection, APPLICATION_NAME, type ReplicationConnection } from './connection.js';
import { describeCause, isReplicationError, ReplicationError } from './errors.js';
import { RelationCatalog } from './relations.js';
import { readSessionSettings, startupOptions } from './session.js';
import { defaultSlotBase, validateSlotBase } from './slot.js';
import type { ChangeEvent, LogicalMessage, ReplicationStatus, ReplicationStream, ReplicationStreamOptions } from './types.js';
import { validateStreamOptions } from './validate.js';

/** Backoff between reconnection attempts; the last delay repeats until it works or stop(). */
export const DEFAULT_RECONNECT_DELAYS_MS: readonly number[] = [100, 250, 500, 1000, 2000, 5000];
/** Enough for bulk loads; bounds the memory one transaction can take (its events are held until its commit). */
export const DEFAULT_MAX_TRANSACTION_CHANGES = 200_000;

/** How long stop() waits for PostgreSQL to drop the temporary slots after their connection closed. */
const SLOT_RELEASE_TIMEOUT_MS = 2000;
const SLOT_RELEASE_POLL_MS = 20;
const MAX_SEQ = 0xffffffff;
const CATALOG_TIMEOUT_MS = 10_000;

/** Streams the publication's committed changes; see the module notes and ReplicationStreamOptions. */
export function createReplicationStream(input: ReplicationStreamOptions): ReplicationStream {
  const options = validateStreamOptions(input);
  const slotBase = options.slotName === undefined ? defaultSlotBase() : validateSlotBase(options.slotName);
  const delays = options.reconnectDelaysMs ?? DEFAULT_RECONNECT_DELAYS_MS;
  const maxTransactionChanges = options.maxTransactionChanges ?? DEFAULT_MAX_TRANSACTION_CHANGES;

  let phase: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  let pool: pg.Pool | undefined;
  let sessionOptions = '';
  let connection: ReplicationConnection | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let failedAttempts = 0;
  let connectionCount = 0;
  let slotName: string | undefined;
  let lastCommitLsn = -1n;
  let lostWhileStarting: ReplicationError | undefined;
  let stopping: Promise<void> | undefined;

  const report = (error: ReplicationError) => {
    try {
      options.onError?.(error);
    } catch {
      /* a throwing error handler has nowhere left to report to */
    }
  };

  const emitStatus = (status: ReplicationStatus) => {
    try {
      options.onStatus?.(status);
    } catch (error) {
      report(new ReplicationError('REPLICATION_CALLBACK_FAILED', `onStatus threw: ${describeCause(error)}`, { cause: error }));
    }
  };

  const handOver = (events: ChangeEvent[]) => {
    if (events.length === 0) return;
    try {
      options.onChanges(events);
    } catch (error) {
      report(new ReplicationError('REPLICATION_CALLBACK_FAILED', `onChanges threw: ${describeCause(error)}`, { cause: error }));
    }
  };

  const handMessage = (message: LogicalMessage) => {
    try {
      options.onMessage?.(message);
    } catch (error) {
      report(new ReplicationError('REPLICATION_CALLBACK_FAILED', `onMessage threw: ${describeCause(error)}`, { cause: error }));
    }
  };

  const deliver = (transactions: CommittedTransaction[]) => {
    if (phase !== 'running') return;
    let events: ChangeEvent[] = [];
    for (const transaction of transactions) {
      // A new slot starts after everything an old one streamed; this only guards that promise.
      if (transaction.commitLsn <= lastCommitLsn) continue;
      lastCommitLsn = transaction.commitLsn;
      if (transaction.messages.length > 0) {
        // Before its own transaction's changes: they were made under what the message announces.
        handOver(events);
        events = [];
        for (const message of transaction.messages) handMessage(message);
      }
      if (transaction.droppedChanges > 0) {
        handOver(events);
        events = [];
        report(
          new ReplicationError(
            'REPLICATION_TRANSACTION_TOO_LARGE',
            `a transaction with more than ${maxTransactionChanges} changes (${transaction.droppedChanges} over) was not delivered`,
          ),
        );
        // The positions of the dropped changes are missing from the stream: it is complete only after them.
        const startPosition = formatPosition(transaction.commitLsn, MAX_SEQ);
        emitStatus({ state: 'live', resyncNeeded: true, startPosition, reason: 'transaction_too_large' });
      } else if (events.length === 0) {
        events = transaction.events; // the common case: no copy
      } else {
        for (const event of transaction.events) events.push(event);
      }
    }
    handOver(events);
  };

  /** Opens a connection with a fresh slot; resolves with the position the stream is complete after. */
  const connect = async (): Promise<StreamPosition> => {
    slotName = `${slotBase}_${++connectionCount}`;
    const opened = openReplicationConnection({
      databaseUrl: options.databaseUrl,
      startupOptions: sessionOptions,
      publication: options.publication,
      slotName,
      // A new catalog per connection: a PostgreSQL restored or re-initialized meanwhile may reuse OIDs.
      catalog: new RelationCatalog(pool!),
      maxTransactionChanges,
      ...(options.messagePrefixes && { messagePrefixes: options.messagePrefixes }),
      deliver,
    });
    connection = opened;
    const consistentPoint = await opened.started;
    void opened.ended.then((error) => {
      if (connection === opened && error) lost(error);
    });
    // Commits at the consistent point itself are streamed, so the stream is complete after the position just before it.
    return formatPosition(consistentPoint - 1n, MAX_SEQ);
  };

  const lost = (error: ReplicationError) => {
    connection = undefined;
    if (phase === 'starting') lostWhileStarting = error;
    if (phase !== 'running') return;
    report(error);
    emitStatus({ state: 'reconnecting', resyncNeeded: true, reason: 'connection_lost' });
    scheduleReconnect();
  };

  const scheduleReconnect = () => {
    const delay = delays[Math.min(failedAttempts, delays.length - 1)]!;
    failedAttempts++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void reconnect();
    }, delay);
  };

  const reconnect = async () => {
    if (phase !== 'running') return;
    try {
      const startPosition = await connect();
      if (phase !== 'running') return;
      failedAttempts = 0;
      emitStatus({ state: 'live', resyncNeeded: true, startPosition, reason: 'connection_lost' });
      connection?.resume();
    } catch (error) {
      connection = undefined;
      if (phase !== 'running') return;
      report(asReplicationError(error, 'REPLICATION_CONNECT_FAILED'));
      scheduleReconnect();
    }
  };

  const release = async () => {
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    const closing = connection;
    connection = undefined;
    const catalogPool = pool;
    pool = undefined;
    // The walsender serving the slot exits a moment after the slot is dropped: wait for both.
    const walsender = catalogPool && slotName && closing ? await activePid(catalogPool, slotName) : undefined;
    await closing?.close();
    if (catalogPool) {
      if (slotName) await waitForSlotReleased(catalogPool, slotName, walsender);
      await catalogPool.end().catch(() => undefined);
    }
  };

  return {
    async start() {
      if (phase !== 'idle') throw new ReplicationError('REPLICATION_BAD_STATE', `start() can be called once, before stop() (the stream is ${phase})`);
      phase = 'starting';
      pool = new pg.Pool({
        connectionString: options.databaseUrl,
        max: 1,
        application_name: `${APPLICATION_NAME} catalog`,
        allowExitOnIdle: true,
        // The stream waits on catalog lookups: a hung one must fail (and reconnect) instead.
        connectionTimeoutMillis: CATALOG_TIMEOUT_MS,
        query_timeout: CATALOG_TIMEOUT_MS,
      });
      // An idle client that dies (PostgreSQL restarted) leaves the pool; the next query opens another.
      pool.on('error', () => undefined);
      const stillStarting = () => {
        if (phase !== 'starting') throw new ReplicationError('REPLICATION_BAD_STATE', 'the replication stream was stopped while starting');
      };
      try {
        await checkPublication(pool, options.publication);
        stillStarting();
        sessionOptions = startupOptions(await readSessionSettings(pool, options.timeZone));
        stillStarting();
        const startPosition = await connect();
        stillStarting();
        phase = 'running';
        if (lostWhileStarting) lost(lostWhileStarting);
        else connection?.resume();
        return { startPosition };
      } catch (error) {
        if (phase === 'starting') {
          phase = 'stopped';
          stopping = release();
        }
        await stopping;
        throw asReplicationError(error, 'REPLICATION_CONNECT_FAILED');
      }
    },

    stop() {
      if (phase === 'stopped') return stopping ?? Promise.resolve();
      phase = 'stopped';
      stopping = release();
      return stopping;
    },
  };
}

async function checkPublication(pool: pg.Pool, publication: string): Promise<void> {
  const { rows } = await pool.query('select 1 from pg_publication where pubname = $1', [publication]);
  if (rows.length === 0) {
    throw new ReplicationError('REPLICATION_PUBLICATION_MISSING', `publication ${JSON.stringify(publication)} does not exist in this database`);
  }
}

/** The pid of the walsender holding `slotName`, if any (and if PostgreSQL answers). */
async function activePid(pool: pg.Pool, slotName: string): Promise<number | undefined> {
  try {
    const { rows } = await pool.query<{ pid: number | null }>('select active_pid as pid from pg_replication_slots where slot_name = $1', [slotName]);
    return rows[0]?.pid ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL drops a temporary slot as its walsender exits, a moment after the socket closed; the
 * walsender process itself is gone a moment later still.
 */
async function waitForSlotReleased(pool: pg.Pool, slotName: string, walsender: number | undefined): Promise<void> {
  const deadline = Date.now() + SLOT_RELEASE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      const { rows } = await pool.query(
        'select 1 from pg_replication_slots where slot_name = $1 union all select 1 from pg_stat_activity where pid = $2',
        [slotName, walsender ?? 0],
      );
      if (rows.length === 0) return;
    } catch {
      return; // PostgreSQL is gone, and its temporary slots with it
    }
    await new Promise((resolve) => setTimeout(resolve, SLOT_RELEASE_POLL_MS));
  }
}

function asReplicationError(error: unknown, code: 'REPLICATION_CONNECT_FAILED'): ReplicationError {
  if (isReplicationError(error)) return error;
  return new ReplicationError(code, `replication: ${describeCause(error)}`, { cause: error });
}
