/**
 * The realtime server's composition root: transport, one codec and channel set per socket, and the
 * rooms and presence every socket shares, and postgres_changes when given a `databaseUrl`.
 */
import { randomUUID } from 'node:crypto';
import { createCodec, DEFAULT_MAX_FRAME_BYTES } from './codec/index.js';
import type { ChannelContext, ChannelExtension } from './channels/socketChannels.js';
import { serveConnection } from './transport/connection.js';
import { DEFAULT_MAX_RECORD_BYTES } from './changes/dispatch.js';
import { createPostgresChanges, DEFAULT_FILTER_TIMEOUT_MS, DEFAULT_PUBLICATION, DEFAULT_RESUME_LOG_SIZE, type PostgresChanges } from './changes/extension.js';
import { sendDatabaseBroadcast } from './channels/broadcast.js';
import { startMessageRetention, DEFAULT_MESSAGE_RETENTION_MS, type MessageRetention } from './channels/messageRetention.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './channels/limits.js';
import { createPresenceTracker, DEFAULT_MAX_PRESENCE_BYTES_PER_CONNECTION, DEFAULT_MAX_PRESENCE_PAYLOAD_BYTES } from './presence/tracker.js';
import { createPrivateChannels } from './channels/privateChannels.js';
import { createPresenceChannels } from './presence/channel.js';
import { createRooms } from './channels/rooms.js';
import { clusterReplication } from './cluster/clusterStream.js';
import { readRedisOptions, type RealtimeRedisOptions } from './cluster/redis.js';
import { createSendBudget, DEFAULT_MAX_TOTAL_BUFFERED_BYTES } from './transport/sendBudget.js';
import { startTransport } from './transport/transport.js';
import { startClusterNode, type ClusterNode } from './cluster/node.js';

