/**
 * The sync middleware's serializable mirror: connection status, each channel's status, error,
 * presence, last stream position, and its configuration with the subscribers of each binding.
 * Everything here changes only through actions, so Redux DevTools shows and replays every step;
 * the socket, timers and listeners live in the middleware (middleware.ts), never here.
 *
 * A channel's configuration is merged from its subscribers (`subscribe` / `unsubscribe`):
 * - `postgresChanges` is the union of their bindings, deduplicated by (event, schema, table,
 *   filter), each counted in `bindingSubscribers`; a binding leaves the union with its last
 *   subscriber (an `unsubscribe` names the config it subscribed with; one without config only
 *   lowers the channel's count, its bindings going with the channel).
 * - `presenceKey`, `broadcast` and `private`: the first subscriber that sets one wins; a later
 *   subscriber may set one still unset (presence on a channel opened by `useRealtime`), never
 *   change it, and it stays until the channel is left.
 * - `leaveEvents`: on once any subscriber asks (live entries' channels do), until the channel is
 *   left; listeners of a channel shared with live entries never see the signals it brings.
 * `serverBindings` are the bindings the server confirmed in the current join's reply, with the ids
 * its `postgres_changes` messages name; one is `live` once a join holding it was answered "Subscribed
 * to PostgreSQL" (its changes before that, replayed when a join resumes, happened before it existed).
 *
 * Commands (`connect`, `subscribe`, `track` ...) carry `meta.instance`, the id of the middleware
 * that created them: a middleware performs only its own commands, so actions replayed into another
 * store (DevTools import, a recorded session) update state but open no socket and send no frame.
 */
