/**
 * postgres_changes as a ChannelExtension: a join's bindings are validated and registered, and the
 * join is answered (`ok`, then "Subscribed to PostgreSQL") only once they are registered and the
 * replication stream is live, so a write committed after either message always reaches the channel
 * (protocol notes §2.5, §8.9; docs/realtime-protocol-extensions.md, "Join semantics").
 */
import pg from 'pg';
import { createVisibilityChecker, roleExists, roleIsUsable } from '../authorization/index.js';
import { afterDdl, createCatalogVersions, DDL_MESSAGE_PREFIX, installDdlEventTrigger } from '../authorization/catalogEvents.js';
import type { ChannelExtension } from '../channels/socketChannels.js';
import { channelPush, EVENT } from '../codec/messages.js';
import { createReplicationStream, type ReplicationStream, type ReplicationStreamOptions } from '../replication/index.js';
import type { JoinedChannel } from '../channels/rooms.js';
import { createResumeLog, isStreamPosition, type StreamPosition } from '../replication/resumeLog.js';
import type { ChangeEvent } from '../replication/index.js';
import { createChangeDispatcher } from './dispatch.js';
import { createSubscriptionRegistry, validateBindings, ABANDONED, type Subscription } from './subscriptions.js';
import type { ChannelPeer } from '../channels/rooms.js';
import type { ColumnDescription } from './catalog.js';
import { channelName } from '../../../protocol/phoenix.js';

export const DEFAULT_PUBLICATION = 'rtk_postgrest_realtime';
export const SUBSCRIBED_MESSAGE = 'Subscribed to PostgreSQL';

export interface PostgresChangesOptions {
  /** A role that may replicate and SET ROLE to subscribers' roles (the stack's superuser). */
  databaseUrl: string;
  /** The publication to stream; it must exist. */
  publication: string;
  /** Changes kept for joins that resume after a position. Default DEFAULT_RESUME_LOG_SIZE. */
  resumeLogSize?: number;
  /** Larger changes keep only small values and carry Supabase's 413 error. Default 1 MiB. */
  maxRecordBytes?: number;
  /** A refused binding that may become valid (missing table or column) is retried after this many ms, jittered up to twice it. Default 5000 (Supabase: 5–10 s). */
  subscribeRetryMs?: number;
  /** The role PostgREST logs in as: a token's role is used only if it may switch to it. Default `authenticator`. */
  authenticator?: string;
  /** A filter PostgreSQL evaluates (patterns, collations) whose query runs longer is refused for its subscribers. Default DEFAULT_FILTER_TIMEOUT_MS. */
  filterTimeoutMs?: number;
  /** PostgREST's db-extra-search-path, for the checks' search_path. Default `['public']`. */
  extraSearchPath?: readonly string[];
  /**
   * A broadcast inserted into realtime.messages (`realtime.send`, `realtime.broadcast_changes`),
   * called in stream order with the changes around it. Those rows are never postgres_changes.
   */
  onDatabaseBroadcast?: (message: DatabaseBroadcast) => void;
  /**
   * Install the DDL event trigger at start and keep catalog facts across batches (authorization/
   * catalogEvents.ts). Default true; false (or no superuser) reads them for every batch.
   */
  ddlEventTrigger?: boolean;
  /** DDL was announced in the stream (policies, grants, RLS may have changed): for other caches of authorization decisions. */
  onCatalogChanged?: () => void;
  /** Problems no single channel can be told about (replication, authorization, dispatch). */
  onError?: (error: unknown) => void;
  /**
   * Where changes come from. Default: this process's own replication stream. A stream with `since`
   * (the cluster's, cluster/clusterStream.ts) holds the resume log too, shared with other nodes.
   */
  stream?: (options: ReplicationStreamOptions) => ReplicationStream;
}

/** One row of realtime.messages as a broadcast. */
export interface DatabaseBroadcast {
  topic: string;
  event: string;
  payload: unknown;
  private: boolean;
}

