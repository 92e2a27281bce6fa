/**
 * postgres_changes as a ChannelExtension: a join's bindings are validated and registered, and the
 * channel hears "Subscribed to PostgreSQL" only once they are registered and the replication stream
 * is live, so a write committed after that message always reaches it (protocol notes §2.5, §8.9).
 */
import pg from 'pg';
import { createVisibilityChecker } from '../authorization/index.js';
import type { ChannelExtension } from '../channels.js';
import { channelPush, EVENT } from '../messages.js';
import { createReplicationStream, type ReplicationStream } from '../replication/index.js';
import type { JoinedChannel } from '../rooms.js';
import { createChangeDispatcher } from './dispatch.js';
import { createSubscriptionRegistry, validateBindings } from './subscriptions.js';

export const DEFAULT_PUBLICATION = 'rtk_postgrest_realtime';
export const SUBSCRIBED_MESSAGE = 'Subscribed to PostgreSQL';

export interface PostgresChangesOptions {
  /** A role that may replicate and SET ROLE to subscribers' roles (the stack's superuser). */
  databaseUrl: string;
  /** The publication to stream; it must exist. */
  publication: string;
  /** Problems no single channel can be told about (replication, authorization, dispatch). */
  onError?: (error: unknown) => void;
}

export interface PostgresChanges {
  readonly extension: ChannelExtension;
  /** Starts the replication stream; resolves once it is live. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const TOPIC_PREFIX = 'realtime:';

/** Wires replication, authorization and dispatch behind one ChannelExtension. */
export function createPostgresChanges(options: PostgresChangesOptions): PostgresChanges {
  const onError = options.onError ?? ((error: unknown) => console.warn(`[realtime postgres_changes] ${(error as Error)?.message ?? String(error)}`));
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 });
  pool.on('error', onError); // idle clients dropped by the server; the next query reconnects
  // No caching of catalog facts (RLS on/off, grants) across batches: a cached "RLS off" would send
  // rows to everyone for the cache's lifetime after `enable row level security`. Reading them once
  // per (table, batch) costs two catalog queries per batch, not per subscriber.
  const checker = createVisibilityChecker({ pool, onError, cacheTtlMs: 0 });
  const registry = createSubscriptionRegistry();
  const dispatcher = createChangeDispatcher({ registry, checker, onError });
  /** Channels whose bindings are being validated. */
  const joining = new Set<JoinedChannel>();
  /** Registered channels still waiting for the stream to be live. */
  const waiting = new Set<JoinedChannel>();
  let live = false;
  let closed = false;

  const stream: ReplicationStream = createReplicationStream({
    databaseUrl: options.databaseUrl,
    publication: options.publication,
    onChanges: (events) => dispatcher.enqueue(events),
    onError,
    onStatus: (status) => {
      live = status.state === 'live';
      if (live) for (const channel of [...waiting]) confirm(channel);
    },
  });

  const system = (channel: JoinedChannel, status: 'ok' | 'error', message: string) => {
    const payload = { extension: 'postgres_changes', status, message, channel: channel.topic.slice(TOPIC_PREFIX.length) };
    channel.peer.send(channelPush(channel.joinRef, channel.topic, EVENT.system, payload));
  };

  function confirm(channel: JoinedChannel): void {
    waiting.delete(channel);
    if (registry.has(channel)) system(channel, 'ok', SUBSCRIBED_MESSAGE);
  }

  async function subscribe(channel: JoinedChannel): Promise<void> {
    let result;
    try {
      result = await validateBindings(pool, channel, options.publication);
    } catch (error) {
      result = { ok: false as const, message: `Unable to subscribe to changes: ${(error as Error).message}` };
    }
    if (!joining.delete(channel) || closed) return; // left meanwhile
    // Supabase reports a refused subscription without closing the channel (§2.5).
    if (!result.ok) return system(channel, 'error', result.message);
    registry.set(channel, result.subscriptions);
    if (live) confirm(channel);
    else waiting.add(channel);
  }

  const extension: ChannelExtension = {
    onJoin(channel) {
      if (channel.config.postgresChanges.length === 0 || closed) return;
      joining.add(channel);
      void subscribe(channel);
    },
    // Claims are read from the channel at every dispatch, so a refresh takes effect by itself.
    onClaimsChanged() {},
    onLeave(channel) {
      joining.delete(channel);
      waiting.delete(channel);
      registry.remove(channel);
    },
  };

  return {
    extension,
    async start() {
      await stream.start();
      live = true;
    },
    async close() {
      if (closed) return;
      closed = true;
      await stream.stop();
      await dispatcher.idle();
      await pool.end();
    },
  };
}
