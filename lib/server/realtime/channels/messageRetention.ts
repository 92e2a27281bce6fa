/**
 * Bounded retention of realtime.messages: broadcasts from the database are delivered from the
 * replication stream, so their rows are only kept for a while (Supabase keeps about three days, in
 * daily partitions). Every `intervalMs` rows older than `retentionMs` are deleted, in bounded
 * batches so a large backlog never holds locks or a huge transaction.
 */
import pg from 'pg';

export const DEFAULT_MESSAGE_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;
const DEFAULT_INTERVAL_MS = 10 * 60 * 1000;
/** Rows deleted per statement; a run goes on until fewer are left. */
const BATCH = 10_000;

export interface MessageRetention {
  /** Deletes what is older than the retention now; resolves with the number of rows deleted. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

const SWEEP_SQL = `
with old as (
  select id from realtime.messages
   where inserted_at < pg_catalog.now() - $1::pg_catalog.interval
   limit ${BATCH}
)
delete from realtime.messages m using old where m.id = old.id`;

/** Starts sweeping realtime.messages of the database at `databaseUrl` (a role that may delete there). */
export function startMessageRetention(options: { databaseUrl: string; retentionMs?: number; intervalMs?: number; onError: (error: unknown) => void }): MessageRetention {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 1 });
  pool.on('error', options.onError);
  const interval = `${Math.floor(options.retentionMs ?? DEFAULT_MESSAGE_RETENTION_MS)} milliseconds`;
  let running: Promise<number> | undefined;
  let stopped = false;

  async function sweep(): Promise<number> {
    const exists = await pool.query<{ exists: boolean }>(`select pg_catalog.to_regclass('realtime.messages') is not null as exists`);
    if (!exists.rows[0]?.exists) return 0;
    let deleted = 0;
    for (;;) {
      const result = await pool.query(SWEEP_SQL, [interval]);
      deleted += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < BATCH || stopped) return deleted;
    }
  }
  const run = () => (running ??= sweep().finally(() => (running = undefined)));
  const timer = setInterval(() => void run().catch(options.onError), options.intervalMs ?? DEFAULT_INTERVAL_MS);
  timer.unref();
  void run().catch(options.onError);
  return {
    sweep: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
      await pool.end();
    },
  };
}
