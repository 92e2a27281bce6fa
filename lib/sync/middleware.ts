/**
 * createSyncMiddleware: the composition root of the sync layer. It owns what must not be in the
 * store (the Phoenix socket and its timers, the listeners, the handlers' own state) and runs the
 * handlers (handlers/), one concern each, after the reducer saw an action and on socket events:
 *
 *   live        the api's actions → live entries; a live endpoint's fetch → its gate
 *   outbox      every write takes its turn: queued while PostgREST can't be reached, sent again in order
 *   optimistic  `.optimistic()` writes shown at once as a layer over server state; committed or rolled back
 *   connection  connect / disconnect / refreshAuth; socket status; token on open and heartbeats; browser events
 *   degraded    the socket not live for a while: status `degraded`, live entries polled until it is back
 *   channels    subscribe / unsubscribe → join, rejoin, leave; channel statuses with their server bindings
 *   presence    track / untrack, re-track on every join; presence_state / presence_diff
 *   broadcast   broadcast pushes; received broadcasts → listeners
 *   changes     postgres_changes batched per tick → one dispatch + listeners; postgres_changes notices
 *
 * Commands act only when they carry this instance's id (see slice.ts), so replaying recorded actions
 * into a fresh store, or DevTools time travel, never opens a socket or sends a frame.
 */
import type { Middleware, MiddlewareAPI, UnknownAction } from '@reduxjs/toolkit';
import { channelName } from '../protocol/phoenix.js';
import { createPhoenixSocket, DEFAULT_TIMEOUT_MS } from './phoenix/socket.js';
import { globalTimers } from './phoenix/socketOptions.js';
import { broadcastHandler } from './handlers/broadcast.js';
import { changesHandler } from './handlers/changes.js';
import { channelsHandler } from './handlers/channels.js';
import { connectionHandler } from './handlers/connection.js';
import { liveHandler } from './handlers/live.js';
import { optimisticHandler } from './handlers/optimistic.js';
import { outboxHandler } from './handlers/outbox.js';
import { degradedHandler } from './handlers/degraded.js';
import { presenceHandler } from './handlers/presence.js';
import type { ChannelListener, HandlerContext, SyncHandler } from './handlers/types.js';
import type { PhoenixSocket, PushResult, SocketEvent, WebSocketLike } from './phoenix/types.js';
import { defaultWarning, validateOptions, type SyncMiddlewareOptions } from './options.js';
import { newUuid } from './ids.js';
import { createSelectors } from './selectors.js';
import { createSyncActions, createSyncSlice, type SyncActions, type SyncState } from './slice.js';

