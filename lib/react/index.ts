export { createPostgrestApi, type PostgrestReactApi, type ReadData, type TypedReadHook } from './createPostgrestApi';
export {
  createSyncHooks,
  SyncProvider,
  useRealtime,
  usePresence,
  useBroadcast,
  useSyncStatus,
  usePendingWrites,
  useConflicts,
  type AnySyncMiddleware,
  type RealtimeBinding,
  type RealtimePostgresChangesPayload,
  type SyncHooks,
  type SyncStatus,
  type UseBroadcastOptions,
  type UseBroadcastResult,
  type UsePresenceOptions,
  type UsePresenceResult,
  type UsePendingWritesResult,
  type UseConflictsResult,
} from './hooks';
export type { PushResult } from '../sync';
