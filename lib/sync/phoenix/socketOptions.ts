/** Option checks and small helpers of the socket. */
import { backoffPolicy, DEFAULT_RECONNECT_POLICY, DEFAULT_REJOIN_POLICY, type BackoffPolicy, type RandomSource } from './backoff.js';
import { VSNS, type Vsn } from './serializer.js';
import type { PhoenixSocketOptions, PushResult, Timers, WebSocketConstructor } from './types.js';

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 25_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
/** A connection attempt that has not opened by then is abandoned and retried. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
/** reconnecting-websocket's default: a connection up this long starts the attempt count again. */
export const DEFAULT_MIN_UPTIME_MS = 5_000;
/** realtime-js's default since 2.91. */
export const DEFAULT_VSN: Vsn = '2.0.0';

/** The global setTimeout / clearTimeout, the default wherever timers are injectable. */
export const globalTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/**
 * Marks a timer as background work (Node's `unref`; nothing in a browser): an outbox retry, a probe
 * or a poll that keeps going while the app runs must not keep a Node process (a test run, a script)
 * alive on its own. Returns the handle.
 */
export function inBackground<T>(handle: T): T {
  (handle as { unref?: () => void } | null)?.unref?.();
  return handle;
}

export interface ResolvedSocketOptions {
  vsn: Vsn;
  endpoint: string;
  heartbeatIntervalMs: number;
  timeoutMs: number;
  connectionTimeoutMs: number;
  minUptimeMs: number;
  reconnectPolicy: BackoffPolicy;
  rejoinPolicy: BackoffPolicy;
  timers: Timers;
  random: RandomSource;
  now: () => number;
  WebSocketClass: WebSocketConstructor;
}

/** Checks `options` and fills in the defaults; throws a TypeError naming the first bad option. */
export function resolveSocketOptions(options: PhoenixSocketOptions): ResolvedSocketOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('createPhoenixSocket: options must be an object');
  const vsn = options.vsn ?? DEFAULT_VSN;
  if (!VSNS.includes(vsn)) throw new TypeError(`createPhoenixSocket: vsn must be 1.0.0 or 2.0.0, got ${String(vsn)}`);
  if (typeof options.WebSocket !== 'function') throw new TypeError('createPhoenixSocket: WebSocket must be a WebSocket class');
  if (typeof options.onEvent !== 'function') throw new TypeError('createPhoenixSocket: onEvent must be a function');
  const params = options.params ?? {};
  if (params === null || typeof params !== 'object' || Object.values(params).some((v) => typeof v !== 'string')) {
    throw new TypeError('createPhoenixSocket: params must map names to strings');
  }
  if (options.random !== undefined && typeof options.random !== 'function') throw new TypeError('createPhoenixSocket: random must be a function');
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('createPhoenixSocket: now must be a function');
  return {
    vsn,
    endpoint: socketUrl(options.url, params, vsn),
    heartbeatIntervalMs: positive(options.heartbeatIntervalMs, DEFAULT_HEARTBEAT_INTERVAL_MS, 'heartbeatIntervalMs'),
    timeoutMs: positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs'),
    connectionTimeoutMs: positive(options.connectionTimeoutMs, DEFAULT_CONNECTION_TIMEOUT_MS, 'connectionTimeoutMs'),
    minUptimeMs: positive(options.minUptimeMs, DEFAULT_MIN_UPTIME_MS, 'minUptimeMs'),
    reconnectPolicy: backoffPolicy(options.reconnect, DEFAULT_RECONNECT_POLICY, 'createPhoenixSocket: reconnect'),
    rejoinPolicy: backoffPolicy(options.rejoin, DEFAULT_REJOIN_POLICY, 'createPhoenixSocket: rejoin'),
    timers: options.timers ?? globalTimers,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    WebSocketClass: options.WebSocket,
  };
}

/** Builds `<url>/websocket?<params>&vsn=<vsn>`; http(s) becomes ws(s). Throws a TypeError for a URL that is not ws, wss, http or https. */
export function socketUrl(url: string, params: Record<string, string>, vsn: Vsn): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new TypeError(`createPhoenixSocket: url must be an absolute URL, got ${JSON.stringify(url)}`);
  }
  const protocol = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' }[parsed.protocol];
  if (!protocol) throw new TypeError(`createPhoenixSocket: url must use ws, wss, http or https, got ${parsed.protocol}`);
  parsed.protocol = protocol;
  const path = parsed.pathname.replace(/\/+$/, '');
  parsed.pathname = path.endsWith('/websocket') ? path : `${path}/websocket`;
  for (const [key, value] of Object.entries(params)) parsed.searchParams.set(key, value);
  parsed.searchParams.set('vsn', vsn);
  return parsed.toString();
}

/** `{ status, response }` of a phx_reply payload, or null when it has no valid status. */
export function parseReply(payload: unknown): PushResult | null {
  if (payload === null || typeof payload !== 'object') return null;
  const { status, response } = payload as { status?: unknown; response?: unknown };
  if (status !== 'ok' && status !== 'error') return null;
  return { status, response: response ?? null };
}

/** The `reason` string of an error response, if any. */
export function reasonOf(response: unknown): string | undefined {
  if (response !== null && typeof response === 'object' && typeof (response as { reason?: unknown }).reason === 'string') return (response as { reason: string }).reason;
  return undefined;
}

/** `value` checked as a positive number, or `fallback`. */
export function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new TypeError(`createPhoenixSocket: ${name} must be a positive number, got ${String(value)}`);
  return value;
}

/** The message of a thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