export interface PostgresChanges {
  readonly extension: ChannelExtension;
  /** Starts the replication stream; resolves once it is live. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_RESUME_LOG_SIZE = 10_000;
/** PostgreSQL 14: pgoutput's `messages` option. */
const MIN_SERVER_VERSION_NUM = 140000;
/**
 * A SQL filter's query over at most 500 rows (one chunk) may take this long: far more than any sane
 * pattern needs (microseconds per row), far less than a backtracking one can take.
 */
export const DEFAULT_FILTER_TIMEOUT_MS = 250;

/** Why a channel must refetch what it holds: the `reason` of a resync `system` message. */
export type ResyncReason = 'resume_too_old' | 'resume_unknown_position' | 'connection_lost' | 'transaction_too_large' | 'truncate' | 'filter_failed' | 'check_failed' | 'visibility_unknown';

export const RESYNC_MESSAGE: Record<ResyncReason, string> = {
  resume_too_old: 'Resync needed: the server no longer holds the changes after that position',
  resume_unknown_position: 'Resync needed: the server does not know that position',
  connection_lost: 'Resync needed: the replication connection was lost, changes may have been missed',
  transaction_too_large: 'Resync needed: a transaction was too large to deliver',
  truncate: 'Resync needed: the table was truncated',
  filter_failed: 'Resync needed: evaluating the filter in PostgreSQL failed, changes may have been missed',
  check_failed: 'Resync needed: reading the table\'s privileges and policies failed, changes may have been missed',
  visibility_unknown: 'Resync needed: whether you may see a change could not be decided from the change alone, and it was not sent',
};

/** Supabase's prefix for a refused authorization; the rest never quotes the token's claims. */
export const ROLE_REFUSED_MESSAGE = 'Unauthorized: the token\'s role can\'t be used: PostgREST\'s authenticator may not switch to it';


/** Wires replication, authorization and dispatch behind one ChannelExtension. */
export function createPostgresChanges(options: PostgresChangesOptions): PostgresChanges {
  const onError = options.onError ?? ((error: unknown) => console.warn(`[realtime postgres_changes] ${(error as Error)?.message ?? String(error)}`));
  const authenticator = options.authenticator ?? 'authenticator';
  const filterTimeoutMs = options.filterTimeoutMs ?? DEFAULT_FILTER_TIMEOUT_MS;
  // Three pools, so that what clients can make busy (joins to validate; patterns to evaluate) never
  // takes the sessions that deliver everyone's changes (visibility checks).
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 });
  const catalogPool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  const filterPool = new pg.Pool({ connectionString: options.databaseUrl, max: 2, statement_timeout: filterTimeoutMs });
  // A session of its own for each batch's catalog version check, which runs alongside the checks.
  const versionPool = new pg.Pool({ connectionString: options.databaseUrl, max: 1 });
  for (const each of [pool, catalogPool, filterPool, versionPool]) each.on('error', onError); // idle clients dropped by the server; the next query reconnects
  // Catalog facts (RLS on/off, grants, policies) are kept across batches only while the DDL event
  // trigger announces DDL in the stream (each message drops them, in order: see catalogEvents.ts);
  // a cached "RLS off" must not outlive `enable row level security`. Otherwise read per batch.
  const ddlTracking = options.ddlEventTrigger ?? true;
  const checker = createVisibilityChecker({
    pool, onError, cacheTtlMs: 0, authenticator,
    ...(options.extraSearchPath && { extraSearchPath: options.extraSearchPath }),
    ...(ddlTracking && { catalogVersions: createCatalogVersions(versionPool) }),
  });
  const registry = createSubscriptionRegistry();
  // Everything the stream delivered, bounded, for joins that resume (read only inside dispatcher jobs).
  const log = createResumeLog<ChangeEvent>({ maxEntries: options.resumeLogSize ?? DEFAULT_RESUME_LOG_SIZE });
  const system = (channel: JoinedChannel, status: 'ok' | 'error', message: string, extra: Record<string, unknown> = {}) => {
    const payload = { extension: 'postgres_changes', status, message, channel: channelName(channel.topic), ...extra };
    channel.peer.send(channelPush(channel.joinRef, channel.topic, EVENT.system, payload));
  };
  /** Tells `channel` to refetch; everything after `position` will reach it. */
  const resync = (channel: JoinedChannel, reason: ResyncReason, position: StreamPosition | undefined, extra: Record<string, unknown> = {}) =>
    system(channel, 'ok', RESYNC_MESSAGE[reason], { resync: true, reason, position: position ?? null, ...extra });
  const dispatcher = createChangeDispatcher({
    registry,
    checker,
    ...(options.maxRecordBytes !== undefined && { maxRecordBytes: options.maxRecordBytes }),
    onError,
    onTruncate: (channel, event) => resync(channel, 'truncate', event.position, { schema: event.schema, table: event.table }),
    onMissed: (channel, position, reason) => resync(channel, reason, position),
    onFilterRefused: (channel, filter, error) => {
      // Registered, or still joining (its replay ran the filter): either way the binding goes.
      const pending = replaying.get(channel);
      const subscriptions = registry.get(channel) ?? pending;
      if (!subscriptions) return;
      const refused = subscriptions.filter((subscription) => subscription.sql?.key === filter.key);
      if (refused.length === 0) return;
      const kept = subscriptions.filter((subscription) => subscription.sql?.key !== filter.key);
      if (registry.has(channel)) registry.set(channel, kept);
      else replaying.set(channel, kept);
      const which = refused.map((subscription) => JSON.stringify(subscription.filterText)).join(', ');
      system(channel, 'error', `Filter ${which} took longer than ${filterTimeoutMs} ms to evaluate and was removed (${error.message}); subscribe again with a cheaper filter`);
    },
  });
  /** Channels whose bindings are being validated or replayed. */
  const joining = new Set<JoinedChannel>();
  /** Retry timers of channels whose bindings were refused for now. */
  const retries = new Map<JoinedChannel, NodeJS.Timeout>();
  const retryMs = options.subscribeRetryMs ?? 5000;
  /** Registered channels still waiting for the stream to be live. */
  const waiting = new Map<JoinedChannel, Record<string, unknown>>();
  /** The subscriptions of channels whose resume replay runs (a filter refused meanwhile is dropped here). */
  const replaying = new Map<JoinedChannel, Subscription[]>();
  /** Joins held until their bindings are live (ChannelExtension.prepare): how to answer each. */
  const holds = new Map<JoinedChannel, (refusal: string | null) => void>();
  /** Answers a held join (synchronously: call it where nothing can reach the channel before what must follow the reply). */
  const release = (channel: JoinedChannel, refusal: string | null) => {
    const ready = holds.get(channel);
    if (!ready) return;
    holds.delete(channel);
    ready(refusal);
  };
  /** Whether a refusal ends a held join (its client asked to wait) rather than following its `ok`. */
  const refusesJoin = (channel: JoinedChannel) => holds.has(channel) && channel.config.postgresChangesOptions?.wait === true;
  /** Per socket, its channels' validations run one after another: one socket can't occupy the catalog sessions. */
  const validations = new WeakMap<ChannelPeer, Promise<void>>();
  let live = false;
  let closed = false;

  const stream: ReplicationStream = (options.stream ?? createReplicationStream)({
    databaseUrl: options.databaseUrl,
    publication: options.publication,
    messagePrefixes: [DDL_MESSAGE_PREFIX],
    // Between the batches before and after the DDL: later changes are checked with facts read after it.
    onMessage: (message) =>
      dispatcher.run(async () => {
        const invalidate = () => {
          checker.invalidate();
          options.onCatalogChanged?.();
        };
        try {
          await afterDdl(versionPool, message, invalidate);
        } catch (error) {
          onError(error);
        }
        // Again once the DDL is visible: what was decided while it was not is not kept either.
        options.onCatalogChanged?.();
      }),
    onChanges: (all) => {
      // Rows of realtime.messages are broadcasts, delivered in order between the changes around them.
      for (const [events, messages] of splitMessages(all)) {
        if (messages.length > 0) {
          dispatcher.run(() => {
            for (const message of messages) options.onDatabaseBroadcast?.(message);
          });
          continue;
        }
        try {
          if (!sharedLog) for (const event of events) log.append(event.position, event);
        } catch (error) {
          // Can't happen while the stream keeps its promise of increasing positions; if it does, no
          // client may resume across this batch, but its changes still go out live.
          log.reset(events[events.length - 1]!.position);
          onError(error);
        }
        dispatcher.enqueue(events);
      }
    },
    onError,
    onStatus: (status) => {
      live = status.state === 'live';
      if (status.resyncNeeded && status.state === 'live' && status.startPosition) {
        const start = status.startPosition;
        const reason: ResyncReason = status.reason === 'transaction_too_large' ? 'transaction_too_large' : 'connection_lost';
        // What the log holds can't be resumed across the gap; everything after `start` will arrive.
        log.reset(start);
        dispatcher.run(() => {
          checker.invalidate(); // DDL messages in the gap are lost with it
          options.onCatalogChanged?.();
          dispatcher.position = start;
          for (const channel of registry.channels()) resync(channel, reason, start);
        });
      }
      if (live) dispatcher.run(() => {
        for (const [channel, extra] of [...waiting]) confirm(channel, extra);
      });
    },
  });

  /** The stream keeps the resume log (shared by the cluster's nodes): this process keeps none. */
  const sharedLog = stream.since !== undefined;

  function confirm(channel: JoinedChannel, extra: Record<string, unknown>): void {
    waiting.delete(channel);
    if (!registry.has(channel)) return;
    // In a dispatcher job: the join's `ok` goes out with nothing dispatched between it and registration.
    release(channel, null);
    system(channel, 'ok', SUBSCRIBED_MESSAGE, { ...extra, position: dispatcher.position ?? null });
  }

  /**
   * Runs as a dispatcher job: every change before it was sent to the registered channels, none after.
   * `resumeAfter`: the join's own, or where a channel re-validated for a new role stopped hearing changes.
   */
  async function register(channel: JoinedChannel, validated: Subscription[], resumeAfter: StreamPosition | undefined): Promise<void> {
    let subscriptions = validated;
    if (!joining.has(channel) || closed) return; // left meanwhile
    if (channel.claims.role !== validatedRoleOf(validated)) {
      // Its token changed role while it was validated: validate again (nothing was sent to it yet).
      void subscribe(channel, resumeAfter);
      return;
    }
    let extra: Record<string, unknown> = {};
    if (resumeAfter !== undefined) {
      // The replay goes out after the join's `ok`, live changes after the replay.
      release(channel, null);
      const upTo = dispatcher.position;
      // Nothing is dispatched while this job awaits the shared log: `upTo` stays what was sent.
      const held = stream.since
        ? await stream.since(resumeAfter, upTo).catch((error: unknown) => {
            onError(error); // the shared log unreadable (Redis down): the client refetches instead
            return { ok: false as const, reason: 'too_old' as const };
          })
        : log.since(resumeAfter);
      if (held.ok) {
        // The log may already hold batches queued behind this job: those go out live.
        // The shared log holds every batch as read (database broadcasts among them): replay changes only.
        const events = upTo === undefined ? [] : held.entries.filter((event) => event.position <= upTo && !(sharedLog && isMessagesRow(event)));
        const single = createSubscriptionRegistry();
        single.set(channel, subscriptions);
        replaying.set(channel, subscriptions);
        try {
          await dispatcher.dispatchTo({ forTable: single.forTable, has: (c) => joining.has(c) }, events);
        } finally {
          subscriptions = replaying.get(channel) ?? subscriptions;
          replaying.delete(channel);
        }
        if (joining.has(channel) && channel.claims.role !== validatedRoleOf(validated)) {
          // Its role changed during the replay: validate for the new one, resuming after what was sent.
          void subscribe(channel, upTo ?? resumeAfter);
          return;
        }
        extra = { resumed: true };
      } else {
        resync(channel, held.reason === 'too_old' ? 'resume_too_old' : 'resume_unknown_position', upTo);
        extra = { resumed: false };
      }
    }
    if (!joining.has(channel) || closed) return; // left meanwhile
    joining.delete(channel);
    const tables = describeTables(subscriptions);
    if (tables.length > 0) extra = { ...extra, tables };
    registry.set(channel, subscriptions);
    if (live) confirm(channel, extra);
    else waiting.set(channel, extra);
  }

  /** Validates the channel's bindings (after its socket's earlier validations), then registers them. */
  function subscribe(channel: JoinedChannel, resumeAfter: StreamPosition | undefined): Promise<void> {
    const previous = validations.get(channel.peer) ?? Promise.resolve();
    const next = previous.then(() => validate(channel, resumeAfter));
    validations.set(channel.peer, next);
    return next;
  }

  async function validate(channel: JoinedChannel, resumeAfter: StreamPosition | undefined): Promise<void> {
    if (!joining.has(channel) || closed) return; // left meanwhile: its work ends with it
    const role = channel.claims.role;
    let result;
    try {
      result = await validateBindings(catalogPool, channel, { publication: options.publication, filterSessions: filterPool, wanted: () => joining.has(channel) && !closed });
    } catch (error) {
      result = { ok: false as const, message: `Unable to subscribe to changes: ${(error as Error).message}`, retry: true };
    }
    if (result === ABANDONED || !joining.has(channel) || closed) return; // left meanwhile
    // Supabase reports a refused subscription without closing the channel (§2.5), and tries again
    // later unless the binding is malformed.
    if (!result.ok) {
      if (refusesJoin(channel)) return release(channel, result.message);
      release(channel, null);
      system(channel, 'error', result.message);
      if (!result.retry) {
        joining.delete(channel);
        return;
      }
      const timer = setTimeout(() => {
        retries.delete(channel);
        if (joining.has(channel) && !closed) void subscribe(channel, resumeAfter);
      }, retryMs + Math.random() * retryMs);
      timer.unref();
      retries.set(channel, timer);
      return;
    }
    const subscriptions = result.subscriptions.map((subscription) => ({ ...subscription, role: String(role) }));
    // A position from another node may be ahead of this one: replayed only once this node got that far.
    if (stream.reached && isStreamPosition(resumeAfter)) {
      await stream.reached(resumeAfter).catch(onError);
      if (!joining.has(channel) || closed) return; // left meanwhile
    }
    dispatcher.run(() =>
      register(channel, subscriptions, resumeAfter).catch((error: unknown) => {
        // A bug of ours; the channel must hear about it rather than wait for a "Subscribed" that never comes.
        onError(error);
        if (!joining.delete(channel)) return;
        registry.remove(channel);
        const message = `Unable to subscribe to changes: ${(error as Error)?.message ?? String(error)}`;
        if (refusesJoin(channel)) return release(channel, message);
        release(channel, null);
        system(channel, 'error', message);
      }),
    );
  }

  const extension: ChannelExtension = {
    // Roles as PostgREST takes them: only one its authenticator may switch to. Checked before the
    // join is answered; a channel without postgres_changes uses no role.
    async authorize(channel, claims) {
      if (channel.config.postgresChanges.length === 0) return null;
      return (await roleIsUsable(catalogPool, String(claims.role), authenticator)) ? null : ROLE_REFUSED_MESSAGE;
    },
    // The join is answered once its bindings are registered and the stream is live (confirm), or
    // refused when they can't be and the client asked to wait.
    prepare(channel, ready) {
      if (channel.config.postgresChanges.length === 0 || closed) return false;
      holds.set(channel, ready);
      joining.add(channel);
      void subscribe(channel, channel.config.resumeAfter);
      return true;
    },
    // Claims are read from the channel at every dispatch; the registry's version drops what was
    // worked out per subscriber group under the old ones. A new role may read other columns, so
    // the bindings are validated again (filters, select, described columns), resuming where the
    // channel stopped hearing changes.
    onClaimsChanged(channel) {
      registry.touch();
      const registered = registry.get(channel);
      if (!registered || channel.claims.role === validatedRoleOf(registered)) return;
      // From now on its bindings (validated for the old role) match nothing (targets.ts); what it
      // misses until they are validated again is replayed from where the last complete batch ended.
      const from = dispatcher.completedPosition;
      dispatcher.run(() => {
        if (!registry.has(channel) || closed) return;
        registry.remove(channel);
        joining.add(channel);
        void subscribe(channel, from);
      });
    },
    onLeave(channel) {
      holds.delete(channel);
      clearTimeout(retries.get(channel));
      retries.delete(channel);
      joining.delete(channel);
      waiting.delete(channel);
      registry.remove(channel);
    },
  };

  return {
    extension,
    async start() {
      // Logical decoding messages (the DDL announcements) reach pgoutput from PostgreSQL 14 on.
      const version = Number((await catalogPool.query<{ v: string }>(`select pg_catalog.current_setting('server_version_num') as v`)).rows[0]?.v);
      if (version < MIN_SERVER_VERSION_NUM) {
        throw new Error(`the realtime server needs PostgreSQL 14 or later for postgres_changes (this database is ${Math.floor(version / 10000)}): it reads logical decoding messages through pgoutput`);
      }
      if (!(await roleExists(catalogPool, authenticator))) {
        throw new Error(
          `authenticator role ${JSON.stringify(authenticator)} does not exist: the realtime server uses a token's role only if the role PostgREST logs in as may switch to it; create it or set the authenticator option`,
        );
      }
      if (ddlTracking) {
        const refused = await installDdlEventTrigger(catalogPool);
        if (refused) onError(new Error(`catalog facts will be read for every batch: the DDL event trigger could not be installed (${refused})`));
      }
      const { startPosition } = await stream.start();
      log.reset(startPosition);
      dispatcher.position = startPosition;
      live = true;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of retries.values()) clearTimeout(timer);
      retries.clear();
      await stream.stop();
      await dispatcher.idle();
      await Promise.all([pool.end(), catalogPool.end(), filterPool.end(), versionPool.end()]);
    },
  };
}

