/**
 * React hooks over the sync middleware: realtime changes, presence, broadcast and connection status.
 *
 * The hooks hold no sync state of their own: channels are subscribed with the middleware's
 * ref-counted `subscribe` / `unsubscribe` commands, status and presence are read from its mirror
 * with `useSelector`, and handlers stay in refs registered with `sync.runtime.listen`, so the store
 * only ever sees serializable actions.
 *
 * Hooks may share a channel name (slice.ts): the channel joins with the union of their
 * `postgres_changes` bindings, rejoining (without losing a change) when a hook adds one, and each
 * `useRealtime` handler gets only the changes the server matched to its own binding (by the binding
 * ids of the join reply). A binding the server refuses leaves the channel without changes for all
 * of its hooks until that hook unmounts. Presence key and broadcast options are taken from the first
 * hook that sets them; in development a hook asking for different ones warns.
 */
import { createContext, createElement, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, type ReactNode } from 'react';
import { shallowEqual, useDispatch, useSelector, useStore } from 'react-redux';
import type { ChannelConfig, PostgresChangesBinding, PresenceState, RealtimeChange, SyncMiddleware } from '../sync/index.js';
import type { ConflictRecord, ConnectionStatus, OutboxItem, PendingWrite } from '../sync/slice.js';
import type { PushResult } from '../sync/phoenix/types.js';

/** Any sync middleware instance, whatever its reducer path. */
export type AnySyncMiddleware = SyncMiddleware<string>;

/** What `useRealtime` listens to: one `postgres_changes` binding (event defaults to `*`, schema to `public`). */
export interface RealtimeBinding {
  event?: PostgresChangesBinding['event'];
  schema?: string;
  table?: string;
  /** A PostgREST-style filter, e.g. `room=eq.lobby`. */
  filter?: string;
}

/** One change as `useRealtime` hands it to its handler (realtime-js's `postgres_changes` payload). */
export type RealtimePostgresChangesPayload<Row extends object = { [column: string]: any }> = Pick<RealtimeChange, 'eventType' | 'schema' | 'table' | 'commit_timestamp' | 'errors'> & {
  /** The row after an INSERT or UPDATE (typed by `useRealtime<Row>`); `{}` for a DELETE. */
  new: Row;
  /** A DELETE's key (the whole old row with REPLICA IDENTITY FULL); an UPDATE's old values when the table sends them. */
  old: Partial<Row>;
};

export interface UsePresenceOptions {
  /** This client's presence key; the server picks a random one when omitted. */
  key?: string;
  /** Tracked once the channel is joined, re-tracked when it changes (by JSON) or after a rejoin, untracked on unmount. */
  state?: Record<string, unknown>;
}

export interface UsePresenceResult {
  /** The room's presence: key → metas (each meta is a tracked state plus `phx_ref`). */
  presenceState: PresenceState;
  /** The keys present in the room, in the order the server lists them. */
  onlineUsers: string[];
  /** `onlineUsers.length`. */
  onlineCount: number;
  /** Tracks `state` now (the `state` option, when given, overrides it on its next change or rejoin). */
  track(state: Record<string, unknown>): Promise<PushResult>;
  /** Stops tracking. */
  untrack(): Promise<PushResult>;
}

export interface UseBroadcastOptions {
  /** Also hear this client's own broadcasts. Default false. */
  self?: boolean;
  /** Ask the server to acknowledge each broadcast, so `send` resolves with its reply. Default false. */
  ack?: boolean;
}

export interface UseBroadcastResult {
  /** Broadcasts `payload` under the hook's event; resolves with the push result (an `error` result when the channel is not joined yet). */
  send(payload: unknown): Promise<PushResult>;
}

