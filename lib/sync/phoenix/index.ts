/** The Phoenix protocol layer the sync middleware owns: frames, backoff, presence, lifecycles, socket. */
export { BINARY_KIND, decodeFrame, decodeUserBroadcast, encodeFrame, encodeUserBroadcastPush, MAX_HEADER_STRING_BYTES, PAYLOAD_ENCODING, VSNS } from './serializer.js';
export type { DecodeResult, EncodeResult, Frame, FrameError, FrameErrorCode, PhoenixMessage, Vsn } from './serializer.js';
export { backoffCeiling, backoffDelay, backoffPolicy, backoffSchedule, DEFAULT_RECONNECT_POLICY, DEFAULT_REJOIN_POLICY, policyProblem } from './backoff.js';
export type { BackoffPolicy, RandomSource } from './backoff.js';
export { emptyPresenceSession, list, metasByKey, receivePresenceDiff, receivePresenceState, stateDiff, syncDiff, syncState } from './presence.js';
export type { PresenceDiff, PresenceEntry, PresenceMeta, PresenceSession, PresenceState } from './presence.js';
export {
  CHANNEL_EVENTS,
  CHANNEL_STATES,
  CHANNEL_TABLE,
  channelTransition,
  CONNECTION_EVENTS,
  CONNECTION_STATES,
  CONNECTION_TABLE,
  connectionTransition,
} from './machines.js';
export type { ChannelEvent, ChannelState, ConnectionEvent, ConnectionState } from './machines.js';
export { createPhoenixSocket, socketUrl, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_TIMEOUT_MS, DEFAULT_VSN } from './socket.js';
export type {
  ChannelStatus,
  ConnectionStatus,
  PhoenixSocket,
  PhoenixSocketOptions,
  PushOptions,
  PushResult,
  SocketEvent,
  Timers,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
