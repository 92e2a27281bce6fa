/** The options of createSyncMiddleware, checked at construction with an error naming the problem. */
import { compileRequest, type EvaluateOptions } from '../postgrest/evaluate/index.js';
import { from } from '../postgrest/builder/table.js';
import type { Timers, WebSocketLike } from './phoenix/types.js';
import { backoffPolicy } from './phoenix/backoff.js';
import { DEFAULT_OUTBOX_RETRY, type OutboxOptions } from './handlers/outbox.js';

export interface SyncMiddlewareOptions<ReducerPath extends string = 'sync'> {
  /**
   * The api from `createPostgrestApi`: its `live` entries are kept equal to the database while they
   * have subscribers (patched from row changes, or refetched where the client can't evaluate them).
   */
  api?: unknown;
  /**
   * Declared query endpoints whose entries are live too (besides the generic `live` and endpoints
   * declared with `build.liveQuery`): their `query` must return a PostgREST select.
   */
  liveEndpoints?: readonly string[];
  /** Primary key columns per table for live entries (`{ memberships: ['org_id', 'user_id'] }`); default `id`. */
  primaryKeys?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * What you know about the database, for live entries: `textOrder: 'codepoint'` when its default
   * collation is C / POSIX (text order and ilike then evaluate on the client), `timeZone: 'UTC'` when
   * PostgREST's sessions run in UTC. Our realtime server describes column collations itself; with a
   * hosted Supabase project (usually en_US.UTF-8) leave it out: text-ordered entries are refetched.
   */
  database?: EvaluateOptions;
  /** The realtime endpoint, as `@supabase/realtime-js` takes it: our stack's `realtimeUrl` or a Supabase project's. */
  url: string;
  /** The project's anon key (sent as `apikey`). */
  apiKey?: string;
  /**
   * The user's access token; nothing or null for the anon key. Asked when the socket opens, on every
   * heartbeat (as realtime-js does with its accessToken callback) and on `actions.refreshAuth()`; a
   * changed token is sent to every joined channel, so RLS follows the new user without a rejoin.
   */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** `ws`'s WebSocket in Node; default the global one. */
  WebSocket?: new (url: string) => WebSocketLike;
  /** Where the mirror lives in the store. Default 'sync'. */
  reducerPath?: ReducerPath;
  vsn?: '1.0.0' | '2.0.0';
  heartbeatIntervalMs?: number;
  timeoutMs?: number;
  /**
   * Reconnect delays (exponential with full jitter, drawn per attempt). Default 1 s growing ×2 up to
   * 10 s. The socket reconnects on reconnecting-websocket; its attempt count starts again only once a
   * connection stayed up 5 s, so a server that accepts and drops at once is backed off too.
   */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number; factor?: number };
  /** A connection attempt not open by then (a blackholed network) is abandoned and retried. Default 10 000. */
  connectionTimeoutMs?: number;
  /**
   * Follow the browser's online / offline / focus / visibility events (default: when `window`
   * exists): they reach RTK Query (refetchOnReconnect / refetchOnFocus, as `setupListeners` does:
   * don't call it yourself as well) and the socket (a reconnect waiting out its backoff is tried at
   * once when the network or the tab comes back).
   */
  environment?: boolean;
  /** Development warnings (malformed frames, unknown events). Default console.warn outside production. */
  onWarning?: (message: string) => void;
  /**
   * setTimeout / clearTimeout for every timer of the middleware and its socket (heartbeats, push
   * timeouts, reconnect backoff, the live fetch gate), so tests can drive them with fake timers.
   * Default the global ones. Not covered: reconnecting-websocket's own connection-timeout and uptime
   * timers, and its zero-delay hop before each attempt (the WebSocket is made a task later).
   */
  timers?: Timers;
  /** The clock actions' `at` and latencies read. Default Date.now. */
  now?: () => number;
  /**
   * Conflict resolvers for optimistic writes, by name (`.optimistic({ conflict: { column, strategy:
   * 'keepMyTitle' } })`): the row to write from the row seen, the client's and the server's. Named,
   * so requests and actions stay plain data.
   */
  /**
   * The outbox (on by default with `api`): every write waits its turn there, so a write that can't
   * reach PostgREST (offline, a network error or time-out, 5xx, 408, 429) is queued in the store and
   * sent again in order instead of failing. `retry`: the backoff between sends of a queued write
   * (default 1 s ×2 up to 30 s, full jitter); `idempotencyKeys`: per table, a unique column filled
   * with a uuid in every inserted row, so an insert sent twice lands once. `false` turns it off:
   * writes fail as they come back.
   */
  outbox?: OutboxOptions | false;
  /** The realtime socket, though wanted, not live for this long makes the status `degraded` (live entries are then polled). Default 10 000 ms. */
  degradedAfterMs?: number;
  /** How often live entries are refetched while degraded. Default 30 000 ms. */
  pollIntervalMs?: number;
  resolvers?: Readonly<Record<string, (base: Record<string, unknown>, local: Record<string, unknown>, server: Record<string, unknown>) => Record<string, unknown>>>;
}

