/**
 * createSyncMiddleware: the composition root of the sync layer. It owns what must not be in the
 * store (the Phoenix socket, its timers, per-tick batches, listeners) and turns everything the
 * socket reports into actions on the mirror slice (slice.ts). Handlers are small functions, one
 * concern each: connection, channels, presence, broadcast, incoming messages.
 *
 * Commands act only when they carry this instance's id (see slice.ts), so replaying recorded actions
 * into a fresh store, or DevTools time travel, never opens a socket or sends a frame.
 */
import type { Middleware, MiddlewareAPI, UnknownAction } from '@reduxjs/toolkit';
import { channelName, TOPIC_PREFIX } from '../protocol/phoenix.js';
import { createPhoenixSocket, DEFAULT_TIMEOUT_MS } from './phoenix/socket.js';
import { globalTimers } from './phoenix/socketOptions.js';
import { broadcastHandler } from './handlers/broadcast.js';
import { presenceHandler } from './handlers/presence.js';
import type { HandlerContext, MessageOutcome, SyncHandler } from './handlers/types.js';
import type { PhoenixSocket, PushResult, SocketEvent, WebSocketLike } from './phoenix/types.js';
import { hasNoSubscriber, LIVE_FETCH_STARTING, liveEndpointsOf, markLiveEndpoints, type LiveFetch, type LivePatch, type QueryCacheEntry } from '../api/liveContract.js';
import { toChange, type RealtimeChange } from './changes.js';
import { followBrowser } from './environment.js';
import { createLiveQueries, type LiveApi } from './live.js';
import { createJoins } from './joins.js';
import { defaultWarning, validateOptions, type SyncMiddlewareOptions } from './options.js';
import { createSelectors } from './selectors.js';
import { createSyncActions, createSyncSlice, type PostgresChangesBinding, type SyncActions, type SyncState } from './slice.js';

export type { SyncMiddlewareOptions } from './options.js';

export type ChannelListener =
  /**
   * With `binding`, only the changes the server says matched it (their `ids` hold the id the join
   * reply gave the equal server binding), from when a join holding it went live; without, every
   * change of the channel (also what a rejoin for an added binding replays of that binding's
   * changes since the channel's last position).
   */
  | { kind: 'postgres_changes'; binding?: PostgresChangesBinding; handler: (changes: RealtimeChange[]) => void }
  | { kind: 'broadcast'; event: string; handler: (payload: unknown) => void };

export interface SyncRuntime {
  /** Listens to one channel's changes or broadcasts; returns the unsubscribe function. */
  listen(channel: string, listener: ChannelListener): () => void;
}

export type { RealtimeChange } from './changes.js';

export interface SyncMiddleware<ReducerPath extends string = 'sync'> {
  middleware: Middleware;
  reducer: ReturnType<typeof createSyncSlice>['reducer'];
  reducerPath: ReducerPath;
  actions: SyncActions;
  selectors: ReturnType<typeof createSelectors>;
  runtime: SyncRuntime;
}


