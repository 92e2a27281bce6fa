/**
 * The cluster's Redis connections (ioredis, an optional peer dependency loaded only when the
 * `redis` option is given, so an app that runs one node never needs it).
 */
import type { Redis, RedisOptions } from 'ioredis';

/** `createRealtimeServer({ redis })`: where the nodes of one cluster meet. */
export interface RealtimeRedisOptions {
  /** `redis://host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** Prefix of every key and channel this cluster uses, so several clusters can share one Redis. Default `rtk-realtime:`. */
  keyPrefix?: string;
  /** This node's name in the cluster (presence ownership, the leader lock). Default: a random id. */
  nodeId?: string;
  /** How often this node tells the others it is alive, in ms. Default 1000. */
  heartbeatMs?: number;
  /** A node not heard from for this many ms is taken for dead: its presences leave. Default 10 000. */
  nodeTimeoutMs?: number;
}

export const DEFAULT_KEY_PREFIX = 'rtk-realtime:';
export const DEFAULT_HEARTBEAT_MS = 1000;
export const DEFAULT_NODE_TIMEOUT_MS = 10_000;

/** The validated options; throws a TypeError naming the problem. */
export function readRedisOptions(options: unknown): Required<RealtimeRedisOptions> | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') throw new TypeError('createRealtimeServer: redis must be { url, keyPrefix?, nodeId? }');
  const { url, keyPrefix = DEFAULT_KEY_PREFIX, nodeId, heartbeatMs = DEFAULT_HEARTBEAT_MS, nodeTimeoutMs = DEFAULT_NODE_TIMEOUT_MS } = options as RealtimeRedisOptions;
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) throw new TypeError(`createRealtimeServer: redis.url must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  if (typeof keyPrefix !== 'string') throw new TypeError('createRealtimeServer: redis.keyPrefix must be a string');
  if (nodeId !== undefined && (typeof nodeId !== 'string' || nodeId.length === 0)) throw new TypeError('createRealtimeServer: redis.nodeId must be a non-empty string');
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 1) throw new TypeError('createRealtimeServer: redis.heartbeatMs must be a positive integer');
  if (!Number.isSafeInteger(nodeTimeoutMs) || nodeTimeoutMs <= heartbeatMs) throw new TypeError('createRealtimeServer: redis.nodeTimeoutMs must be an integer larger than redis.heartbeatMs');
  return { url, keyPrefix, nodeId: nodeId ?? `node-${Math.random().toString(36).slice(2, 10)}`, heartbeatMs, nodeTimeoutMs };
}

type RedisConstructor = new (url: string, options?: RedisOptions) => Redis;

let loaded: Promise<RedisConstructor> | undefined;

/** The ioredis class; a clear error when the package is missing. */
export function loadIoredis(): Promise<RedisConstructor> {
  return (loaded ??= import('ioredis').then(
    (module) => ((module as { default?: unknown }).default ?? (module as { Redis?: unknown }).Redis) as RedisConstructor,
    (error: unknown) => {
      loaded = undefined;
      throw new Error(`createRealtimeServer: the redis option needs the ioredis package (npm install ioredis): ${(error as Error)?.message ?? String(error)}`);
    },
  ));
}

/**
 * A connection to the cluster's Redis that is ready (answered PING). `lazyConnect` so a wrong URL
 * fails here, with its reason, instead of retrying forever in the background.
 */
export async function connectRedis(options: Required<RealtimeRedisOptions>, name: string): Promise<Redis> {
  const RedisClass = await loadIoredis();
  const client = new RedisClass(options.url, { lazyConnect: true, connectionName: `${options.nodeId}:${name}`, maxRetriesPerRequest: null, enableOfflineQueue: true });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(`createRealtimeServer: cannot reach Redis at ${redactUrl(options.url)}: ${(error as Error)?.message ?? String(error)}`);
  }
  return client;
}

/** The URL without its password (for messages; any scheme, and a string that is no URL too). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
