/** Browser-safe facts the realtime server and the client share: the Phoenix wire model and the postgres_changes payload. */
export {
  BINARY_KIND,
  BROADCAST_HEADER_BYTES,
  EVENT,
  MAX_HEADER_STRING_BYTES,
  PAYLOAD_ENCODING,
  PHOENIX_DEFAULT_VSN,
  PHOENIX_TOPIC,
  PUSH_HEADER_BYTES,
  TOPIC_PREFIX,
  VSNS,
} from './phoenix.js';
export type { BroadcastEnvelope, PhoenixMessage, RealtimeEventName, ReplyPayload, ReplyStatus, Vsn } from './phoenix.js';
export { NO_PRIMARY_KEY_ERROR, PAYLOAD_TOO_LARGE_ERROR, UNAUTHORIZED_ERROR } from './postgresChanges.js';
export type { PostgresChangeColumn, PostgresChangeData, PostgresChangesPayload, PostgresChangeType } from './postgresChanges.js';
