/** Selectors over the sync mirror at its reducer path. */
import { initialSyncState, type SyncState } from './slice.js';

/** `schema.table` for a table name given with or without its schema. */
const qualified = (table: string) => (table.includes('.') ? table : `public.${table}`);

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
    /** `{ isOnline, status, lastSyncTime }` as `useSyncStatus` returns it. */
    selectSyncStatus: (state: unknown) => {
      const { connection } = select(state);
      return { isOnline: connection.online && connection.status === 'open', status: connection.status, lastSyncTime: connection.lastSyncTime };
    },
  };
}