import { createAction, createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { livePatchesMeta, type LivePatch } from '../api/liveContract.js';
import type { ConflictDetails, ConflictError, PostgrestError, PostgrestRequest } from '../postgrest/request/types.js';
import { connectionTransition, type ChannelState, type ConnectionState } from './phoenix/machines.js';

/** The socket's connection state (phoenix/machines.ts), or `idle` before the first connect. */
export type ConnectionStatus = 'idle' | ConnectionState;
/** The socket's channel state (phoenix/machines.ts). */
export type ChannelStatus = ChannelState;

/** One `postgres_changes` binding, as the Supabase protocol spells it. */
export interface PostgresChangesBinding {
  event: '*' | 'INSERT' | 'UPDATE' | 'DELETE';
  schema: string;
  table?: string;
  filter?: string;
}

/** A binding as the server confirmed it in the join reply, with its id (docs/realtime-protocol.md §2.3). */
export interface ServerBinding extends PostgresChangesBinding {
  id: number;
  /** "Subscribed to PostgreSQL" was received for a join holding this binding. */
  live: boolean;
}

/** What identifies a binding: equal keys ⇔ equal (event, schema, table, filter). */
export function bindingKey(binding: PostgresChangesBinding): string {
  return JSON.stringify([binding.event, binding.schema, binding.table ?? null, binding.filter ?? null]);
}

/** What a channel is joined with (serializable; the join payload is built from it). */
export interface ChannelConfig {
  postgresChanges?: PostgresChangesBinding[];
  /** Presence key; presence is enabled when given (or when the channel tracks). */
  presenceKey?: string;
  broadcast?: { self?: boolean; ack?: boolean };
  private?: boolean;
  /**
   * Ask the server for LEAVE signals (`leave_events`: a row left what this client may SELECT), which
   * live entries need and Supabase's semantics lack; set by the sync middleware for live channels.
   */
  leaveEvents?: boolean;
}

/** What `changesApplied` carries. */
export interface ChangesApplied {
  /** The position of the last change applied, per channel. */
  positions: Array<{ channel: string; position: string }>;
  /** The new cache entry (new data) of every live entry the changes touched (see lib/api/liveContract.ts). */
  entries: LivePatch[];
  at: number;
}

/** Phoenix presence: key → metas (each meta has the tracked state plus `phx_ref`). */
export type PresenceState = Record<string, Array<Record<string, unknown>>>;

export interface ChannelMirror {
  status: ChannelStatus;
  error: string | null;
  /** Subscribers counted by `subscribe` / `unsubscribe`; the channel is left at zero. */
  subscribers: number;
  /** The merged configuration of its subscribers (see the header). */
  config: ChannelConfig;
  /** Subscribers per binding of `config.postgresChanges`, by `bindingKey`. */
  bindingSubscribers: Record<string, number>;
  /** The bindings of the current join as the server answered them (ids), `[]` before. */
  serverBindings: ServerBinding[];
  /** "Subscribed to PostgreSQL" received for the current join (changes are live). */
  changesLive: boolean;
  /** Position of the last change applied on this channel: where a rejoin resumes. */
  position: string | null;
  presence: PresenceState;
  /** What this client tracks, if anything. */
  tracked: Record<string, unknown> | null;
}

export interface ConnectionMirror {
  status: ConnectionStatus;
  /** Reconnection attempt since the last open socket (0 when open). */
  attempt: number;
  error: string | null;
  /** The browser (or the app) says the network is reachable. */
  online: boolean;
  /** When a socket last opened (ms since epoch). */
  openedAt: number | null;
  /** When the cache was last known equal to the database: the last change applied or live confirmation. */
  lastSyncTime: number | null;
  /** PostgREST answered the last request (any HTTP status); false after a network error or time-out, until one is answered. */
  restReachable: boolean;
  /**
   * Since when the realtime socket, though wanted, has not been live for `degradedAfterMs` (live
   * entries are polled meanwhile); null while it is live, or not wanted.
   */
  degradedSince: number | null;
}

/**
 * A write in the outbox: every write the api sends while a sync middleware keeps the outbox, from
 * its first send until it is answered. One that can't reach PostgREST (offline, a network error or
 * time-out, 5xx, 408, 429) stays `queued` and is sent again in order, with backoff; a final error
 * while queued leaves it `failed` (its optimistic layer rolled back) until it is retried or discarded.
 */
export interface OutboxItem {
  id: string;
  /** The request as it is sent (keys filled; an insert sent again asks PostgREST to ignore a duplicate key). */
  request: PostgrestRequest;
  /** The api endpoint that sent it. */
  endpoint: string;
  /** The optimistic write (`writes`) it carries, if any. */
  writeId?: string;
  status: 'queued' | 'sending' | 'failed';
  /** Sends so far. */
  attempts: number;
  /** The last attempt's error (a queued write's passing failure, a failed one's final error). */
  error?: PostgrestError | ConflictError;
  /** When it entered the outbox. */
  at: number;
  /** A queued write is not sent before this time (its backoff); absent: as soon as its turn comes. */
  nextAttemptAt?: number;
}

/**
 * An optimistic write (`.optimistic()`): shown in the cache from the moment it was dispatched, as a
 * layer over server state, until the server's rows replace it (then it leaves this list) or it fails.
 */
export interface PendingWrite {
  id: string;
  /** `schema.table`. */
  table: string;
  request: PostgrestRequest;
  /** Inserts and upserts: the rows as shown, keys filled (given, generated, or temporary). */
  rows?: Array<Record<string, unknown>>;
  /** The cache entries (queryCacheKeys) it was shown in when applied. */
  entries: string[];
  /** The table's primary key columns, and the keys (JSON of their values) of the rows it touches as shown when applied. */
  primaryKey: string[];
  keys: string[];
  /** Updates and deletes with `conflict`: the row as this client saw it (sent only if its `conflict.column` still has that value). */
  seen?: Record<string, unknown>;
  /** `pending` until the server answered; `rolledBack` after a failure (its effect removed, the error kept). */
  status: 'pending' | 'rolledBack';
  error: PostgrestError | ConflictError | null;
  /** When it was applied (ms since epoch). */
  at: number;
}

/** A conflict an optimistic write met: someone else changed (or deleted) the row since this client saw it. */
export interface ConflictRecord extends ConflictDetails {
  /** The write's id. */
  id: string;
  table: string;
  strategy: string;
  /**
   * `open`: the server's version is shown and the write failed (server-wins): a UI may ask the user
   * (`resolve`); `resolved`: settled, by the strategy or the user.
   */
  status: 'open' | 'resolved';
  /** How it was settled: kept the server's row, re-sent the client's, or a merge / resolver's row. */
  resolution: 'server' | 'client' | 'merged' | 'row' | null;
  at: number;
}

export interface SyncState {
  connection: ConnectionMirror;
  channels: Record<string, ChannelMirror>;
  /** Optimistic writes in the order they were applied: pending ones, then the last failed ones. */
  writes: PendingWrite[];
  /** Conflicts of optimistic writes, oldest first: open ones and the last settled ones. */
  conflicts: ConflictRecord[];
  /**
   * Per table, the real key of a row an optimistic insert showed under a temporary one → the key it
   * was shown under (`selectClientKey`: React keys that survive the swap). The newest ones are kept.
   */
  clientKeys: Record<string, Record<string, string>>;
  /** Writes not answered yet, in the order they were made, and those that failed while queued. */
  outbox: OutboxItem[];
}

/** How many rolled-back writes the mirror keeps (with their errors) besides the pending ones. */
export const KEPT_FAILED_WRITES = 20;
/** How many settled conflicts the mirror keeps besides the open ones. */
export const KEPT_RESOLVED_CONFLICTS = 20;

export const initialSyncState: SyncState = {
  connection: { status: 'idle', attempt: 0, error: null, online: true, openedAt: null, lastSyncTime: null, restReachable: true, degradedSince: null },
  channels: {},
  writes: [],
  conflicts: [],
  clientKeys: {},
  outbox: [],
};

/** How many temporary → real key pairs the mirror keeps per table. */
export const KEPT_CLIENT_KEYS = 500;

/** What the cache entries became with an optimistic step (the api's reducer applies `entries`). */
export interface OptimisticStep {
  entries: LivePatch[];
}

export interface InstanceMeta {
  /** The middleware instance that performs this command. */
  instance: string;
}

/** Action creators of one middleware instance (commands are stamped with its id). */
export function createSyncActions(prefix: string, instance: string) {
  const command = <P>(type: string) =>
    createAction(`${prefix}/${type}`, (payload: P) => ({ payload, meta: { instance } as InstanceMeta }));
  return {
    // Commands
    connect: command<void>('connect'),
    disconnect: command<void>('disconnect'),
    /** Asks `getToken` again and sends the token to every joined channel (after a login, logout or token refresh). */
    refreshAuth: command<void>('refreshAuth'),
    subscribe: command<{ channel: string; config?: ChannelConfig }>('subscribe'),
    /** `config`: what this subscriber subscribed with, so its bindings are released. */
    unsubscribe: command<{ channel: string; config?: ChannelConfig }>('unsubscribe'),
    track: command<{ channel: string; state: Record<string, unknown> }>('track'),
    untrack: command<{ channel: string }>('untrack'),
    broadcast: command<{ channel: string; event: string; payload: unknown }>('broadcast'),
    /**
     * Settles an open conflict of an optimistic write: `server` keeps the server's row (shown
     * already); `client` sends the client's values again, and a row sends that row, each as a new
     * optimistic write checked against the server's version. Resolves with the new write's result.
     */
    resolveConflict: command<{ id: string; resolution: 'server' | 'client' | Record<string, unknown> }>('resolveConflict'),
    /** Sends a queued write now (not waiting out its backoff), or a failed one again (as a plain write: its layer was rolled back). */
    retryWrite: command<{ id: string }>('outbox/retry'),
    /** Drops a queued or failed write: it is never sent again, its optimistic layer is rolled back, and its caller gets a DISCARDED error. */
    discardWrite: command<{ id: string }>('outbox/discard'),
    /**
     * Takes up the writes of an outbox restored from storage (redux-persist's REHYDRATE does this by
     * itself): they are sent again in order, each at most once more than needed (inserts carry keys).
     */
    resumeOutbox: command<void>('outbox/resume'),
    // What happened (dispatched by the middleware)
    connectionChanged: createAction<{ status: ConnectionStatus; attempt?: number; error?: string | null; at: number }>(`${prefix}/connectionChanged`),
    /** `serverBindings`: with 'joined', the bindings the join reply confirmed, with their ids. */
    channelChanged: createAction<{ channel: string; status: ChannelStatus; error?: string | null; serverBindings?: Array<PostgresChangesBinding & { id: number }> }>(`${prefix}/channelChanged`),
    changesLive: createAction<{ channel: string; live: boolean; position?: string | null; at: number }>(`${prefix}/changesLive`),
    /**
     * The changes that arrived together were applied: each channel's position advanced and, with
     * `api` (the api's reducerPath), every live entry they touched got its new data (`entries`), in
     * this one action (the api's reducer applies the entries).
     */
    changesApplied: createAction(`${prefix}/changesApplied`, (payload: ChangesApplied, api?: string) => ({
      payload,
      meta: api === undefined ? {} : livePatchesMeta(api),
    })),
    /**
     * The server said what the channel holds may be stale (a resync notice): its entries are
     * refetched, and the channel resumes from `position` (set as is: after a database reset it may
     * be lower than the old one).
     */
    resyncRequested: createAction<{ channel: string; reason: string; position: string | null; schema?: string; table?: string }>(`${prefix}/resyncRequested`),
    presenceSynced: createAction<{ channel: string; state: PresenceState }>(`${prefix}/presenceSynced`),
    environmentChanged: createAction<{ online: boolean }>(`${prefix}/environmentChanged`),
    /** Everything else the server pushed on a channel (broadcast, system): for DevTools and listeners. */
    messageReceived: createAction<{ channel: string; event: string; payload: unknown }>(`${prefix}/messageReceived`),
    // Optimistic writes (each step carries what the cache entries became, for the api's reducer)
    /** A write shown at once, before it was sent. */
    optimisticApplied: createAction(`${prefix}/optimistic/applied`, (payload: OptimisticStep & { write: PendingWrite }, api: string) => ({ payload, meta: livePatchesMeta(api) })),
    /** The server's rows replaced the write's layer (`rows`: what the server returned). */
    optimisticCommitted: createAction(`${prefix}/optimistic/committed`, (payload: OptimisticStep & { id: string; rows: Array<Record<string, unknown>> }, api: string) => ({ payload, meta: livePatchesMeta(api) })),
    /** The write failed: only its own effect was removed; `error` is the server's. */
    optimisticRolledBack: createAction(`${prefix}/optimistic/rolledBack`, (payload: OptimisticStep & { id: string; error: PostgrestError }, api: string) => ({ payload, meta: livePatchesMeta(api) })),
    /**
     * The write met a conflict. With `write`, its strategy settled it and the write goes on (its new
     * request and what it shows now); with `error`, the server's version won: its effect is removed.
     */
    optimisticConflict: createAction(
      `${prefix}/optimistic/conflict`,
      (payload: OptimisticStep & { conflict: ConflictRecord; write?: PendingWrite; error?: ConflictError }, api: string) => ({ payload, meta: livePatchesMeta(api) }),
    ),
    /** An open conflict was settled by the app (`resolve`): `server` keeps what is shown; `client` / `row` were sent as a new write. */
    optimisticResolved: createAction<{ id: string; resolution: 'server' | 'client' | 'row' }>(`${prefix}/optimistic/resolved`),
    /** A rolled-back write's record is no longer wanted (its error was shown). */
    optimisticDismissed: createAction<{ id: string }>(`${prefix}/optimistic/dismissed`),
    // The outbox (dispatched by the middleware)
    /** A write entered the outbox: being sent, or queued behind others (or while offline). */
    outboxAdded: createAction<{ item: OutboxItem }>(`${prefix}/outbox/added`),
    /** A queued write's turn came: it is being sent (or, with `request`, the same write sends its next request, e.g. after a conflict). */
    outboxSending: createAction<{ id: string; request?: PostgrestRequest }>(`${prefix}/outbox/sending`),
    /** A send failed in a way that may pass: queued again, not before `nextAttemptAt`, as `request` (the form safe to send twice). */
    outboxQueued: createAction<{ id: string; error?: PostgrestError; nextAttemptAt: number; request?: PostgrestRequest }>(`${prefix}/outbox/queued`),
    /** PostgREST answered the write (it leaves the outbox). */
    outboxDelivered: createAction<{ id: string }>(`${prefix}/outbox/delivered`),
    /** A queued write got a final error: it stays, failed, until retried or discarded. */
    outboxFailed: createAction<{ id: string; error: PostgrestError | ConflictError }>(`${prefix}/outbox/failed`),
    /** A write was discarded (`discardWrite`). */
    outboxDiscarded: createAction<{ id: string }>(`${prefix}/outbox/discarded`),
    /** Whether PostgREST answers (a request got an HTTP response, or a network error or time-out). */
    restReachability: createAction<{ reachable: boolean; error?: string; at: number }>(`${prefix}/restReachability`),
    /** While degraded, a poll brought the live entries' data: the cache was equal to the database then. */
    polled: createAction<{ at: number }>(`${prefix}/polled`),
    /** The realtime socket was not live for `degradedAfterMs` (degraded: live entries are polled), or is live again. */
    degradedChanged: createAction<{ degraded: boolean; at: number }>(`${prefix}/degradedChanged`),
  };
}

export type SyncActions = ReturnType<typeof createSyncActions>;

const emptyChannel = (): ChannelMirror => ({
  status: 'closed',
  error: null,
  subscribers: 0,
  config: {},
  bindingSubscribers: {},
  serverBindings: [],
  changesLive: false,
  position: null,
  presence: {},
  tracked: null,
});

/** The reducer of the mirror; pure, so replaying the actions replays the state. */
export function createSyncSlice(reducerPath: string, actions: SyncActions) {
  return createSlice({
    name: reducerPath,
    initialState: initialSyncState,
    reducers: {},
    extraReducers: (builder) => {
      builder
        // What the socket's own machine does with the command, mirrored at once (its status events follow).
        .addCase(actions.connect, (state) => {
          const status = state.connection.status;
          state.connection.status = connectionTransition(status === 'idle' ? 'closed' : status, 'connect');
        })
        .addCase(actions.disconnect, (state) => {
          const status = state.connection.status;
          state.connection.status = connectionTransition(status === 'idle' ? 'closed' : status, 'disconnect');
          for (const channel of Object.values(state.channels)) {
            channel.status = 'closed';
            channel.changesLive = false;
          }
        })
        .addCase(actions.subscribe, (state, { payload }) => {
          const channel = (state.channels[payload.channel] ??= emptyChannel());
          addSubscriberConfig(channel, payload.config);
          channel.subscribers += 1;
          if (channel.status === 'closed' || channel.status === 'leaving') channel.status = 'joining';
        })
        .addCase(actions.unsubscribe, (state, { payload }) => {
          const channel = state.channels[payload.channel];
          if (!channel) return;
          channel.subscribers = Math.max(0, channel.subscribers - 1);
          if (channel.subscribers === 0) delete state.channels[payload.channel];
          else removeSubscriberConfig(channel, payload.config);
        })
        .addCase(actions.track, (state, { payload }) => {
          const channel = state.channels[payload.channel];
          if (channel) channel.tracked = payload.state;
        })
        .addCase(actions.untrack, (state, { payload }) => {
          const channel = state.channels[payload.channel];
          if (channel) channel.tracked = null;
        })
        .addCase(actions.connectionChanged, (state, { payload }) => {
          const connection = state.connection;
          connection.status = payload.status;
          connection.attempt = payload.status === 'open' ? 0 : (payload.attempt ?? connection.attempt);
          if (payload.error !== undefined) connection.error = payload.error;
          if (payload.status === 'open') {
            connection.openedAt = payload.at;
            connection.error = null;
          } else {
            for (const channel of Object.values(state.channels)) {
              if (channel.status === 'joined') channel.status = 'joining';
              channel.changesLive = false;
            }
          }
        })
        .addCase(actions.channelChanged, (state, { payload }) => {
          const channel = state.channels[payload.channel];
          if (!channel) return;
          channel.status = payload.status;
          if (payload.error !== undefined) channel.error = payload.error;
          // A join answered ok clears the last error; an error reported on a joined channel (a binding refused) stays.
          if (payload.status === 'joined' && payload.error === undefined) channel.error = null;
          if (payload.status !== 'joined') channel.changesLive = false;
          if (payload.serverBindings) {
            // A binding already live stays live across a rejoin: its listeners get what the rejoin replays.
            const wasLive = new Set(channel.serverBindings.filter((b) => b.live).map(bindingKey));
            channel.serverBindings = payload.serverBindings.map((b) => ({ ...b, live: wasLive.has(bindingKey(b)) }));
          }
        })
        .addCase(actions.changesLive, (state, { payload }) => {
          const channel = state.channels[payload.channel];
          if (!channel) return;
          channel.changesLive = payload.live;
          if (payload.live) for (const binding of channel.serverBindings) binding.live = true;
          if (payload.position !== undefined && payload.position !== null) channel.position = maxPosition(channel.position, payload.position);
          if (payload.live) state.connection.lastSyncTime = payload.at;
        })
        .addCase(actions.changesApplied, (state, { payload }) => {
          for (const { channel: name, position } of payload.positions) {
            const channel = state.channels[name];
            if (channel) channel.position = maxPosition(channel.position, position);
          }
          state.connection.lastSyncTime = payload.at;
        })
        .addCase(actions.resyncRequested, (state, { payload }) => {
          const channel = state.channels[payload.channel];
          if (channel) channel.position = payload.position;
        })
        .addCase(actions.presenceSynced, (state, { payload }) => {
          const channel = state.channels[payload.channel];
          if (channel) channel.presence = payload.state;
        })
        .addCase(actions.environmentChanged, (state, { payload }: PayloadAction<{ online: boolean }>) => {
          state.connection.online = payload.online;
        })
        .addCase(actions.optimisticApplied, (state, { payload }) => {
          state.writes.push(payload.write);
        })
        .addCase(actions.optimisticCommitted, (state, { payload }) => {
          const write = state.writes.find((candidate) => candidate.id === payload.id);
          state.writes = state.writes.filter((candidate) => candidate.id !== payload.id);
          // An insert's rows come back in the order sent: each real key remembers the temporary one.
          if (!write || write.request.action !== 'insert' || !write.rows) return;
          const keys = (state.clientKeys[write.table] ??= {});
          write.rows.forEach((row, i) => {
            const real = payload.rows[i];
            if (!real) return;
            const shown = JSON.stringify(write.primaryKey.map((column) => row[column] ?? null));
            const key = JSON.stringify(write.primaryKey.map((column) => real[column] ?? null));
            if (shown !== key) keys[key] = shown;
          });
          const all = Object.keys(keys);
          for (const old of all.slice(0, Math.max(0, all.length - KEPT_CLIENT_KEYS))) delete keys[old];
        })
        .addCase(actions.optimisticRolledBack, (state, { payload }) => {
          rollBack(state, payload.id, payload.error);
        })
        .addCase(actions.optimisticConflict, (state, { payload }) => {
          if (payload.write) {
            const index = state.writes.findIndex((candidate) => candidate.id === payload.write!.id);
            if (index >= 0) state.writes[index] = payload.write;
          } else if (payload.error) {
            rollBack(state, payload.conflict.id, payload.error);
          }
          addConflict(state, payload.conflict);
        })
        .addCase(actions.optimisticResolved, (state, { payload }) => {
          const conflict = state.conflicts.find((candidate) => candidate.id === payload.id && candidate.status === 'open');
          if (!conflict) return;
          conflict.status = 'resolved';
          conflict.resolution = payload.resolution;
          addConflict(state, undefined);
        })
        .addCase(actions.optimisticDismissed, (state, { payload }) => {
          state.writes = state.writes.filter((write) => write.id !== payload.id || write.status === 'pending');
        })
        .addCase(actions.outboxAdded, (state, { payload }) => {
          state.outbox.push(payload.item);
        })
        .addCase(actions.outboxSending, (state, { payload }) => {
          const item = state.outbox.find((candidate) => candidate.id === payload.id);
          if (!item) return;
          if (payload.request !== undefined) item.request = payload.request;
          else item.attempts += 1;
          item.status = 'sending';
          delete item.nextAttemptAt;
        })
        .addCase(actions.outboxQueued, (state, { payload }) => {
          const item = state.outbox.find((candidate) => candidate.id === payload.id);
          if (!item) return;
          item.status = 'queued';
          item.nextAttemptAt = payload.nextAttemptAt;
          if (payload.error !== undefined) item.error = payload.error;
          if (payload.request !== undefined) item.request = payload.request;
        })
        .addCase(actions.outboxFailed, (state, { payload }) => {
          const item = state.outbox.find((candidate) => candidate.id === payload.id);
          if (!item) return;
          item.status = 'failed';
          item.error = payload.error;
          delete item.nextAttemptAt;
        })
        .addCase(actions.outboxDelivered, removeFromOutbox)
        .addCase(actions.outboxDiscarded, removeFromOutbox)
        .addCase(actions.restReachability, (state, { payload }) => {
          state.connection.restReachable = payload.reachable;
        })
        .addCase(actions.polled, (state, { payload }) => {
          state.connection.lastSyncTime = payload.at;
        })
        .addCase(actions.degradedChanged, (state, { payload }) => {
          state.connection.degradedSince = payload.degraded ? (state.connection.degradedSince ?? payload.at) : null;
        })
        .addMatcher(
          (action): action is PayloadAction<Partial<SyncState>> => action.type === 'persist/REHYDRATE' && restoresOutbox((action as { payload?: unknown }).payload),
          (state, { payload }) => {
            // redux-persist restores `outbox` and `writes` (the README's whitelist): what this session
            // made before the state came back stays, after the restored ones (a merge level 1 keeps
            // what the reducer made of a key).
            const restoredIds = new Set([...payload.outbox!, ...(payload.writes ?? [])].map((entry) => entry.id));
            state.outbox = [...payload.outbox!, ...state.outbox.filter((item) => !restoredIds.has(item.id))] as typeof state.outbox;
            if (Array.isArray(payload.writes)) state.writes = [...payload.writes, ...state.writes.filter((write) => !restoredIds.has(write.id))] as typeof state.writes;
          },
        );
    },
  });
}

/** A write leaves the outbox (answered, or discarded). */
function removeFromOutbox(state: SyncState, { payload }: PayloadAction<{ id: string }>): void {
  state.outbox = state.outbox.filter((item) => item.id !== payload.id);
}

/** A redux-persist REHYDRATE payload of the sync slice: it brings an outbox. */
export function restoresOutbox(payload: unknown): payload is Partial<SyncState> & { outbox: OutboxItem[] } {
  return typeof payload === 'object' && payload !== null && Array.isArray((payload as { outbox?: unknown }).outbox);
}

/** The bindings of a subscriber's config, well-formed and without duplicates (never throws on malformed input). */
export function bindingsOf(config: ChannelConfig | undefined): PostgresChangesBinding[] {
  const list = config?.postgresChanges;
  if (!Array.isArray(list)) return [];
  const seen = new Set<string>();
  const bindings: PostgresChangesBinding[] = [];
  for (const raw of list as unknown[]) {
    if (raw === null || typeof raw !== 'object') continue;
    const { event, schema, table, filter } = raw as Record<string, unknown>;
    if (typeof event !== 'string' || typeof schema !== 'string') continue;
    const binding = {
      event,
      schema,
      ...(typeof table === 'string' && { table }),
      ...(typeof filter === 'string' && { filter }),
    } as PostgresChangesBinding;
    const key = bindingKey(binding);
    if (seen.has(key)) continue;
    seen.add(key);
    bindings.push(binding);
  }
  return bindings;
}

/** Adds a subscriber's config to its channel's (see the header). */
function addSubscriberConfig(channel: ChannelMirror, config: ChannelConfig | undefined): void {
  for (const binding of bindingsOf(config)) {
    const key = bindingKey(binding);
    const count = channel.bindingSubscribers[key];
    if (count === undefined) (channel.config.postgresChanges ??= []).push(binding);
    channel.bindingSubscribers[key] = (count ?? 0) + 1;
  }
  if (config === null || typeof config !== 'object') return;
  if (channel.config.presenceKey === undefined && typeof config.presenceKey === 'string') channel.config.presenceKey = config.presenceKey;
  if (channel.config.broadcast === undefined && config.broadcast !== null && typeof config.broadcast === 'object') channel.config.broadcast = { ...config.broadcast };
  if (channel.config.private === undefined && typeof config.private === 'boolean') channel.config.private = config.private;
  // Not first-wins: a live entry on a channel a hook opened under the same name still needs them.
  if (config.leaveEvents === true) channel.config.leaveEvents = true;
}

/** Releases a leaving subscriber's bindings; a binding nobody else holds leaves the union. */
function removeSubscriberConfig(channel: ChannelMirror, config: ChannelConfig | undefined): void {
  for (const binding of bindingsOf(config)) {
    const key = bindingKey(binding);
    const count = channel.bindingSubscribers[key];
    if (count === undefined) continue;
    if (count > 1) {
      channel.bindingSubscribers[key] = count - 1;
      continue;
    }
    delete channel.bindingSubscribers[key];
    const remaining = (channel.config.postgresChanges ?? []).filter((b) => bindingKey(b) !== key);
    if (remaining.length > 0) channel.config.postgresChanges = remaining;
    else delete channel.config.postgresChanges;
  }
}

/** Marks a write rolled back with `error`, behind the pending ones; the oldest failed ones are forgotten. */
function rollBack(state: SyncState, id: string, error: PostgrestError | ConflictError): void {
  const write = state.writes.find((candidate) => candidate.id === id);
  if (!write) return;
  write.status = 'rolledBack';
  write.error = error;
  const pending = state.writes.filter((candidate) => candidate.status === 'pending' && candidate.id !== id);
  const failed = state.writes.filter((candidate) => candidate.status !== 'pending' && candidate.id !== id);
  state.writes = [...pending, ...[...failed, write].slice(-KEPT_FAILED_WRITES)];
}

/** Adds `conflict` (replacing an earlier record of the same write); keeps every open one and the last settled ones. */
function addConflict(state: SyncState, conflict: ConflictRecord | undefined): void {
  const all = conflict ? [...state.conflicts.filter((candidate) => candidate.id !== conflict.id), conflict] : state.conflicts;
  const settled = all.filter((candidate) => candidate.status !== 'open');
  const dropped = new Set(settled.slice(0, Math.max(0, settled.length - KEPT_RESOLVED_CONFLICTS)));
  state.conflicts = all.filter((candidate) => !dropped.has(candidate));
}

/** Positions compare as strings (fixed width, one case: docs/realtime-protocol-extensions.md). */
function maxPosition(current: string | null, next: string): string {
  return current === null || next > current ? next : current;
}