/** Development warnings go to console.warn outside production. */
export function defaultWarning(message: string): void {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NODE_ENV;
  if (env !== 'production') console.warn(message);
}

export function validateOptions(options: SyncMiddlewareOptions<string>): void {
  if (options === null || typeof options !== 'object') throw new TypeError('createSyncMiddleware: options must be an object');
  if (typeof options.url !== 'string' || !/^(wss?|https?):\/\//.test(options.url)) {
    throw new TypeError(`createSyncMiddleware: url must be a ws:// or wss:// URL (the realtime endpoint), got ${JSON.stringify(options.url)}`);
  }
  if (options.apiKey !== undefined && typeof options.apiKey !== 'string') throw new TypeError('createSyncMiddleware: apiKey must be a string');
  if (options.getToken !== undefined && typeof options.getToken !== 'function') throw new TypeError('createSyncMiddleware: getToken must be a function');
  if (options.WebSocket !== undefined && typeof options.WebSocket !== 'function') throw new TypeError('createSyncMiddleware: WebSocket must be a constructor');
  if (options.timers !== undefined && (options.timers === null || typeof options.timers.setTimeout !== 'function' || typeof options.timers.clearTimeout !== 'function')) {
    throw new TypeError('createSyncMiddleware: timers must have setTimeout and clearTimeout functions');
  }
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('createSyncMiddleware: now must be a function returning milliseconds');
  if (options.resolvers !== undefined) {
    if (options.resolvers === null || typeof options.resolvers !== 'object') throw new TypeError('createSyncMiddleware: resolvers must be an object of name → function (base, local, server) => row');
    for (const [name, resolver] of Object.entries(options.resolvers)) {
      if (typeof resolver !== 'function') throw new TypeError(`createSyncMiddleware: resolvers.${name} must be a function (base, local, server) => row`);
      if (['server-wins', 'client-wins', 'merge'].includes(name)) throw new TypeError(`createSyncMiddleware: resolvers.${name}: the name is a built-in strategy; choose another`);
    }
  }
  if (options.outbox !== undefined && options.outbox !== false) {
    if (options.outbox === null || typeof options.outbox !== 'object') throw new TypeError('createSyncMiddleware: outbox must be false or { retry, idempotencyKeys, maxAttempts }');
    backoffPolicy(options.outbox.retry, DEFAULT_OUTBOX_RETRY, 'createSyncMiddleware: outbox.retry');
    const max = options.outbox.maxAttempts;
    if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) throw new TypeError(`createSyncMiddleware: outbox.maxAttempts must be a whole number ≥ 1, got ${JSON.stringify(max)}`);
    for (const [table, columns] of Object.entries(options.outbox.idempotencyKeys ?? {})) {
      const ok = typeof columns === 'string' ? columns.length > 0 : Array.isArray(columns) && columns.length > 0 && columns.every((column) => typeof column === 'string' && column.length > 0);
      if (!ok) throw new TypeError(`createSyncMiddleware: outbox.idempotencyKeys.${table} must be a column name or a non-empty array of column names`);
    }
  }
  for (const name of ['degradedAfterMs', 'pollIntervalMs'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) throw new TypeError(`createSyncMiddleware: ${name} must be a positive number of milliseconds, got ${JSON.stringify(value)}`);
  }
  if (options.database !== undefined) {
    try {
      compileRequest(from('any').toRequest(), {}, options.database);
    } catch (error) {
      throw new TypeError(`createSyncMiddleware: database: ${(error as Error).message.replace(/^compileRequest\(\): /, '')}`);
    }
  }
  if (options.liveEndpoints !== undefined) {
    const endpoints = (options.api as { endpoints?: Record<string, unknown> } | undefined)?.endpoints;
    if (!endpoints) throw new TypeError('createSyncMiddleware: liveEndpoints needs the api option');
    for (const name of options.liveEndpoints) {
      if (typeof name !== 'string' || !(name in endpoints)) throw new TypeError(`createSyncMiddleware: liveEndpoints: ${JSON.stringify(name)} is not an endpoint of the api`);
    }
  }
}
