/**
 * Live entries: RTK Query cache entries of the `live` endpoint (and of declared endpoints marked
 * live) kept equal to the database.
 *
 * - One shared channel per table (`live:<schema>.<table>`, every event, no server-side filter),
 *   subscribed while the table has live entries and left after the last one is removed.
 * - Subscribe first, then fetch: a `live` fetch waits (`gate`) until its table's changes are live.
 *   Changes that arrive during a fetch are held and applied, in order, on top of its result: each
 *   carries the full new row, so whatever the fetch already saw converges to the same rows. A fetch
 *   that started before the subscription was live is refetched once it is.
 * - Exact entries (lib/postgrest/evaluate says so) are patched: rows are inserted, moved or removed
 *   by primary key at their place in the order (the key breaks ties), with a key index that outlives
 *   the batch, and the cache gets one root replace per touched entry and batch. Top-N windows
 *   (limit, no offset) are patched too, unless a row leaves a full window. Everything else is
 *   refetched, once per batch: entries the client can't evaluate, offset and counted windows,
 *   single-row results, rows without every selected, key or order column, and every entry of a
 *   table after a resync notice or a rejoin that did not resume.
 * Only entries this store really fetched are followed (a running query exists for them), so actions
 * replayed into another store subscribe to nothing.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { compileRequest, type ColumnTypes, type CompiledQuery } from '../postgrest/evaluate/index.js';
import { toPostgrestRequest } from '../postgrest/request.js';
import type { PostgrestRequest } from '../postgrest/types.js';
import type { RealtimeChange } from './middleware.js';

/** The parts of an RTK Query api (from createPostgrestApi) this module uses. */
export interface LiveApi {
  reducerPath: string;
  endpoints: Record<string, { matchPending: (action: unknown) => boolean; matchFulfilled: (action: unknown) => boolean; matchRejected: (action: unknown) => boolean; initiate: (arg: unknown, options?: unknown) => unknown }>;
  util: {
    patchQueryData: (endpoint: string, arg: unknown, patches: Array<{ op: 'add' | 'remove' | 'replace'; path: Array<string | number>; value?: unknown }>) => unknown;
    getRunningQueryThunk: (endpoint: string, arg: unknown) => unknown;
  };
}

export interface LiveContext {
  api: LiveApi;
  /** Primary key columns per table; default `id`. */
  primaryKeys?: Readonly<Record<string, string | readonly string[]>>;
  dispatch: (action: unknown) => unknown;
  /** A reader of the cache entry's data (made once per entry: RTK's `select(arg)` builds a selector). */
  reader: (endpoint: string, arg: unknown) => () => unknown;
  /** Whether the channel's "Subscribed to PostgreSQL" arrived for its current join. */
  isLive: (channel: string) => boolean;
  subscribe: (channel: string, schema: string, table: string) => void;
  unsubscribe: (channel: string) => void;
  warn: (message: string) => void;
}

/** How long a `live` fetch waits for its table's changes to be live before it starts anyway (then it is refetched once live). */
export const GATE_TIMEOUT_MS = 3000;

interface LiveEntry {
  queryCacheKey: string;
  endpoint: string;
  arg: unknown;
  request: PostgrestRequest;
  channel: string;
  fetching: boolean;
  /** The fetch in flight started while the channel was live. */
  startedLive: boolean;
  /** Changes received during the fetch, applied after it. */
  held: RealtimeChange[];
  /** The result may miss changes: refetch once the channel is live. */
  stale: boolean;
  compiled?: CompiledQuery;
  compiledWith?: ColumnTypes;
  /** The cached rows `byKey` indexes (by identity). */
  indexed?: unknown;
  byKey?: Map<string, Record<string, unknown>>;
  read?: () => unknown;
}

interface Meta {
  arg?: { endpointName?: string; queryCacheKey?: string; originalArgs?: unknown };
}