export interface SyncStatus {
  /** The app is online and the socket is open. */
  isOnline: boolean;
  status: ConnectionStatus;
  /** When the cache was last known equal to the database (ms since epoch). */
  lastSyncTime: number | null;
  /**
   * `offline`: the app says so, or PostgREST can't be reached (writes queue in the outbox);
   * `degraded`: the realtime socket has not been live for `degradedAfterMs` (live entries are
   * polled); `syncing`: writes are unanswered or the socket is (re)connecting; else `synced`.
   */
  syncStatus: 'synced' | 'syncing' | 'degraded' | 'offline';
  /** Writes not answered by PostgREST yet (queued in the outbox or being sent). */
  pendingWrites: number;
}

export interface UseOutboxResult {
  /** Writes not answered yet, in the order made, and those that failed while queued (with `error`). */
  outbox: OutboxItem[];
  /** Sends a queued write now, or a failed one again. */
  retry(id: string): void;
  /** Drops a queued or failed write: never sent, its optimistic layer rolled back. */
  discard(id: string): void;
}

export interface UsePendingWritesResult {
  /** The table's optimistic writes: pending ones in the order applied, then the last rolled-back ones (with `error`). */
  writes: PendingWrite[];
  /** Whether a pending write touches `row` (an insert not confirmed yet, an update or delete not answered yet). */
  isPending(row: Record<string, unknown>): boolean;
  /** A React key for `row` that survives an optimistic insert's temporary key being replaced by the server's. */
  clientKey(row: Record<string, unknown>): string;
  /** Forgets a rolled-back write's record (its error was shown). */
  dismiss(id: string): void;
}

export interface UseConflictsResult {
  /** Conflicts of optimistic writes: open ones (the server's row is shown, the write failed) and the last settled ones. */
  conflicts: ConflictRecord[];
  /** The open ones. */
  open: ConflictRecord[];
  /**
   * Settles an open conflict: `server` keeps the server's row; `client` writes the client's values
   * again and a row writes that row, as a new optimistic write checked against the server's version.
   */
  resolve(id: string, resolution: 'server' | 'client' | Record<string, unknown>): Promise<unknown>;
}

export interface SyncHooks {
  /** Subscribes channel `name` with one `postgres_changes` binding while mounted; `handler` gets each change in order. */
  useRealtime<Row extends object = { [column: string]: any }>(name: string, binding: RealtimeBinding, handler: (payload: RealtimePostgresChangesPayload<Row>) => void): void;
  /** Joins `room` with presence while mounted; tracks `state` when given. */
  usePresence(room: string, options?: UsePresenceOptions): UsePresenceResult;
  /** Subscribes `channel` while mounted; `handler` hears `event` broadcasts from other clients. */
  useBroadcast(channel: string, event: string, handler?: (payload: unknown) => void, options?: UseBroadcastOptions): UseBroadcastResult;
  /** The connection as `{ isOnline, status, lastSyncTime }`. */
  useSyncStatus(): SyncStatus;
  /** Optimistic writes (of `table`, when given), and whether a row is pending. */
  usePendingWrites(table?: string): UsePendingWritesResult;
  /** Conflicts of optimistic writes, and `resolve` for a UI that asks the user. */
  useConflicts(): UseConflictsResult;
  /** The outbox, with `retry` and `discard`. */
  useOutbox(): UseOutboxResult;
}

const EMPTY_PRESENCE: PresenceState = Object.freeze({}) as PresenceState;
const useIsomorphicLayoutEffect = typeof window !== 'undefined' ? useLayoutEffect : useEffect;
const CHANGE_EVENTS = new Set(['*', 'INSERT', 'UPDATE', 'DELETE']);
/** A channel's settings that don't merge: the first hook that sets one wins. */
const SETTINGS = ['presenceKey', 'broadcast', 'private'] as const;

/** Hooks bound to one sync middleware instance (no provider needed besides react-redux's). */
export function createSyncHooks(sync: AnySyncMiddleware): SyncHooks {
  assertSync(sync, 'createSyncHooks');
  return {
    useRealtime: (name, binding, handler) => useRealtimeOf(sync, 'useRealtime', name, binding, handler as (payload: RealtimePostgresChangesPayload) => void),
    usePresence: (room, options) => usePresenceOf(sync, 'usePresence', room, options),
    useBroadcast: (channel, event, handler, options) => useBroadcastOf(sync, 'useBroadcast', channel, event, handler, options),
    useSyncStatus: () => useSyncStatusOf(sync, 'useSyncStatus'),
    usePendingWrites: (table) => usePendingWritesOf(sync, 'usePendingWrites', table),
    useConflicts: () => useConflictsOf(sync, 'useConflicts'),
    useOutbox: () => useOutboxOf(sync, 'useOutbox'),
  };
}

