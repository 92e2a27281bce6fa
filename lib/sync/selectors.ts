/** Selectors over the sync mirror at its reducer path. */
import { initialSyncState, type ConnectionStatus, type SyncState } from './slice.js';

/** `schema.table` for a table name given with or without its schema. */
const qualified = (table: string) => (table.includes('.') ? table : `public.${table}`);

export type SyncStatusName = 'synced' | 'syncing' | 'degraded' | 'offline';

export interface SyncStatusSummary {
  /** The app is online and the realtime socket is open. */
  isOnline: boolean;
  status: ConnectionStatus;
  lastSyncTime: number | null;
  syncStatus: SyncStatusName;
  /** Writes not answered by PostgREST yet (queued or being sent). */
  pendingWrites: number;
}

/** The summary is rebuilt only when the mirror's connection or outbox changed (same object otherwise, for useSelector). */
const summaries = new WeakMap<object, { outbox: object; summary: SyncStatusSummary }>();

function syncStatusOf(sync: SyncState): SyncStatusSummary {
  const { connection, outbox } = sync;
  const cached = summaries.get(connection);
  if (cached && cached.outbox === outbox) return cached.summary;
  let pendingWrites = 0;
  for (const item of outbox) if (item.status !== 'failed') pendingWrites += 1;
  const offline = !connection.online || connection.restReachable === false;
  const connecting = connection.status === 'connecting' || connection.status === 'reconnecting';
  const syncStatus: SyncStatusName = offline ? 'offline' : connection.degradedSince != null ? 'degraded' : pendingWrites > 0 || connecting ? 'syncing' : 'synced';
  const summary = { isOnline: connection.online && connection.status === 'open', status: connection.status, lastSyncTime: connection.lastSyncTime, syncStatus, pendingWrites };
  summaries.set(connection, { outbox, summary });
  return summary;
}

/** Selectors over the mirror at `reducerPath`. */
export function createSelectors(reducerPath: string) {
  const select = (state: unknown): SyncState => (state as Record<string, SyncState>)[reducerPath] ?? initialSyncState;
  return {
    selectSync: select,
    selectConnection: (state: unknown) => select(state).connection,
    selectChannel: (state: unknown, channel: string) => select(state).channels[channel],
    selectPresence: (state: unknown, channel: string) => select(state).channels[channel]?.presence,
    /**
     * Optimistic writes (of `table`, `schema.table` or a bare name in `public`, when given): pending
     * ones in the order applied, then the last rolled-back ones with their errors.
     */
    selectWrites: (state: unknown, table?: string) => {
      const writes = select(state).writes;
      if (table === undefined) return writes;
      const name = qualified(table);
      return writes.filter((write) => write.table === name);
    },
    /** Conflicts of optimistic writes: open ones (a UI may ask the user) and the last settled ones. */
    selectConflicts: (state: unknown) => select(state).conflicts,
    /** Whether a pending optimistic write touches `row` of `table` (an insert's row not confirmed yet, an update or delete not answered yet). */
    selectIsPending: (state: unknown, table: string, row: Record<string, unknown>) => {
      const name = qualified(table);
      return select(state).writes.some((write) => write.status === 'pending' && write.table === name && write.keys.includes(JSON.stringify(write.primaryKey.map((column) => row[column] ?? null))));
    },
    /**
     * A key for `row` of `table` that stays the same when an optimistic insert's temporary key is
     * replaced by the server's (for React keys): the key it was first shown under.
     */
    selectClientKey: (state: unknown, table: string, row: Record<string, unknown>, primaryKey: readonly string[] = ['id']) => {
      const key = JSON.stringify(primaryKey.map((column) => row[column] ?? null));
      return select(state).clientKeys[qualified(table)]?.[key] ?? key;
    },
    /** The outbox: writes not answered yet, in the order made (`queued` ones wait their turn), and those that failed while queued. */
    selectOutbox: (state: unknown) => select(state).outbox,
    /**
     * `{ isOnline, status, lastSyncTime, syncStatus, pendingWrites }` as `useSyncStatus` returns it.
     * `syncStatus`: `offline` when the app says so or PostgREST can't be reached; `degraded` when the
     * realtime socket has not been live for `degradedAfterMs` (live entries are polled); `syncing`
     * while writes are unanswered or the socket is (re)connecting; else `synced`.
     */
    selectSyncStatus: (state: unknown) => syncStatusOf(select(state)),
  };
}
