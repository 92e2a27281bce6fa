/** Logical replication (pgoutput) → ChangeEvents: the realtime server's source of postgres_changes. */
export { createReplicationStream, DEFAULT_MAX_TRANSACTION_CHANGES, DEFAULT_RECONNECT_DELAYS_MS } from './stream.js';
export { ReplicationError, isReplicationError, type ReplicationErrorCode } from './errors.js';
export { formatCommitTimestamp } from './changes.js';
export {
  NO_PRIMARY_KEY_ERROR,
  type ChangeColumn,
  type ChangeEvent,
  type LogicalMessage,
  type ReplicationStatus,
  type ReplicationStream,
  type ReplicationStreamOptions,
} from './types.js';
