/** The Phoenix protocol layer the sync middleware owns: frames, backoff, presence, lifecycles, socket. */
export * from './serializer.js';
export * from './backoff.js';
export * from './presence.js';
export * from './machines.js';
export { createPhoenixSocket, socketUrl, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_TIMEOUT_MS, DEFAULT_VSN } from './socket.js';
export type * from './types.js';