const SyncContext = createContext<AnySyncMiddleware | null>(null);

/** Makes `sync` the instance the context hooks (`useRealtime`, `usePresence` ...) use; render it inside react-redux's `<Provider>`. */
export function SyncProvider({ sync, children }: { sync: AnySyncMiddleware; children?: ReactNode }) {
  assertSync(sync, '<SyncProvider>');
  return createElement(SyncContext.Provider, { value: sync }, children);
}

function useSyncFromContext(hook: string): AnySyncMiddleware {
  const sync = useContext(SyncContext);
  if (!sync) {
    throw new Error(`${hook}: no sync middleware in context: render this component inside <SyncProvider sync={sync}>, or use the hooks returned by createSyncHooks(sync)`);
  }
  return sync;
}

/** `useRealtime` of the `<SyncProvider>`'s instance. */
export function useRealtime<Row extends object = { [column: string]: any }>(name: string, binding: RealtimeBinding, handler: (payload: RealtimePostgresChangesPayload<Row>) => void): void {
  useRealtimeOf(useSyncFromContext('useRealtime'), 'useRealtime', name, binding, handler as (payload: RealtimePostgresChangesPayload) => void);
}

/** `usePresence` of the `<SyncProvider>`'s instance. */
export function usePresence(room: string, options?: UsePresenceOptions): UsePresenceResult {
  return usePresenceOf(useSyncFromContext('usePresence'), 'usePresence', room, options);
}

/** `useBroadcast` of the `<SyncProvider>`'s instance. */
export function useBroadcast(channel: string, event: string, handler?: (payload: unknown) => void, options?: UseBroadcastOptions): UseBroadcastResult {
  return useBroadcastOf(useSyncFromContext('useBroadcast'), 'useBroadcast', channel, event, handler, options);
}

/** `useSyncStatus` of the `<SyncProvider>`'s instance. */
export function useSyncStatus(): SyncStatus {
  return useSyncStatusOf(useSyncFromContext('useSyncStatus'), 'useSyncStatus');
}

function useRealtimeOf(
  sync: AnySyncMiddleware,
  hook: string,
  name: string,
  binding: RealtimeBinding,
  handler: (payload: RealtimePostgresChangesPayload) => void,
): void {
  assertChannelName(hook, name);
  if (binding === null || typeof binding !== 'object') throw new TypeError(`${hook}: the binding must be an object like { event, schema, table, filter }, got ${describe(binding)}`);
  const event = binding.event ?? '*';
  const schema = binding.schema ?? 'public';
  const { table, filter } = binding;
  if (!CHANGE_EVENTS.has(event)) throw new TypeError(`${hook}: event must be one of *, INSERT, UPDATE, DELETE, got ${describe(event)}`);
  if (typeof schema !== 'string' || schema.length === 0) throw new TypeError(`${hook}: schema must be a non-empty string, got ${describe(schema)}`);
  if (table !== undefined && (typeof table !== 'string' || table.length === 0)) throw new TypeError(`${hook}: table must be a non-empty string, got ${describe(table)}`);
  if (filter !== undefined && typeof filter !== 'string') throw new TypeError(`${hook}: filter must be a string like "room=eq.lobby", got ${describe(filter)}`);
  if (typeof handler !== 'function') throw new TypeError(`${hook}: handler must be a function, got ${describe(handler)}`);

  const handlerRef = useLatest(handler);
  const subscribe = useChannel(sync, hook);
  useEffect(() => {
    const postgresChanges: PostgresChangesBinding = { event, schema, ...(table !== undefined && { table }), ...(filter !== undefined && { filter }) };
    // Listen before subscribing: nothing that arrives after the join can be missed.
    const stop = sync.runtime.listen(name, {
      kind: 'postgres_changes',
      // The channel may carry other hooks' bindings: the middleware hands over only ours.
      binding: postgresChanges,
      handler: (changes) => {
        // One handler call per change; a throwing handler must not cost the rest of the batch.
        let failure: { error: unknown } | undefined;
        for (const change of changes) {
          try {
            handlerRef.current({
              eventType: change.eventType,
              schema: change.schema,
              table: change.table,
              commit_timestamp: change.commit_timestamp,
              new: change.new,
              old: change.old,
              errors: change.errors,
            });
          } catch (error) {
            failure ??= { error };
          }
        }
        if (failure) throw failure.error; // the middleware reports it as a listener failure
      },
    });
    const leave = subscribe(name, { postgresChanges: [postgresChanges] });
    return () => {
      stop();
      leave();
    };
  }, [sync, subscribe, handlerRef, name, event, schema, table, filter]);
}