export interface RealtimeServerOptions {
  /** HS256 secret of the `apikey` and `access_token` JWTs. */
  jwtSecret: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Largest accepted frame in bytes. Default 5 000 000 (Supabase's `max_frame_size`). */
  maxFrameBytes?: number;
  /** Sockets that send nothing for this long are closed. Default 60 000 (Phoenix's idle timeout). */
  heartbeatTimeoutMs?: number;
  /** A socket with more queued outgoing bytes than this is closed with 1008. Default 16 MiB. */
  maxBufferedBytes?: number;
  /**
   * Past this many queued outgoing bytes over all sockets, the sockets slow the longest are closed
   * with 1008 until the total is under it again. Default 256 MiB (sixteen sockets at `maxBufferedBytes`).
   */
  maxTotalBufferedBytes?: number;
  /**
   * A presence track that would make the JSON of all one socket's presences (every channel, every
   * key) exceed this many bytes gets an error reply; the channel and its earlier presence stay. Default 1 MiB.
   */
  maxPresenceBytesPerConnection?: number;
  /**
   * A presence track whose payload's JSON exceeds this many bytes gets the error reply `Track message
   * size exceeded` (Supabase's text; its `max_payload_size_in_kb`, 3,000 KB by default, would not fit
   * `maxPresenceBytesPerConnection`). Default 256 KiB.
   */
  maxPresencePayloadBytes?: number;
  /** Followers of channel lifecycles, besides postgres_changes. */
  extensions?: readonly ChannelExtension[];
  /**
   * Enables postgres_changes: a connection string of a role that may replicate and SET ROLE to the
   * subscribers' roles (a superuser).
   */
  databaseUrl?: string;
  /** The publication postgres_changes streams; it must exist. Default `rtk_postgrest_realtime`. */
  publication?: string;
  /** postgres_changes kept in memory for joins that resume after a position (`config.resume_after`). Default 10,000. */
  resumeLogSize?: number;
  /** A change whose `data` exceeds this many bytes keeps only values of at most 64 bytes and carries `Error 413: Payload Too Large` (Supabase's `max_record_bytes`). Default 1 MiB. */
  maxRecordBytes?: number;
  /** A binding refused for a reason a migration can cure (table, column or schema missing, not published, database error) is retried after this many ms, jittered up to twice it. Default 5000 (Supabase retries every 5–10 s). */
  subscribeRetryMs?: number;
  /**
   * The role PostgREST logs in as. A token's role is used for postgres_changes only if this role may
   * switch to it (is a member of it), as PostgREST's `SET ROLE` requires; other joins are refused.
   * It must exist when the server starts. Default `authenticator` (the stack's, and Supabase's).
   */
  authenticator?: string;
  /**
   * A filter PostgreSQL evaluates (patterns, linguistic collations) whose query over one chunk of a
   * batch's rows (at most 500) runs longer is refused for its subscribers with a `system` error; the
   * batch goes on for everyone else. Default 250 ms.
   */
  filterTimeoutMs?: number;
  /**
   * PostgREST's `db-extra-search-path` (Supabase: `['public', 'extensions']`): row checks run with
   * `search_path` = the table's schema, then these, as PostgREST's request on that schema would.
   * Default `['public']` (PostgREST's default).
   */
  extraSearchPath?: readonly string[];
  /**
   * A join with postgres_changes bindings is answered once they are live, so `SUBSCRIBED` means a
   * write committed after it arrives. A client that didn't ask to wait gets `ok` after at most this
   * many ms anyway ("Subscribed to PostgreSQL" follows when live). Default 5000.
   */
  joinHoldMs?: number;
  /** A client asking to wait (`postgres_changes_options: { wait: true, timeout }`) waits at most this long, then is refused with PostgresChangesSubscribeTimeout. Default 20 000 (Supabase's). */
  maxJoinWaitMs?: number;
  /**
   * At start, install (idempotently) the event trigger `rtk_postgrest_realtime_ddl`, which announces
   * DDL in the replication stream, and keep tables' authorization facts across batches until DDL or a
   * role change (README, "Realtime authorization"). Needs a superuser; without one, or with false,
   * the facts are read for every batch. Default true.
   */
  ddlEventTrigger?: boolean;
  /** postgres_changes bindings one connection's channels may hold together; a join past it is refused. Default 100. */
  maxBindingsPerConnection?: number;
  /**
   * A private channel's authorization (row level security on realtime.messages) is reused for this
   * many ms for the same topic and claims, so a burst of joins costs one check. Default 5000.
   */
  privateChannelCacheMs?: number;
  /** Rows of realtime.messages (broadcasts from the database) older than this are deleted. Default 3 days. */
  messageRetentionMs?: number;
  /**
   * postgres_changes bindings one join may carry; a join with more gets the error reply
   * `TooManyBindings: too many postgres_changes bindings in one channel (...)`. Default 100.
   */
  maxBindingsPerChannel?: number;
  /**
   * Channels one connection may have joined at once; a join past it gets the error reply
   * `ChannelRateLimitReached: Too many channels (...)` (Supabase's text and default). Default 100.
   * A rejoin of a topic the connection holds replaces it and does not count twice.
   */
  maxChannelsPerConnection?: number;
  /**
   * Joins per second per connection (a token bucket whose burst is the larger of this and
   * `maxChannelsPerConnection`, so a reconnected client rejoins everything at once); a join past it
   * gets the error reply `ClientJoinRateLimitReached: Too many joins per second` (Supabase's text and
   * default). Default 100.
   */
  maxJoinsPerSecond?: number;
  /**
   * `broadcast` and `presence` pushes per second per connection (a token bucket with one second's
   * burst); a push past it is not forwarded and gets the error reply `MessagePerSecondRateLimitReached:
   * Too many messages per second` (when it has a ref). Default 200 (channels/limits.ts says why).
   *
   * Flooders: a connection refused by this or `maxJoinsPerSecond` more times than that rate within
   * one second of its first refusal is closed with 1008 and a reason naming the limit.
   */
  maxMessagesPerSecond?: number;
  /** Problems of postgres_changes no single channel can be told about. Default: console.warn. */
  onError?: (error: unknown) => void;
  /**
   * Run as one node of a cluster meeting in this Redis. Client broadcasts and presence reach the
   * clients of every node (cluster/node.ts). postgres_changes: one node at a time (a leader lock)
   * reads replication into a Redis Stream that every node reads and resumes from (`resumeLogSize`
   * then counts its entries, one per batch). Needs the ioredis package. Default: no cluster.
   */
  redis?: RealtimeRedisOptions;
}

export interface RealtimeServer {
  /** `ws://host:port/realtime/v1`: what `new RealtimeClient(url, { params: { apikey } })` takes. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 60_000;
/** Supabase caps channels per client at 100 by default; a channel of ours rarely holds more than a few bindings. */
export const DEFAULT_MAX_BINDINGS_PER_CONNECTION = 100;
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
export const DEFAULT_JOIN_HOLD_MS = 5000;
export const DEFAULT_MAX_JOIN_WAIT_MS = 20_000;

/** Starts a realtime server speaking the Supabase Realtime protocol (broadcast and presence). */
export async function createRealtimeServer(options: RealtimeServerOptions): Promise<RealtimeServer> {
  if (options === null || typeof options !== 'object') throw new TypeError('createRealtimeServer: options must be an object');
  const { jwtSecret } = options;
  if (typeof jwtSecret !== 'string' || jwtSecret.length === 0) throw new TypeError('createRealtimeServer: jwtSecret must be a non-empty string');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError('createRealtimeServer: port must be an integer from 0 to 65535');
  const host = options.host ?? '127.0.0.1';
  const maxFrameBytes = positive(options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 'maxFrameBytes');
  const heartbeatTimeoutMs = positive(options.heartbeatTimeoutMs, DEFAULT_HEARTBEAT_TIMEOUT_MS, 'heartbeatTimeoutMs');
  const maxBufferedBytes = positive(options.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES, 'maxBufferedBytes');
  const maxTotalBufferedBytes = positive(options.maxTotalBufferedBytes, DEFAULT_MAX_TOTAL_BUFFERED_BYTES, 'maxTotalBufferedBytes');
  const maxPresenceBytesPerConnection = positive(options.maxPresenceBytesPerConnection, DEFAULT_MAX_PRESENCE_BYTES_PER_CONNECTION, 'maxPresenceBytesPerConnection');
  const maxPresencePayloadBytes = positive(options.maxPresencePayloadBytes, DEFAULT_MAX_PRESENCE_PAYLOAD_BYTES, 'maxPresencePayloadBytes');
  // `{}` is the smallest payload (2 bytes).
  if (maxPresencePayloadBytes < 2) throw new TypeError('createRealtimeServer: maxPresencePayloadBytes must be at least 2');
  const limits: ConnectionLimits = {
    maxChannelsPerConnection: positive(options.maxChannelsPerConnection, DEFAULT_CONNECTION_LIMITS.maxChannelsPerConnection, 'maxChannelsPerConnection'),
    maxJoinsPerSecond: positive(options.maxJoinsPerSecond, DEFAULT_CONNECTION_LIMITS.maxJoinsPerSecond, 'maxJoinsPerSecond'),
    maxMessagesPerSecond: positive(options.maxMessagesPerSecond, DEFAULT_CONNECTION_LIMITS.maxMessagesPerSecond, 'maxMessagesPerSecond'),
    maxBindingsPerChannel: positive(options.maxBindingsPerChannel, DEFAULT_CONNECTION_LIMITS.maxBindingsPerChannel, 'maxBindingsPerChannel'),
  };

  if (options.databaseUrl !== undefined && (typeof options.databaseUrl !== 'string' || options.databaseUrl.length === 0)) {
    throw new TypeError('createRealtimeServer: databaseUrl must be a non-empty string');
  }
  const publication = options.publication ?? DEFAULT_PUBLICATION;
  if (typeof publication !== 'string' || publication.length === 0) throw new TypeError('createRealtimeServer: publication must be a non-empty string');

  const resumeLogSize = positive(options.resumeLogSize, DEFAULT_RESUME_LOG_SIZE, 'resumeLogSize');
  // Cluster, postgres_changes (issue 15): the changes come from the cluster's shared change log in
  // Redis, which one node at a time fills from replication (cluster/clusterStream.ts).
  const redis = readRedisOptions(options.redis);
  const changeStream = redis && clusterReplication({ redis, maxEntries: resumeLogSize });
  const maxRecordBytes = positive(options.maxRecordBytes, DEFAULT_MAX_RECORD_BYTES, 'maxRecordBytes');
  const subscribeRetryMs = positive(options.subscribeRetryMs, 5000, 'subscribeRetryMs');
  const filterTimeoutMs = positive(options.filterTimeoutMs, DEFAULT_FILTER_TIMEOUT_MS, 'filterTimeoutMs');
  const maxBindingsPerConnection = positive(options.maxBindingsPerConnection, DEFAULT_MAX_BINDINGS_PER_CONNECTION, 'maxBindingsPerConnection');
  const joinHoldMs = positive(options.joinHoldMs, DEFAULT_JOIN_HOLD_MS, 'joinHoldMs');
  const maxJoinWaitMs = positive(options.maxJoinWaitMs, DEFAULT_MAX_JOIN_WAIT_MS, 'maxJoinWaitMs');
  const authenticator = options.authenticator ?? 'authenticator';
  if (typeof authenticator !== 'string' || authenticator.length === 0) throw new TypeError('createRealtimeServer: authenticator must be a non-empty role name');
  if (options.extraSearchPath !== undefined && (!Array.isArray(options.extraSearchPath) || options.extraSearchPath.some((schema) => typeof schema !== 'string' || schema === ''))) {
    throw new TypeError('createRealtimeServer: extraSearchPath must be an array of schema names');
  }

  const privateChannelCacheMs = nonNegative(options.privateChannelCacheMs, 5000, 'privateChannelCacheMs');
  const messageRetentionMs = positive(options.messageRetentionMs, DEFAULT_MESSAGE_RETENTION_MS, 'messageRetentionMs');
  const onError = options.onError ?? ((error: unknown) => console.warn(`[realtime] ${(error as Error)?.message ?? String(error)}`));

  const rooms = createRooms();
  const privateChannels = createPrivateChannels({
    ...(options.databaseUrl !== undefined && { databaseUrl: options.databaseUrl }),
    authenticator,
    cacheMs: privateChannelCacheMs,
    onError,
  });
  let changes: PostgresChanges | undefined;
  let retention: MessageRetention | undefined;
  if (options.databaseUrl !== undefined) {
    changes = createPostgresChanges({
      databaseUrl: options.databaseUrl,
      publication,
      resumeLogSize,
      maxRecordBytes,
      subscribeRetryMs,
      authenticator,
      filterTimeoutMs,
      ...(options.extraSearchPath !== undefined && { extraSearchPath: options.extraSearchPath }),
      ...(options.ddlEventTrigger !== undefined && { ddlEventTrigger: options.ddlEventTrigger }),
      ...(options.onError && { onError: options.onError }),
      ...(changeStream && { stream: changeStream }),
      onDatabaseBroadcast: (message) => sendDatabaseBroadcast(rooms, message),
      // A policy on realtime.messages changed (or any DDL): private channels decide afresh.
      onCatalogChanged: () => privateChannels.invalidate(),
    });
    try {
      await changes.start();
    } catch (error) {
      await changes.close().catch(() => undefined);
      await privateChannels.close().catch(() => undefined);
      throw error;
    }
    retention = startMessageRetention({ databaseUrl: options.databaseUrl, retentionMs: messageRetentionMs, onError });
  }

  // A cluster (issue 15): broadcast and presence cross nodes through Redis; without `redis`, nothing changes.
  const tracker = createPresenceTracker({ maxBytesPerConnection: maxPresenceBytesPerConnection, maxPayloadBytes: maxPresencePayloadBytes });
  let cluster: ClusterNode | undefined;
  try {
    if (redis) cluster = await startClusterNode({ redis, rooms, tracker, onError });
  } catch (error) {
    await changes?.close().catch(() => undefined);
    await retention?.stop().catch(() => undefined);
    await privateChannels.close().catch(() => undefined);
    throw error;
  }

  const context: ChannelContext = {
    jwtSecret,
    rooms,
    presence: createPresenceChannels(rooms, tracker, cluster?.presence),
    ...(cluster && { relayBroadcast: cluster.relayBroadcast }),
    // Private channels are authorized first: postgres_changes then checks the same token's role.
    extensions: [privateChannels.extension, ...(options.extensions ?? []), ...(changes ? [changes.extension] : [])],
    maxBindingsPerConnection,
    joinHoldMs,
    maxJoinWaitMs,
    limits,
  };
  const sendBudget = createSendBudget(maxTotalBufferedBytes);
  let transport: Awaited<ReturnType<typeof startTransport>>;
  try {
    transport = await startTransport({ jwtSecret, port, host, maxFrameBytes, heartbeatTimeoutMs }, ({ socket, vsn, token }) => {
      serveConnection(socket, { id: randomUUID(), codec: createCodec(vsn, { maxFrameBytes }), socketToken: token, context, maxBufferedBytes, sendBudget });
    });
  } catch (error) {
    await cluster?.close().catch(() => undefined);
    await changes?.close().catch(() => undefined);
    await retention?.stop().catch(() => undefined);
    await privateChannels.close().catch(() => undefined);
    throw error;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await transport.close();
      await cluster?.close();
      await retention?.stop();
      await changes?.close();
      await privateChannels.close();
    })());
  return { url: `ws://${urlHost}:${transport.port}/realtime/v1`, port: transport.port, close };
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`createRealtimeServer: ${name} must be a non-negative integer`);
  return value;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`createRealtimeServer: ${name} must be a positive integer`);
  return value;
}
