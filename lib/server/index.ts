/** rtk-postgrest/server: the Node-only dev stack (embedded PostgreSQL + PostgREST). */
export { startStack } from './stack/index.js';
export type { Stack, SignTokenOptions, TokenSigner } from './stack/index.js';
export type { StackOptions } from './stack/options.js';
export { StackError, isStackError } from './stack/errors.js';
export type { StackErrorCode, SqlLocation } from './stack/errors.js';
export { signJwt, verifyJwt, JwtError } from './stack/jwt.js';
export type { JwtClaims, JwtErrorCode } from './stack/jwt.js';
export { createRealtimeServer } from './realtime/server.js';
export type { RealtimeServer, RealtimeServerOptions } from './realtime/server.js';
export type { RealtimeRedisOptions } from './realtime/cluster/redis.js';
export type { ChannelExtension } from './realtime/channels/socketChannels.js';