/**
 * The tables a channel's bindings name, with their columns (base typname, collation): an extension
 * of "Subscribed to PostgreSQL" so clients can order text themselves under code point collations.
 */
function describeTables(subscriptions: readonly Subscription[]): Array<{ schema: string; table: string; columns: readonly ColumnDescription[] }> {
  const tables = new Map<string, { schema: string; table: string; columns: readonly ColumnDescription[] }>();
  for (const { schema, table, columns } of subscriptions) {
    if (table !== null && columns) tables.set(JSON.stringify([schema, table]), { schema, table, columns });
  }
  return [...tables.values()];
}

/** The role a channel's subscriptions were validated for (each carries it; undefined when none is left). */
function validatedRoleOf(subscriptions: readonly Subscription[]): string | undefined {
  return subscriptions[0]?.role;
}

/** Runs of a batch: `[changes, []]` of row changes, or `[[], broadcasts]` of realtime.messages inserts (other changes of that table are dropped). */
function splitMessages(events: ChangeEvent[]): Array<[ChangeEvent[], DatabaseBroadcast[]]> {
  // The common batch holds no realtime.messages row: handed on as it is, without a copy.
  if (!events.some(isMessagesRow)) return [[events, []]];
  const runs: Array<[ChangeEvent[], DatabaseBroadcast[]]> = [];
  let last: [ChangeEvent[], DatabaseBroadcast[]] | undefined;
  for (const event of events) {
    if (isMessagesRow(event)) {
      const broadcast = databaseBroadcast(event);
      if (broadcast === null) continue;
      if (!last || last[0].length > 0) runs.push((last = [[], []]));
      last[1].push(broadcast);
    } else {
      if (!last || last[1].length > 0) runs.push((last = [[], []]));
      last[0].push(event);
    }
  }
  return runs;
}

const isMessagesRow = (event: ChangeEvent) => event.table === 'messages' && event.schema === 'realtime';

/** An INSERT of a broadcast row with a topic and event; null for anything else (cleanup deletes, presence rows). */
function databaseBroadcast(event: ChangeEvent): DatabaseBroadcast | null {
  const record = event.record;
  if (event.type !== 'INSERT' || !record || record.extension !== 'broadcast') return null;
  if (typeof record.topic !== 'string' || typeof record.event !== 'string') return null;
  return { topic: record.topic, event: record.event, payload: record.payload ?? {}, private: record.private !== false };
}