function usePresenceOf(sync: AnySyncMiddleware, hook: string, room: string, options: UsePresenceOptions = {}): UsePresenceResult {
  assertChannelName(hook, room);
  if (options === null || typeof options !== 'object') throw new TypeError(`${hook}: options must be an object like { key, state }, got ${describe(options)}`);
  const { key, state } = options;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) throw new TypeError(`${hook}: key must be a non-empty string, got ${describe(key)}`);
  if (state !== undefined && (state === null || typeof state !== 'object' || Array.isArray(state))) {
    throw new TypeError(`${hook}: state must be a plain object, got ${describe(state)}`);
  }
  const stateJson = state === undefined ? undefined : JSON.stringify(state);

  const dispatch = useDispatch();
  const subscribe = useChannel(sync, hook);
  const channel = useSelector((s: unknown) => sync.selectors.selectChannel(s, room));
  const presenceState = channel?.presence ?? EMPTY_PRESENCE;
  /** The room this hook tracked in, so unmount (or a room change) untracks exactly that. */
  const trackedIn = useRef<string | null>(null);

  useEffect(() => {
    const leave = subscribe(room, { presenceKey: key ?? '' });
    return () => {
      if (trackedIn.current === room) {
        trackedIn.current = null;
        void asPushResult(dispatch(sync.actions.untrack({ channel: room })));
      }
      leave();
    };
  }, [sync, dispatch, subscribe, room, key]);

  // Not keyed on `joined`: the mirror keeps what is tracked, and the middleware (the one place that
  // does) tracks it again whenever the channel joins, first join and rejoins alike.
  useEffect(() => {
    if (stateJson !== undefined) {
      trackedIn.current = room;
      void asPushResult(dispatch(sync.actions.track({ channel: room, state: JSON.parse(stateJson) as Record<string, unknown> })));
    } else if (trackedIn.current === room) {
      trackedIn.current = null;
      void asPushResult(dispatch(sync.actions.untrack({ channel: room })));
    }
  }, [sync, dispatch, room, stateJson]);

  const track = useCallback(
    (next: Record<string, unknown>) => {
      trackedIn.current = room;
      return asPushResult(dispatch(sync.actions.track({ channel: room, state: next })));
    },
    [sync, dispatch, room],
  );
  const untrack = useCallback(() => {
    trackedIn.current = null;
    return asPushResult(dispatch(sync.actions.untrack({ channel: room })));
  }, [sync, dispatch, room]);

  const onlineUsers = useMemo(() => Object.keys(presenceState), [presenceState]);
  return { presenceState, onlineUsers, onlineCount: onlineUsers.length, track, untrack };
}