export type { SyncMiddlewareOptions } from './options.js';
export type { ChannelListener } from './handlers/types.js';

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
  const instance = newUuid();
  const actions = createSyncActions(reducerPath, instance);
  const slice = createSyncSlice(reducerPath, actions);
  const warn = options.onWarning ?? defaultWarning;
  const listeners = new Map<string, Set<ChannelListener>>();
  let store: MiddlewareAPI | undefined;
  let socket: PhoenixSocket | undefined;

  const mirror = (): SyncState => (store!.getState() as Record<string, SyncState>)[reducerPath]!;
  const context: HandlerContext = {
    actions,
    dispatch: (action) => store!.dispatch(action),
    getState: () => store!.getState(),
    mirror,
    socket: () => socket,
    ensureSocket,
    flushChanges: () => changes.flush(),
    changesReceived: (channel, batch) => {
      for (const handler of handlers) if (handler.onChanges) safely(() => handler.onChanges!(channel, batch));
    },
    listeners: (channel) => listeners.get(channel) ?? NO_LISTENERS,
    safely,
    notConnected,
    warn,
    now,
    timers,
  };
  const live = liveHandler(context, { ...options, baseOf: (key) => optimistic?.baseOf(key) });
  const optimistic = optimisticHandler(context, { ...options, columnTypes: (channel) => live?.queries.columnTypesOf(channel), isLiveEntry: (key) => live?.queries.follows(key) === true, windowOf: (key) => live?.queries.windowOf(key), setWindow: (key, spares, complete) => live?.queries.setWindow(key, spares, complete) });
  // The server answers a waiting join before our push times out, with its own reason.
  const channels = channelsHandler(context, Math.max(1, Math.floor((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) * 0.8)));
  const changes = changesHandler(context, live);
  /** The root runs them in this order (the first to answer an action ends its round). */
  // The outbox before the optimistic layer: it answers the announcement of a replayed optimistic write.
  const outbox = outboxHandler(context, options);
  const degraded = degradedHandler(context, { ...options, poll: () => live?.queries.poll(), ...(live && { apiPath: live.apiPath }) });
  const handlers: readonly SyncHandler[] = [...(live ? [live] : []), ...(outbox ? [outbox] : []), ...(optimistic ? [optimistic] : []), connectionHandler(context, options), degraded, channels, presenceHandler(context), broadcastHandler(context), changes];
  const transforms = handlers.filter((handler) => handler.transform !== undefined);

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
      ...(options.connectionTimeoutMs !== undefined && { connectionTimeoutMs: options.connectionTimeoutMs }),
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

  function onSocketEvent(event: SocketEvent): void {
    if (event.type !== 'message') {
      for (const handler of handlers) handler.onSocketEvent?.(event);
      return;
    }
    const name = channelName(event.topic);
    if (!mirror().channels[name]) {
      warn(`[rtk-postgrest sync] ${event.event} for channel ${JSON.stringify(name)}, which is not subscribed: ignored`);
      return;
    }
    const body = (event.payload ?? {}) as Record<string, unknown>;
    let outcome: 'record' | 'handled' | undefined;
    for (const handler of handlers) if ((outcome = handler.onMessage?.(name, event.event, body, event.joinRef)) !== undefined) break;
    if (outcome === 'handled') return;
    // Still recorded (DevTools shows everything received), but nothing here acts on an unknown event.
    if (outcome === undefined) warn(`[rtk-postgrest sync] unknown event ${JSON.stringify(event.event)} on channel ${JSON.stringify(name)}: ignored`);
    store!.dispatch(actions.messageReceived({ channel: name, event: event.event, payload: event.payload ?? null }));
  }

  function safely(run: () => void): void {
    try {
      run();
    } catch (error) {
      warn(`[rtk-postgrest sync] a listener threw: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  const middleware: Middleware = (api) => {
    store = api;
    for (const handler of handlers) handler.onStart?.(api);
    return (next) => (given) => {
      let action = given;
      if (isAction(action)) for (const handler of transforms) action = handler.transform!(action as UnknownAction);
      const before = isAction(action) && (action.meta as { instance?: string } | undefined)?.instance === instance ? mirror() : undefined;
      const result = next(action);
      if (!isAction(action)) return result;
      for (const handler of handlers) {
        const answer = handler.onAnyAction?.(action, result);
        if (answer !== undefined) return answer;
      }
      if (!before) return result;
      for (const handler of handlers) {
        const answer = handler.onAction?.(action, before);
        if (answer !== undefined) return answer;
      }
      return result;
    };
  };

  return {
    middleware,
    reducer: slice.reducer,
    reducerPath,
    actions,
    selectors: createSelectors(reducerPath),
    runtime: {
      listen(channel, given) {
        const listener = channels.listenerOf(channel, given);
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

/** What `track` / `untrack` / `broadcast` resolve with before any socket exists. */
const notConnected = (): Promise<PushResult> => Promise.resolve({ status: 'error', response: { reason: 'not connected: dispatch connect or subscribe first' } });

const NO_LISTENERS: ReadonlySet<ChannelListener> = new Set();

function isAction(action: unknown): action is UnknownAction {
  return typeof action === 'object' && action !== null && typeof (action as { type?: unknown }).type === 'string';
}