/** Builds the middleware, its mirror slice and its action creators. */
export function createSyncMiddleware<ReducerPath extends string = 'sync'>(options: SyncMiddlewareOptions<ReducerPath>): SyncMiddleware<ReducerPath> {
  validateOptions(options as SyncMiddlewareOptions<string>);
  const reducerPath = (options.reducerPath ?? 'sync') as ReducerPath;
  // Every timer and clock reading goes through these (tests inject fake ones).
  const timers = options.timers ?? globalTimers;
  const now = options.now ?? (() => Date.now());
  const instance = randomId(now);
  const actions = createSyncActions(reducerPath, instance);
  const slice = createSyncSlice(reducerPath, actions);
  const selectors = createSelectors(reducerPath);
  const warn = options.onWarning ?? defaultWarning;
  const listeners = new Map<string, Set<ChannelListener>>();

  let store: MiddlewareAPI | undefined;
  let socket: PhoenixSocket | undefined;
  const apiPath = (options.api as { reducerPath?: string } | undefined)?.reducerPath;
  if (options.api && options.liveEndpoints) markLiveEndpoints(options.api, options.liveEndpoints);
  const live = options.api
    ? createLiveQueries({
        api: options.api as LiveApi,
        liveEndpoints: () => liveEndpointsOf(options.api as object),
        ...(options.primaryKeys && { primaryKeys: options.primaryKeys }),
        ...(options.database && { database: options.database }),
        dispatch: (action) => store!.dispatch(action as UnknownAction),
        reader: (endpoint, arg) => {
          const select = (options.api as { endpoints: Record<string, { select: (arg: unknown) => (state: unknown) => { data?: unknown } }> }).endpoints[endpoint]?.select(arg);
          return () => (select ? select(store!.getState()).data : undefined);
        },
        argOf: (queryCacheKey) => {
          const entry = cacheEntry(queryCacheKey);
          return { found: entry !== undefined, arg: entry?.originalArgs, ...(typeof entry?.requestId === 'string' && { requestId: entry.requestId }) };
        },
        cacheEntry,
        hasNoSubscriber: (queryCacheKey) => hasNoSubscriber((store!.getState() as Record<string, unknown>)[apiPath!], queryCacheKey),
        commit: (patches) => {
          if (patches.length > 0) store!.dispatch(actions.changesApplied({ positions: [], entries: patches, at: now() }, apiPath));
        },
        isLive: (channel) => mirror().channels[channel]?.changesLive === true,
        subscribe: (channel, schema, table) =>
          store!.dispatch(actions.subscribe({ channel, config: { postgresChanges: [{ event: '*', schema, table }], leaveEvents: true } })),
        unsubscribe: (channel) => store!.dispatch(actions.unsubscribe({ channel })),
        warn,
        timers,
      })
    : undefined;
  /** A query cache entry of the api as stored. */
  function cacheEntry(queryCacheKey: string): QueryCacheEntry | undefined {
    const queries = (store!.getState() as Record<string, { queries?: Record<string, QueryCacheEntry | undefined> } | undefined>)[apiPath!]?.queries;
    return queries?.[queryCacheKey];
  }
  /** postgres_changes received this tick, per channel; flushed in one dispatch each. */
  let pendingChanges = new Map<string, RealtimeChange[]>();
  let flushQueued = false;

  const mirror = (): SyncState => (store!.getState() as Record<string, SyncState>)[reducerPath]!;
  // The server answers a waiting join before our push times out, with its own reason.
  const joins = createJoins(mirror, warn, Math.max(1, Math.floor((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) * 0.8)));
  const own = (action: UnknownAction) => (action.meta as { instance?: string } | undefined)?.instance === instance;
  const context: HandlerContext = {
    actions,
    dispatch: (action) => store!.dispatch(action),
    mirror,
    socket: () => socket,
    listeners: (channel) => listeners.get(channel) ?? NO_LISTENERS,
    safely,
    notConnected,
  };
  /** One concern each (handlers/); the root runs them in this order. */
  const handlers: readonly SyncHandler[] = [presenceHandler(context), broadcastHandler(context)];

  function ensureSocket(): PhoenixSocket {
    if (socket) return socket;
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
    if (!WebSocketImpl) throw new TypeError('createSyncMiddleware: no WebSocket implementation: pass `WebSocket` (e.g. from the ws package in Node)');
    socket = createPhoenixSocket({
      url: options.url,
      params: options.apiKey ? { apikey: options.apiKey } : {},
      WebSocket: WebSocketImpl,
      ...(options.vsn && { vsn: options.vsn }),
      ...(options.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: options.heartbeatIntervalMs }),
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(options.reconnect && { reconnect: options.reconnect, rejoin: options.reconnect }),
      timers,
      now,
      onEvent: (event) => {
        try {
          onSocketEvent(event);
        } catch (error) {
          warn(`[rtk-postgrest sync] handling a socket event failed: ${(error as Error)?.message ?? String(error)}`);
        }
      },
    });
    return socket;
  }

  async function refreshToken(): Promise<void> {
    if (!options.getToken || !socket) return;
    try {
      const token = await options.getToken();
      // Signed out: back to the anon key, so channels stop seeing what the last user could.
      socket.setAuth(token ?? options.apiKey ?? null);
    } catch (error) {
      warn(`[rtk-postgrest sync] getToken failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** Joins `name` again with its current config; the join resumes after the last change applied. */
  function rejoin(name: string): void {
    flushChanges(); // the position the join resumes after includes every change received
    socket?.rejoin(TOPIC_PREFIX + name);
  }

  function onSocketEvent(event: SocketEvent): void {
    const at = now();
    switch (event.type) {
      case 'status':
        store!.dispatch(
          actions.connectionChanged({
            status: event.status === 'open' ? 'open' : event.status === 'reconnecting' ? 'reconnecting' : event.status === 'connecting' ? 'connecting' : 'closed',
            ...(event.attempt !== undefined && { attempt: event.attempt }),
            ...(event.reason !== undefined && { error: event.reason }),
            at,
          }),
        );
        if (event.status === 'open') void refreshToken();
        return;
      case 'channel': {
        const name = nameOf(event.topic);
        if (!mirror().channels[name]) return;
        // Changes received under the previous join are delivered under its binding ids.
        if (event.status === 'joined') flushChanges();
        store!.dispatch(
          actions.channelChanged({
            channel: name,
            status: event.status,
            ...(event.error !== undefined && { error: event.error }),
            ...(event.status === 'joined' && { serverBindings: joins.confirmedBindings(name, event.response) }),
          }),
        );
        for (const handler of handlers) handler.onChannelStatus?.(name, event.status);
        return;
      }
      case 'message':
        return onMessage(nameOf(event.topic), event.event, event.payload, event.joinRef, at);
      case 'heartbeat':
        if (event.status === 'sent') void refreshToken();
        return;
      case 'error':
        warn(`[rtk-postgrest sync] ${event.code}: ${event.message}`);
        return;
      default:
        return;
    }
  }

  function onMessage(name: string, event: string, payload: unknown, joinRef: string | null, at: number): void {
    const channel = mirror().channels[name];
    if (!channel) {
      warn(`[rtk-postgrest sync] ${event} for channel ${JSON.stringify(name)}, which is not subscribed: ignored`);
      return;
    }
    const body = (payload ?? {}) as Record<string, unknown>;
    switch (event) {
      case 'postgres_changes': {
        const change = toChange(body);
        if (!change) return warn(`[rtk-postgrest sync] malformed postgres_changes on ${JSON.stringify(name)}: ignored`);
        // A server sends LEAVE only where the join asked for it: elsewhere its listeners must not read it as a DELETE.
        if (change.leave && channel.config.leaveEvents !== true) return warn(`[rtk-postgrest sync] LEAVE on ${JSON.stringify(name)}, whose join did not ask for leave_events: ignored`);
        const list = pendingChanges.get(name) ?? [];
        // Positions increase along the stream: one not above the last received is a change the
        // previous join was still sending when a rejoin (new binding) asked to resume before it.
        const received = lastPosition(list) ?? channel.position;
        if (change.position !== null && received !== null && change.position <= received) return;
        list.push(change);
        pendingChanges.set(name, list);
        if (!flushQueued) {
          flushQueued = true;
          queueMicrotask(flushChanges);
        }
        return;
      }
      case 'system': {
        if (body.extension !== 'postgres_changes') break;
        flushChanges(); // notices are ordered after the changes that came before them
        const position = typeof body.position === 'string' ? body.position : null;
        if (body.resync === true) {
          store!.dispatch(
            actions.resyncRequested({
              channel: name,
              reason: String(body.reason ?? 'unknown'),
              position,
              ...(typeof body.schema === 'string' && { schema: body.schema }),
              ...(typeof body.table === 'string' && { table: body.table }),
            }),
          );
          live?.onResync(name);
          return;
        }
        if (body.status === 'ok' && body.message === 'Subscribed to PostgreSQL') {
          store!.dispatch(actions.changesLive({ channel: name, live: true, position, at }));
          live?.onLive(name, body.resumed === true, body.tables);
          return;
        }
        if (body.status === 'error') {
          store!.dispatch(actions.channelChanged({ channel: name, status: channel.status, error: String(body.message ?? 'postgres_changes error') }));
          return;
        }
        break;
      }
      default: {
        let outcome: MessageOutcome;
        for (const handler of handlers) if ((outcome = handler.onMessage?.(name, event, body, joinRef)) !== undefined) break;
        if (outcome === 'handled') return;
        if (outcome === 'record') break;
        // Still recorded (DevTools shows everything received), but nothing here acts on it.
        warn(`[rtk-postgrest sync] unknown event ${JSON.stringify(event)} on channel ${JSON.stringify(name)}: ignored`);
        break;
      }
    }
    store!.dispatch(actions.messageReceived({ channel: name, event, payload: payload ?? null }));
  }

  /**
   * The changes that arrived together, on every channel: one dispatch for all of them (every live
   * entry they touched patched, every channel's position advanced), then their listeners.
   */
  function flushChanges(): void {
    flushQueued = false;
    if (pendingChanges.size === 0) return;
    const batches = pendingChanges;
    pendingChanges = new Map();
    const positions: Array<{ channel: string; position: string }> = [];
    for (const [name, changes] of batches) {
      if (live) safely(() => live.onChanges(name, changes));
      const position = changes[changes.length - 1]!.position;
      if (position) positions.push({ channel: name, position });
    }
    const commit = (entries: LivePatch[]) => {
      if (entries.length > 0 || positions.length > 0) store!.dispatch(actions.changesApplied({ positions, entries, at: now() }, entries.length > 0 ? apiPath : undefined));
    };
    if (live) live.flush(commit);
    else commit([]);
    for (const [name, batch] of batches) {
      const channelListeners = listeners.get(name);
      if (!channelListeners) continue;
      // Listeners keep Supabase's semantics: LEAVE signals are for live entries only.
      const changes = batch.some((change) => change.leave) ? batch.filter((change) => !change.leave) : batch;
      if (changes.length === 0) continue;
      for (const listener of channelListeners) if (listener.kind === 'postgres_changes') safely(() => listener.handler(changes));
    }
  }

  function safely(run: () => void): void {
    try {
      run();
    } catch (error) {
      warn(`[rtk-postgrest sync] a listener threw: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** The app asked for a connection (connect without a later disconnect). */
  let wanted = false;

  /** A reconnect waiting out its backoff is tried now (the network or the tab is back). */
  function reconnectNow(): void {
    if (wanted && socket && socket.state === 'reconnecting') socket.connect();
  }

  function followEnvironment(api: MiddlewareAPI): void {
    if (options.environment === false) return;
    followBrowser(api.dispatch, { online: (value) => actions.environmentChanged({ online: value }), reconnectNow }, options.environment === true);
  }

  const middleware: Middleware = (api) => {
    store = api;
    followEnvironment(api);
    return (next) => (action) => {
      if (isAction(action) && action.type === LIVE_FETCH_STARTING) {
        // Another sync middleware (another api's) may answer it further down the chain: keep its answer.
        const answer = next(action);
        const connected = () => ['open', 'connecting'].includes(mirror().connection.status);
        return live?.fetchStarting(action.payload as LiveFetch | undefined, connected) ?? answer;
      }
      const before = actions.subscribe.match(action) || actions.unsubscribe.match(action) ? mirror() : undefined;
      const result = next(action);
      if (!isAction(action)) return result;
      if (live) safely(() => live.onAction(action));
      if (!own(action)) return result;
      if (actions.connect.match(action)) {
        wanted = true;
        ensureSocket().connect();
        void refreshToken();
      } else if (actions.refreshAuth.match(action)) {
        return refreshToken();
      } else if (actions.disconnect.match(action)) {
        wanted = false;
        socket?.disconnect();
      } else if (actions.subscribe.match(action)) {
        const name = action.payload.channel;
        if ((before?.channels[name]?.subscribers ?? 0) === 0) {
          if (mirror().connection.status === 'idle') api.dispatch(actions.connect());
          ensureSocket().join(TOPIC_PREFIX + name, () => joins.joinPayload(name));
        } else if (joins.joinOutdated(name)) {
          rejoin(name);
        }
      } else if (actions.unsubscribe.match(action)) {
        const name = action.payload.channel;
        const after = mirror().channels[name];
        if (before?.channels[name] && !after) {
          socket?.leave(TOPIC_PREFIX + name);
          for (const handler of handlers) handler.onChannelLeft?.(name);
          joins.forget(name);
        } else if (after?.error != null && joins.joinHoldsReleased(name)) {
          // A binding left the union. The server keeps it until the next join (its changes reach no
          // listener: none has its id), unless the server refused the channel's bindings: then the
          // rest get a fresh chance without it.
          rejoin(name);
        }
      } else {
        for (const handler of handlers) {
          const answer = handler.onAction?.(action);
          if (answer !== undefined) return answer;
        }
      }
      return result;
    };
  };

  return {
    middleware,
    reducer: slice.reducer,
    reducerPath,
    actions,
    selectors,
    runtime: {
      listen(channel, given) {
        const listener = given.kind === 'postgres_changes' && given.binding ? joins.ofBinding(channel, given.binding, given.handler) : given;
        let set = listeners.get(channel);
        if (!set) listeners.set(channel, (set = new Set()));
        set.add(listener);
        return () => {
          set.delete(listener);
          if (set.size === 0) listeners.delete(channel);
        };
      },
    },
  };
}

/** The position of the last change in `changes` that has one. */
function lastPosition(changes: readonly RealtimeChange[]): string | null {
  for (let i = changes.length - 1; i >= 0; i -= 1) {
    const position = changes[i]!.position;
    if (position !== null) return position;
  }
  return null;
}

/** What `track` / `untrack` / `broadcast` resolve with before any socket exists. */
const notConnected = (): Promise<PushResult> => Promise.resolve({ status: 'error', response: { reason: 'not connected: dispatch connect or subscribe first' } });

const nameOf = channelName;

const NO_LISTENERS: ReadonlySet<ChannelListener> = new Set();

function isAction(action: unknown): action is UnknownAction {
  return typeof action === 'object' && action !== null && typeof (action as { type?: unknown }).type === 'string';
}

function randomId(now: () => number): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return crypto?.randomUUID ? crypto.randomUUID() : `${now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