/** The live-entry handler of one sync middleware. */
export function createLiveQueries(context: LiveContext, endpoints: readonly string[] = ['live']) {
  const { api } = context;
  const entries = new Map<string, LiveEntry>();
  const byChannel = new Map<string, Set<string>>();
  const columnTypes = new Map<string, ColumnTypes>();
  const refetching = new Set<string>();
  /** Fetches of `live` waiting for their table's changes to be live, per channel. */
  const gates = new Map<string, Array<() => void>>();
  /** Cache keys whose fetch this store really started (not a replayed action) and that are not followed yet. */
  const realFetches = new Set<string>();
  let refetchQueued = false;

  const channelOf = (request: PostgrestRequest) => `live:${request.schema ?? 'public'}.${request.relation}`;
  const primaryKeyOf = (table: string): readonly string[] => {
    const configured = context.primaryKeys?.[table];
    return configured === undefined ? ['id'] : typeof configured === 'string' ? [configured] : configured;
  };

  function endpointOf(action: unknown): string | undefined {
    for (const name of endpoints) {
      const endpoint = api.endpoints[name];
      if (endpoint && (endpoint.matchPending(action) || endpoint.matchFulfilled(action) || endpoint.matchRejected(action))) return name;
    }
    return undefined;
  }

  /** The request of an entry: its arg (generic `live`), or what the base query sent (declared endpoints). */
  function requestOf(arg: unknown, sent?: unknown): PostgrestRequest | undefined {
    for (const candidate of [sent, arg]) {
      if (candidate === undefined) continue;
      try {
        return toPostgrestRequest(candidate as never);
      } catch {
        /* not a request */
      }
    }
    return undefined;
  }

  function follow(endpoint: string, queryCacheKey: string, arg: unknown, sent?: unknown): LiveEntry | undefined {
    const request = requestOf(arg, sent);
    if (!request) return undefined;
    if (request.action !== 'select') return undefined;
    const channel = channelOf(request);
    const entry: LiveEntry = { queryCacheKey, endpoint, arg, request, channel, fetching: false, startedLive: false, held: [], stale: false };
    entries.set(queryCacheKey, entry);
    let keys = byChannel.get(channel);
    if (!keys) {
      byChannel.set(channel, (keys = new Set()));
      context.subscribe(channel, request.schema ?? 'public', request.relation);
    }
    keys.add(queryCacheKey);
    return entry;
  }

  function unfollow(queryCacheKey: string): void {
    const entry = entries.get(queryCacheKey);
    if (!entry) return;
    entries.delete(queryCacheKey);
    refetching.delete(queryCacheKey);
    const keys = byChannel.get(entry.channel);
    keys?.delete(queryCacheKey);
    if (keys && keys.size === 0) {
      byChannel.delete(entry.channel);
      context.unsubscribe(entry.channel);
    }
  }

  function refetch(entry: LiveEntry): void {
    refetching.add(entry.queryCacheKey);
    if (refetchQueued) return;
    refetchQueued = true;
    queueMicrotask(() => {
      refetchQueued = false;
      const keys = [...refetching];
      refetching.clear();
      for (const key of keys) {
        const current = entries.get(key);
        if (current) context.dispatch(api.endpoints[current.endpoint]!.initiate(current.arg, { subscribe: false, forceRefetch: true }));
      }
    });
  }

  function compiled(entry: LiveEntry): CompiledQuery | undefined {
    const types = columnTypes.get(entry.channel);
    if (entry.compiled && entry.compiledWith === types) return entry.compiled;
    try {
      entry.compiled = compileRequest(entry.request, types);
      entry.compiledWith = types;
      return entry.compiled;
    } catch (error) {
      context.warn(`[rtk-postgrest sync] live entry ${entry.queryCacheKey} can't be evaluated here: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** Applies `changes` to a fetched entry, or refetches it when patching can't be exact. */
  function apply(entry: LiveEntry, changes: readonly RealtimeChange[]): void {
    const query = compiled(entry);
    const request = entry.request;
    const counted = request.count !== undefined;
    // A top-N window (limit, no offset) is kept here too; offsets and counted windows are refetched.
    if (!query || !query.exact || request.result !== 'many' || query.window.offset > 0 || (query.window.limit !== null && counted)) {
      // Only refetch for changes that can matter; without a usable query every change can.
      if (!query || changes.some((change) => touches(query, change))) refetch(entry);
      return;
    }
    const primaryKey = primaryKeyOf(request.relation);
    const selected = query.project;
    for (const change of changes) {
      if (change.eventType !== 'DELETE' && !primaryKey.every((column) => column in change.new)) return refetch(entry);
      if (change.eventType === 'DELETE' && !primaryKey.every((column) => column in change.old)) return refetch(entry);
    }
    const keyOf = (row: Record<string, unknown>) => JSON.stringify(primaryKey.map((column) => row[column] ?? null));
    const needed = [...primaryKey, ...query.orderColumns];
    const keepsKeyAndOrder = (projected: Record<string, unknown>, full: Record<string, unknown>) =>
      needed.every((column) => column in projected && projected[column] === full[column]);

    const read = (entry.read ??= context.reader(entry.endpoint, entry.arg));
    const current = read();
    const limit = query.window.limit;
    const source = (counted ? (current as { rows?: unknown } | undefined)?.rows : current) as Array<Record<string, unknown>> | undefined;
    if (!Array.isArray(source)) return refetch(entry);
    // The key → row index outlives the batch; it is rebuilt only when the data changed elsewhere (a fetch).
    if (entry.indexed !== source) {
      entry.byKey = new Map(source.map((row) => [keyOf(row), row]));
    }
    const byKey = entry.byKey!;
    // A plain copy, edited with native splices and handed to the cache as one root replace: Immer
    // takes a root replacement as is (no clone, no proxied splice), so a change costs a binary
    // search and a memmove, and the patch is one op however many rows moved.
    // Copied on the first change that touches this entry: most batches touch few of the entries.
    let rows: Array<Record<string, unknown>> = source;
    const writable = () => (rows === source ? (rows = source.slice()) : rows);
    /** Gives up on patching this batch: the index may already hold part of it, so it is rebuilt after the refetch. */
    const bail = () => {
      entry.indexed = undefined;
      refetch(entry);
    };
    const find = (row: Record<string, unknown>, key: string): number => {
      let position = lowerBound(rows, row, query.compare);
      for (; position < rows.length && query.compare(rows[position]!, row) === 0; position++) if (keyOf(rows[position]!) === key) return position;
      return -1;
    };
    let delta = 0;
    let changed = false;
    /** The window holds `limit` rows: rows beyond it may exist in the database. */
    const isFull = () => limit !== null && rows.length >= limit;
    for (const change of changes) {
      // A row left a full window: one from beyond it (unknown here) may have to come in.
      let gap = false;
      if (change.eventType !== 'DELETE' && !keepsKeyAndOrder(selected(change.new), change.new)) {
        // The stored rows lack the key or the order columns (not selected, or renamed): can't place rows.
        return bail();
      }
      const oldKey = keyOf(change.eventType === 'INSERT' ? change.new : change.old);
      const existing = byKey.get(oldKey);
      if (existing !== undefined) {
        const position = find(existing, oldKey);
        if (position < 0) return bail(); // the index and the rows disagree: start over
        gap = isFull();
        writable().splice(position, 1);
        byKey.delete(oldKey);
        delta--;
        changed = true;
      }
      if (change.eventType === 'DELETE' || !query.matches(change.new)) {
        if (gap) return bail();
        continue;
      }
      const row = selected(change.new);
      const newKey = keyOf(row);
      // Among rows the order doesn't tell apart, by key (PostgREST's own order there is unspecified).
      let position = lowerBound(rows, row, query.compare);
      while (position < rows.length && query.compare(rows[position]!, row) === 0 && compareKeys(keyOf(rows[position]!), newKey) < 0) position++;
      if (limit !== null && position >= rows.length) {
        // After every row held: with a gap an unknown row may come first; in a full window it is beyond it.
        if (gap) return bail();
        if (isFull()) continue;
      }
      writable().splice(position, 0, row);
      byKey.set(newKey, row);
      delta++;
      changed = true;
      if (limit !== null && rows.length > limit) {
        const dropped = rows.pop()!; // pushed out of the window
        byKey.delete(keyOf(dropped));
      }
    }
    if (!changed) return;
    const count = counted ? (current as { count: number | null }).count : null;
    const next = counted ? { ...(current as object), rows, count: count === null ? null : count + delta } : rows;
    context.dispatch(api.util.patchQueryData(entry.endpoint, entry.arg, [{ op: 'replace', path: [], value: next }]));
    const after = read();
    entry.indexed = counted ? (after as { rows?: unknown } | undefined)?.rows : after;
  }

  return {
    /** After RTK Query's reducers saw `action`. */
    onAction(action: UnknownAction): void {
      if (action.type === `${api.reducerPath}/queries/removeQueryResult`) {
        const key = (action.payload as { queryCacheKey?: string } | undefined)?.queryCacheKey;
        if (key) unfollow(key);
        return;
      }
      const endpoint = endpointOf(action);
      if (!endpoint) return;
      const meta = (action as { meta?: Meta }).meta;
      const key = meta?.arg?.queryCacheKey;
      if (!key) return;
      const arg = meta.arg!.originalArgs;
      const entry = entries.get(key);
      if (api.endpoints[endpoint]!.matchPending(action)) {
        const start = (target: LiveEntry) => {
          target.fetching = true;
          target.startedLive = context.isLive(target.channel);
          target.held = [];
          target.stale = false;
        };
        if (entry) return start(entry);
        // The running query exists only once initiate returned: look a microtask later. A replayed
        // action has no running query behind it and is not followed.
        queueMicrotask(() => {
          if (entries.has(key)) return;
          const running = context.dispatch(api.util.getRunningQueryThunk(endpoint, arg));
          if (!running) return;
          realFetches.add(key);
          const followed = follow(endpoint, key, arg);
          if (followed) start(followed);
        });
        return;
      }
      if (!entry) {
        // A declared endpoint's arg is not the request: follow it once the base query says what it sent.
        if (!realFetches.delete(key) || !api.endpoints[endpoint]!.matchFulfilled(action)) return;
        const sent = (action as { meta?: { baseQueryMeta?: { request?: unknown } } }).meta?.baseQueryMeta?.request;
        const followed = follow(endpoint, key, arg, sent);
        // Its fetch started before the subscription: it is refetched once the table's changes are live.
        if (followed) {
          followed.stale = true;
          if (context.isLive(followed.channel)) {
            followed.stale = false;
            refetch(followed);
          }
        }
        return;
      }
      realFetches.delete(key);
      entry.fetching = false;
      if (api.endpoints[endpoint]!.matchRejected(action)) {
        entry.held = [];
        return;
      }
      const held = entry.held;
      entry.held = [];
      if (!entry.startedLive) {
        entry.stale = true;
        if (context.isLive(entry.channel)) {
          entry.stale = false;
          refetch(entry);
        }
        return;
      }
      if (held.length > 0) apply(entry, held);
    },

    /** The changes of one channel that arrived together. */
    onChanges(channel: string, changes: readonly RealtimeChange[]): void {
      const keys = byChannel.get(channel);
      if (!keys) return;
      const types = changes[changes.length - 1]?.columns;
      if (types && !columnTypes.has(channel)) columnTypes.set(channel, Object.fromEntries(types.map((column) => [column.name, column.type])));
      for (const key of keys) {
        const entry = entries.get(key)!;
        if (entry.fetching) {
          if (entry.startedLive) for (const change of changes) entry.held.push(change);
          continue;
        }
        if (!entry.stale) apply(entry, changes);
      }
    },

    /**
     * The channel's changes are live (again). Entries fetched before that are refetched, and after a
     * rejoin that did not resume (a fresh join, or a server without resume) so is every entry: the
     * changes between the old and the new join are not coming.
     */
    onLive(channel: string, resumed: boolean): void {
      const waiting = gates.get(channel) ?? [];
      gates.delete(channel);
      for (const key of byChannel.get(channel) ?? []) {
        const entry = entries.get(key)!;
        if (entry.fetching) {
          // A gated fetch starts now, while live; any other one started before: its result may miss what happened meanwhile.
          entry.startedLive = waiting.length > 0 && entry.endpoint === 'live' ? true : resumed && entry.startedLive;
          continue;
        }
        if (entry.stale || !resumed) {
          entry.stale = false;
          refetch(entry);
        }
      }
      for (const release of waiting) release();
    },

    /**
     * A `live` fetch is about to start: it waits until its table's changes are live (subscribe
     * first, then fetch), at most GATE_TIMEOUT_MS, and not at all without a connection to wait for.
     * Never subscribes by itself: a replayed action waits for nothing.
     */
    gate(request: unknown, connected: boolean): Promise<void> | undefined {
      let channel: string;
      try {
        channel = channelOf(toPostgrestRequest(request as never));
      } catch {
        return undefined;
      }
      if (!byChannel.has(channel) || !connected || context.isLive(channel)) return undefined;
      return new Promise<void>((resolve) => {
        let list = gates.get(channel);
        if (!list) gates.set(channel, (list = []));
        const timer = setTimeout(release, GATE_TIMEOUT_MS);
        function release(): void {
          clearTimeout(timer);
          resolve();
        }
        list.push(release);
      });
    },

    /** A resync notice: every entry of the channel may be stale. */
    onResync(channel: string): void {
      for (const key of byChannel.get(channel) ?? []) {
        const entry = entries.get(key)!;
        if (entry.fetching) entry.startedLive = false; // its result may predate the gap: refetch after it
        else refetch(entry);
      }
    },

    /** Live entries followed (for tests and DevTools-style inspection). */
    get size() {
      return entries.size;
    },
  };
}

/** Whether `change` can alter the result of `query` (for entries that are refetched, not patched). */
function touches(query: CompiledQuery | undefined, change: RealtimeChange): boolean {
  if (!query) return true;
  if (change.eventType === 'DELETE') return true; // the old row may have been in the result
  if (change.eventType === 'UPDATE') return true; // it may have entered or left the result
  return query.matches(change.new);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The first position in `rows` (sorted by `order`) whose row does not sort before `row`. */
function lowerBound(
  rows: ReadonlyArray<Record<string, unknown>>,
  row: Record<string, unknown>,
  order: (a: Record<string, unknown>, b: Record<string, unknown>) => number,
): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (order(rows[middle]!, row) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}


