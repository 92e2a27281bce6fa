/** The sync layer: the realtime middleware, its serializable mirror and the Phoenix protocol layer under it. */
export { createSyncMiddleware } from './middleware.js';
export type { SyncMiddleware, SyncMiddlewareOptions, SyncRuntime, ChannelListener, RealtimeChange } from './middleware.js';
export type { SyncState, SyncActions, ChannelMirror, ConnectionMirror, ChannelConfig, PostgresChangesBinding, PresenceState, ConnectionStatus, ChannelStatus, PendingWrite, ConflictRecord, OutboxItem } from './slice.js';
export type { OutboxOptions } from './handlers/outbox.js';
export type { SyncStatusName, SyncStatusSummary } from './selectors.js';
export type { ConflictResolver } from './handlers/optimistic.js';
export type { PushResult, WebSocketLike } from './phoenix/types.js';
