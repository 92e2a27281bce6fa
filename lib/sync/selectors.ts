/** Selectors over the sync mirror at its reducer path. */
import { initialSyncState, type SyncState } from './slice.js';

/** Selectors over the mirror at `reducerPath`. */
export function createSelectors(reducerPath: string) {
  const select = (state: unknown): SyncState => (state as Record<string, SyncState>)[reducerPath] ?? initialSyncState;
  return {
    selectSync: select,
    selectConnection: (state: unknown) => select(state).connection,
    selectChannel: (state: unknown, channel: string) => select(state).channels[channel],
    selectPresence: (state: unknown, channel: string) => select(state).channels[channel]?.presence,
    /** `{ isOnline, status, lastSyncTime }` as `useSyncStatus` returns it. */
    selectSyncStatus: (state: unknown) => {
      const { connection } = select(state);
      return { isOnline: connection.online && connection.status === 'open', status: connection.status, lastSyncTime: connection.lastSyncTime };
    },
  };
}
