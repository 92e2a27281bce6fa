/**
 * Browser-safe facts the realtime server and the client share, implemented once: the Phoenix wire
 * model, the postgres_changes payload, and PostgreSQL's value semantics (how input text reads, how
 * output text reads, how values order).
 */
export {
  BINARY_KIND,
  BROADCAST_HEADER_BYTES,
  channelName,
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
export type { PresenceDiff, PresenceEntry, PresenceMeta, PresenceState } from './presence.js';
export { NO_PRIMARY_KEY_ERROR, PAYLOAD_TOO_LARGE_ERROR, UNAUTHORIZED_ERROR } from './postgresChanges.js';
export type { PostgresChangeColumn, PostgresChangeData, PostgresChangesPayload, PostgresChangeType } from './postgresChanges.js';
export { readArrayLiteral, TOO_MANY_ELEMENTS } from './pgArrayLiteral.js';
export type { ArrayElement, ArrayLiteralOptions } from './pgArrayLiteral.js';
export { compareInstants, dateDomain, timestampDomain, timestamptzDomain } from './pgDateTime.js';
export type { Instant } from './pgDateTime.js';
export { compareFloats, float4Domain, float8Domain } from './pgFloat.js';
export { compareDecimals, compareIntegerTexts, decimalOfJson, int2Domain, int4Domain, int8Domain, isWholeDecimal, numericDomain, parseNumeric, readNumericText } from './pgNumeric.js';
export type { Decimal } from './pgNumeric.js';
export { invalidSyntax, isCSpace, NEEDS_SQL, trimCSpace, ValueRejected } from './pgValueDomain.js';
export type { ValueDomain } from './pgValueDomain.js';