function useBroadcastOf(
  sync: AnySyncMiddleware,
  hook: string,
  channel: string,
  event: string,
  handler?: (payload: unknown) => void,
  options: UseBroadcastOptions = {},
): UseBroadcastResult {
  assertChannelName(hook, channel);
  if (typeof event !== 'string' || event.length === 0) throw new TypeError(`${hook}: event must be a non-empty string, got ${describe(event)}`);
  if (handler !== undefined && typeof handler !== 'function') throw new TypeError(`${hook}: handler must be a function, got ${describe(handler)}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`${hook}: options must be an object like { self, ack }, got ${describe(options)}`);
  const self = options.self === true;
  const ack = options.ack === true;
  const listening = handler !== undefined;

  const dispatch = useDispatch();
  const subscribe = useChannel(sync, hook);
  const handlerRef = useLatest(handler);
  useEffect(() => {
    const stop = listening ? sync.runtime.listen(channel, { kind: 'broadcast', event, handler: (payload) => handlerRef.current?.(payload) }) : undefined;
    // Always explicit: a later hook's `self` must not make this one hear its own broadcasts.
    const leave = subscribe(channel, { broadcast: { self, ack } });
    return () => {
      stop?.();
      leave();
    };
  }, [sync, subscribe, handlerRef, channel, event, listening, self, ack]);

  const send = useCallback(
    (payload: unknown) => asPushResult(dispatch(sync.actions.broadcast({ channel, event, payload }))),
    [sync, dispatch, channel, event],
  );
  return useMemo(() => ({ send }), [send]);
}

/** `usePendingWrites` of the `<SyncProvider>`'s instance. */
export function usePendingWrites(table?: string): UsePendingWritesResult {
  return usePendingWritesOf(useSyncFromContext('usePendingWrites'), 'usePendingWrites', table);
}

/** `useConflicts` of the `<SyncProvider>`'s instance. */
export function useConflicts(): UseConflictsResult {
  return useConflictsOf(useSyncFromContext('useConflicts'), 'useConflicts');
}

function usePendingWritesOf(sync: AnySyncMiddleware, hook: string, table?: string): UsePendingWritesResult {
  const store = useMirror(sync, hook);
  const dispatch = useDispatch();
  const writes = useSelector((state: unknown) => sync.selectors.selectWrites(state, table), shallowEqual);
  // Re-rendered when the table's temporary → real keys change (a commit), so clientKey stays current.
  const clientKeys = useSelector((state: unknown) => sync.selectors.selectSync(state).clientKeys);
  return useMemo(
    () => ({
      writes,
      isPending: (row: Record<string, unknown>) => (table === undefined ? writes.some((write) => write.status === 'pending' && write.keys.includes(keyOf(row, write.primaryKey))) : sync.selectors.selectIsPending(store.getState(), table, row)),
      clientKey: (row: Record<string, unknown>) => {
        const primaryKey = writes[0]?.primaryKey ?? ['id'];
        return table === undefined ? keyOf(row, primaryKey) : sync.selectors.selectClientKey(store.getState(), table, row, primaryKey);
      },
      dismiss: (id: string) => {
        dispatch(sync.actions.optimisticDismissed({ id }));
      },
    }),
    [writes, clientKeys, table, sync, store, dispatch],
  );
}

/** `useOutbox` of the `<SyncProvider>`'s instance. */
export function useOutbox(): UseOutboxResult {
  return useOutboxOf(useSyncFromContext('useOutbox'), 'useOutbox');
}

function useOutboxOf(sync: AnySyncMiddleware, hook: string): UseOutboxResult {
  useMirror(sync, hook);
  const dispatch = useDispatch();
  const outbox = useSelector(sync.selectors.selectOutbox);
  return useMemo(
    () => ({
      outbox,
      retry: (id: string) => {
        dispatch(sync.actions.retryWrite({ id }));
      },
      discard: (id: string) => {
        dispatch(sync.actions.discardWrite({ id }));
      },
    }),
    [outbox, sync, dispatch],
  );
}

function useConflictsOf(sync: AnySyncMiddleware, hook: string): UseConflictsResult {
  useMirror(sync, hook);
  const dispatch = useDispatch();
  const conflicts = useSelector(sync.selectors.selectConflicts);
  return useMemo(
    () => ({
      conflicts,
      open: conflicts.filter((conflict) => conflict.status === 'open'),
      resolve: (id: string, resolution: 'server' | 'client' | Record<string, unknown>) => Promise.resolve(dispatch(sync.actions.resolveConflict({ id, resolution })) as unknown),
    }),
    [conflicts, sync, dispatch],
  );
}

function keyOf(row: Record<string, unknown>, primaryKey: readonly string[]): string {
  return JSON.stringify(primaryKey.map((column) => row[column] ?? null));
}

function useSyncStatusOf(sync: AnySyncMiddleware, hook: string): SyncStatus {
  useMirror(sync, hook);
  return useSelector(sync.selectors.selectSyncStatus, shallowEqual);
}

/**
 * `subscribe(name, config)`: dispatches the ref-counted subscribe and returns the matching
 * unsubscribe (which releases this config's bindings). In development it warns when the channel
 * already has another presence key or broadcast options (bindings merge, those don't).
 */
function useChannel(sync: AnySyncMiddleware, hook: string): (name: string, config: ChannelConfig) => () => void {
  const store = useMirror(sync, hook);
  const dispatch = useDispatch();
  return useCallback(
    (name: string, config: ChannelConfig) => {
      dispatch(sync.actions.subscribe({ channel: name, config }));
      const actual = sync.selectors.selectChannel(store.getState(), name)?.config;
      const conflicts = actual ? SETTINGS.filter((key) => config[key] !== undefined && JSON.stringify(actual[key]) !== JSON.stringify(config[key])) : [];
      if (conflicts.length > 0 && !isProduction()) {
        const pick = (from: ChannelConfig) => JSON.stringify(Object.fromEntries(conflicts.map((key) => [key, from[key]])));
        console.warn(
          `[rtk-postgrest sync] ${hook}: channel ${JSON.stringify(name)} is already subscribed with ${pick(actual!)}; ` +
            `this hook asked for ${pick(config)}, which is ignored while the channel has other subscribers (use distinct channel names)`,
        );
      }
      return () => {
        dispatch(sync.actions.unsubscribe({ channel: name, config }));
      };
    },
    [sync, hook, store, dispatch],
  );
}

/** The react-redux store, checked to hold this instance's mirror (a clear error instead of silent nothing). */
function useMirror(sync: AnySyncMiddleware, hook: string) {
  const store = useStore();
  const state = store.getState() as Record<string, unknown> | undefined;
  if (!state || typeof state !== 'object' || state[sync.reducerPath] === undefined) {
    throw new Error(
      `${hook}: the react-redux store has no sync mirror at "${sync.reducerPath}": add { ${sync.reducerPath}: sync.reducer } to its reducers and sync.middleware to its middleware`,
    );
  }
  return store;
}

/** A ref always holding the latest value, so effects can call it without re-running. */
function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  useIsomorphicLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}

/** The middleware answers track/untrack/broadcast with the push promise; anything else means it never saw the command. */
function asPushResult(result: unknown): Promise<PushResult> {
  if (result && typeof (result as PromiseLike<unknown>).then === 'function') return Promise.resolve(result as PromiseLike<PushResult>);
  return Promise.resolve({ status: 'error', response: { reason: 'the sync middleware did not handle the command: is sync.middleware in this store, and has it connected?' } });
}

function assertSync(sync: unknown, where: string): asserts sync is AnySyncMiddleware {
  const candidate = sync as Partial<AnySyncMiddleware> | null | undefined;
  if (
    !candidate ||
    typeof candidate !== 'object' ||
    typeof candidate.reducerPath !== 'string' ||
    typeof candidate.actions?.subscribe !== 'function' ||
    typeof candidate.runtime?.listen !== 'function' ||
    typeof candidate.selectors?.selectChannel !== 'function'
  ) {
    throw new TypeError(`${where}: expected the object createSyncMiddleware returns, got ${describe(sync)}`);
  }
}

function assertChannelName(hook: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${hook}: the channel name must be a non-empty string, got ${describe(name)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function isProduction(): boolean {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NODE_ENV === 'production';
}
