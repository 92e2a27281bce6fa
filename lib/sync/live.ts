/**
 * Live entries: RTK Query cache entries of live endpoints (the generic `live`, declared
 * `build.liveQuery` / `build.liveInfiniteQuery` endpoints and those marked with `markLiveEndpoints`)
 * kept equal to the database.
 *
 * - One shared channel per table (`live:<schema>.<table>`, every event, no server-side filter: a
 *   filtered binding can't report a row that leaves the filter), subscribed while the table has
 *   live entries and left after the last one is removed.
 * - Subscribe first, then fetch: a live endpoint's base query announces its fetch
 *   (LIVE_FETCH_STARTING); the entry is followed then, and the fetch waits (`gate`) until its
 *   table's changes are live. Changes that arrive during a fetch are held and applied, in order, on
 *   top of its result: each carries the full new row, so whatever the fetch already saw converges
 *   to the same rows. A fetch that started before the subscription was live is refetched once it is.
 * - Exact entries (lib/postgrest/evaluate says so) are patched (patch.ts); the patches of every
 *   entry a tick touched reach the cache in one action (`flush`; lib/api/liveContract.ts says how).
 * - Exact top-N windows (limit, no offset or count, many rows) are fetched with spare rows: the
 *   gate answers `{ live, spareRows }` (spareRowsFor), the base query fetches N + spareRows, caches
 *   the first N and hands the rest over in `meta.spares` (with `complete`: it got fewer than it
 *   asked for). The entry keeps them here, out of the store, and patches cached rows + spares as one
 *   known prefix: a row leaving the window is replaced from the spares; only when the known rows
 *   fall short of N (and are not the whole result) is it refetched, which brings spares again. Everything
 *   else is refetched, once per batch: entries the client can't evaluate, offset and counted
 *   windows, single-row results, rows without every selected, key or order column, and every entry
 *   of a table after a resync notice or a rejoin that did not resume.
 * - Infinite entries (`{ pages, pageParams }`) are followed as their whole list (pages.ts
 *   `pagedListOf`): every page's fetch passes the gate, and changes during one (fetchNextPage too)
 *   are held and applied on top of all its pages. Keyset pages of an exact list are patched
 *   (patchPages.ts: rows enter and leave the loaded range by order); offset pages, and infinite
 *   endpoints not made by keysetPages / offsetPages, are refetched (all their pages) instead.
 * - A row leaving what this client may SELECT (an UPDATE under RLS) comes as a LEAVE of its key:
 *   live channels ask for them (`leaveEvents` → the join's `leave_events`) and get them as DELETEs
 *   (changes.ts), so they are patched or refetched like one. Changes whose key values don't fit their
 *   columns' types are ignored, with a warning, before anything reads them (keys.ts).
 * Only entries whose fetch really runs in this store are followed, so actions replayed into another
 * store subscribe to nothing. Each entry's lifecycle (fetching, gated, stale, failed, doubted …) is
 * the pure machine of liveMachine.ts; this module sends it events and performs the side effects.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { livePatch, patchAlone, windowLimit, type PatchUtil, type LiveFetch, type LiveGate, type LivePatch, type QueryCacheEntry } from '../api/liveContract.js';
import { compileRequest, type ColumnType, type ColumnTypes, type CompiledQuery, type EvaluateOptions } from '../postgrest/evaluate/index.js';
import { toPostgrestRequest } from '../postgrest/request/request.js';
import type { PostgrestRequest } from '../postgrest/request/types.js';
import type { RealtimeChange } from './changes.js';
import { primaryKeyOf as configuredKey } from '../api/tags.js';
import { createKeyCheck } from './keys.js';
import { holdsChanges, isFetching, isStale, liveTransition, LIVE_INITIAL_STATE, retriesOnChanges, type LiveEvent, type LiveState } from './liveMachine.js';
import { patchRows, touches, type KeyIndex, type Row } from './patch.js';
import { patchPages } from './patchPages.js';
import type { InfiniteData, PagedList } from '../api/pages.js';
import type { Timers } from './phoenix/types.js';

/** The parts of an RTK Query api (from createPostgrestApi) this module uses. */
export interface LiveApi {
  reducerPath: string;
  endpoints: Record<string, { matchPending: (action: unknown) => boolean; matchFulfilled: (action: unknown) => boolean; matchRejected: (action: unknown) => boolean; initiate: (arg: unknown, options?: unknown) => unknown }>;
  util: { getRunningQueryThunk: (endpoint: string, arg: unknown) => unknown } & PatchUtil;
}

export interface LiveContext {
  api: LiveApi;
  /** The api's live endpoints (read when needed: more may be marked after the middleware was made). */
  liveEndpoints: () => ReadonlySet<string>;
  /** What the pages of an infinite endpoint are (undefined: not an infinite endpoint). */
  pagesOf?: (endpoint: string) => PagedList | undefined;
  /** Primary key columns per table; default `id`. */
  primaryKeys?: Readonly<Record<string, string | readonly string[]>>;
  /** What the app knows about the database (its default collation, TimeZone) beyond what the server says. */
  database?: EvaluateOptions;
  dispatch: (action: unknown) => unknown;
  /**
   * A reader of the cache entry's server data (made once per entry: RTK's `select(arg)` builds a
   * selector): under an optimistic layer, the rows beneath it, which server changes patch.
   */
  reader: (endpoint: string, arg: unknown, queryCacheKey: string) => () => unknown;
  /** The original arg of a cache entry and the request id of its latest fetch (from the api's state). */
  argOf: (queryCacheKey: string) => { found: boolean; arg: unknown; requestId?: string };
  /** The cache entry as stored in the api's state. */
  cacheEntry: (queryCacheKey: string) => QueryCacheEntry | undefined;
  /** Whether the api's state says the entry's last subscriber left. */
  hasNoSubscriber: (queryCacheKey: string) => boolean;
  /** Dispatches patches outside a tick's flush (held changes applied after a fetch). */
  commit: (patches: LivePatch[]) => void;
  /** Whether the channel's "Subscribed to PostgreSQL" arrived for its current join. */
  isLive: (channel: string) => boolean;
  subscribe: (channel: string, schema: string, table: string) => void;
  unsubscribe: (channel: string) => void;
  warn: (message: string) => void;
  /** setTimeout / clearTimeout (the middleware's `timers` option). */
  timers: Timers;
}

/** How many spare rows a live top-N window of `limit` rows is fetched with (kept out of the cache, for patching). */
export function spareRowsFor(limit: number): number {
  return Math.min(500, Math.max(5, Math.ceil(limit / 10)));
}

/** How long a live fetch waits for its table's changes to be live before it starts anyway (then it is refetched once live). */
export const GATE_TIMEOUT_MS = 3000;

interface LiveEntry {
  queryCacheKey: string;
  endpoint: string;
  arg: unknown;
  /** What it fetches; for an infinite entry, its whole list (else its first page's request). */
  request: PostgrestRequest;
  /** An infinite entry's pages (their data is `{ pages, pageParams }`). */
  paged?: PagedList;
  channel: string;
  /** Where the entry is in its lifecycle (liveMachine.ts); it moves only through `send`. */
  state: LiveState;
  /** Changes received during a fetch that started live, applied after it. */
  held: RealtimeChange[];
  /** The request id of the fetch in flight (RTK ignores the results of fetches it superseded, and so do we). */
  requestId?: string;
  /** A top-N window's known rows past the cached ones (from its fetch's meta, then patched). */
  spares: readonly Row[];
  /** How many spare rows its fetch asked for (0: none). */
  spareRows: number;
  /** The cached rows and spares are every row of the result; undefined: judged from the row count. */
  complete?: boolean;
  compiled?: CompiledQuery;
  compiledWith?: ColumnTypes;
  index?: KeyIndex;
  read?: () => unknown;
}

interface Meta {
  arg?: { endpointName?: string; queryCacheKey?: string; originalArgs?: unknown };
  requestId?: string;
  /** A fetch RTK did not start (one was running already). */
  condition?: boolean;
  baseQueryMeta?: { request?: unknown; spares?: unknown; spareRows?: unknown; complete?: unknown };
}

/** The live-entry handler of one sync middleware. */
export function createLiveQueries(context: LiveContext) {
  const { api } = context;
  const entries = new Map<string, LiveEntry>();
  const byChannel = new Map<string, Set<string>>();
  const columnTypes = new Map<string, ColumnTypes>();
  /**
   * Where each channel's column types came from: the server's description ("Subscribed to
   * PostgreSQL" `tables`, which key checks trust over a change's own list), a change's column list,
   * or a LEAVE's (its key only: replaced by the next change that lists every column).
   */
  const typesFrom = new Map<string, 'declared' | 'change' | 'leave'>();
  const validKeys = createKeyCheck(context.warn);
  const refetching = new Set<string>();
  /** Fetches waiting for their table's changes to be live, per channel. */
  const gates = new Map<string, Array<() => void>>();
  /** Patched data per entry since the last commit. */
  const pending = new Map<LiveEntry, unknown>();
  let refetchQueued = false;

  const channelOf = (request: PostgrestRequest) => `live:${request.schema ?? 'public'}.${request.relation}`;
  const primaryKeyOf = (table: string): readonly string[] => configuredKey(context.primaryKeys, table, table);

  const queryPrefix = `${api.reducerPath}/executeQuery/`;
  /** The live endpoint a query action belongs to (a type prefix check first: this runs for every action). */
  function endpointOf(action: UnknownAction): string | undefined {
    if (!action.type.startsWith(queryPrefix)) return undefined;
    const name = (action as { meta?: Meta }).meta?.arg?.endpointName;
    return name !== undefined && context.liveEndpoints().has(name) ? name : undefined;
  }

  function follow(endpoint: string, queryCacheKey: string, arg: unknown, fetched: PostgrestRequest): LiveEntry {
    // An infinite entry is followed as its whole list (its pages' requests are ranges of it).
    let paged = context.pagesOf?.(endpoint);
    const list = paged && paged.kind !== 'other' ? paged.list(arg) : undefined;
    if (typeof list === 'string') paged = { kind: 'other' };
    const request = typeof list === 'object' ? list : fetched;
    const channel = channelOf(request);
    const entry: LiveEntry = { queryCacheKey, endpoint, arg, request, ...(paged && { paged }), channel, state: LIVE_INITIAL_STATE, held: [], spares: [], spareRows: 0 };
    entries.set(queryCacheKey, entry);
    let keys = byChannel.get(channel);
    if (!keys) {
      byChannel.set(channel, (keys = new Set()));
      context.subscribe(channel, request.schema ?? 'public', request.relation);
    }
    keys.add(queryCacheKey);
    return entry;
  }

  /** Moves the entry through its machine; returns the state it left (the side effects are the caller's). */
  function send(entry: LiveEntry, event: LiveEvent): LiveState {
    const from = entry.state;
    entry.state = liveTransition(from, event);
    return from;
  }

  function start(entry: LiveEntry, requestId?: string): void {
    send(entry, context.isLive(entry.channel) ? 'fetchStartedLive' : 'fetchStarted');
    if (requestId !== undefined) entry.requestId = requestId;
    entry.held = [];
  }

  function unfollow(queryCacheKey: string): void {
    const entry = entries.get(queryCacheKey);
    if (!entry) return;
    send(entry, 'removed');
    entries.delete(queryCacheKey);
    refetching.delete(queryCacheKey);
    const keys = byChannel.get(entry.channel);
    keys?.delete(queryCacheKey);
    if (keys && keys.size === 0) {
      byChannel.delete(entry.channel);
      context.unsubscribe(entry.channel);
    }
  }

  /** A refetch asked because the data may be wrong. */
  function refetch(entry: LiveEntry): void {
    send(entry, 'refetch');
    queueRefetch(entry);
  }

  /** Dispatches a refetch of the entry (with every other one asked in this tick, after it). */
  function queueRefetch(entry: LiveEntry): void {
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

  /**
   * The entry's channel is live (again): a fetch in flight learns whether it now runs live; between
   * fetches, an entry whose result may miss changes is refetched, and after a rejoin that did not
   * resume so is every one (the changes between the old and the new join are not coming).
   */
  function channelLive(entry: LiveEntry, resumed: boolean): void {
    const from = send(entry, resumed ? 'live' : 'liveFresh');
    if (!isFetching(from) && (isStale(from) || !resumed)) queueRefetch(entry);
  }

  function compiled(entry: LiveEntry): CompiledQuery | undefined {
    const types = columnTypes.get(entry.channel);
    if (entry.compiled && entry.compiledWith === types) return entry.compiled;
    try {
      entry.compiled = compileRequest(entry.request, types, context.database);
      entry.compiledWith = types;
      return entry.compiled;
    } catch (error) {
      context.warn(`[rtk-postgrest sync] live entry ${entry.queryCacheKey} can't be evaluated here: ${(error as Error).message}`);
      return undefined;
    }
  }

  /**
   * The answer to a fetch that starts while live: a top-N window the client patches (exact, many
   * rows, no offset or count) is fetched with spare rows, so rows leaving it don't need a refetch.
   */
  function liveGate(entry: LiveEntry): LiveGate {
    const limit = entry.paged ? undefined : windowLimit(entry.request);
    if (limit === undefined) return { live: true };
    const query = compiled(entry);
    if (!query?.exact || query.window.offset > 0 || query.window.limit !== limit) return { live: true };
    return { live: true, spareRows: spareRowsFor(limit) };
  }

  /** Applies `changes` to a fetched entry (collected for the next commit), or refetches it when patching can't be exact. */
  function apply(entry: LiveEntry, changes: readonly RealtimeChange[]): void {
    if (entry.paged) return applyPages(entry, entry.paged, changes);
    const query = compiled(entry);
    const request = entry.request;
    const counted = request.count !== undefined;
    // A top-N window (limit, no offset) is kept here too; offsets and counted windows are refetched.
    if (!query || !query.exact || request.result !== 'many' || query.window.offset > 0 || (query.window.limit !== null && counted)) {
      // Only refetch for changes that can matter; without a usable query every change can.
      if (!query || changes.some((change) => touches(query, change))) refetch(entry);
      return;
    }
    const read = (entry.read ??= context.reader(entry.endpoint, entry.arg, entry.queryCacheKey));
    const current = pending.has(entry) ? pending.get(entry) : read();
    const rows = counted ? (current as { rows?: unknown } | undefined)?.rows : current;
    if (!Array.isArray(rows)) return refetch(entry);
    const result = patchRows({ query, primaryKey: primaryKeyOf(request.relation), rows, index: entry.index, changes, spares: entry.spares, spareRows: entry.spareRows, ...(entry.complete !== undefined && { complete: entry.complete }) });
    if (result.kind === 'refetch') {
      entry.index = undefined; // it may hold part of the batch
      return refetch(entry);
    }
    entry.index = result.index;
    entry.spares = result.spares;
    entry.complete = result.complete;
    if (result.kind === 'unchanged') return;
    const count = counted ? (current as { count: number | null }).count : null;
    pending.set(entry, counted ? Object.freeze({ ...(current as object), rows: result.rows, count: count === null ? null : count + result.delta }) : result.rows);
  }

  /** `apply` for an infinite entry: keyset pages of an exact list are patched, the others refetched when a change can touch them. */
  function applyPages(entry: LiveEntry, paged: PagedList, changes: readonly RealtimeChange[]): void {
    const query = paged.kind === 'other' ? undefined : compiled(entry);
    const { request } = entry;
    if (paged.kind !== 'keyset' || !query?.exact || request.count !== undefined || request.result !== 'many') {
      if (!query || changes.some((change) => touches(query, change))) refetch(entry);
      return;
    }
    const read = (entry.read ??= context.reader(entry.endpoint, entry.arg, entry.queryCacheKey));
    const current = (pending.has(entry) ? pending.get(entry) : read()) as InfiniteData | undefined;
    if (!Array.isArray(current?.pages) || !Array.isArray(current.pageParams)) return refetch(entry);
    let result: ReturnType<typeof patchPages>;
    try {
      result = patchPages({ query, primaryKey: primaryKeyOf(request.relation), data: current, index: entry.index, changes, hasNext: (data) => paged.hasNext(data, entry.arg), hasPrevious: (data) => paged.hasPrevious(data, entry.arg), bounds: paged.bounds(current) });
    } catch {
      result = { kind: 'refetch' }; // the endpoint's page params could not be read from the rows
    }
    if (result.kind === 'refetch') {
      entry.index = undefined; // it may hold part of the batch
      return refetch(entry);
    }
    entry.index = result.index;
    if (result.kind === 'patched') pending.set(entry, result.data);
  }

  /**
   * Hands what `apply` collected since the last flush to `commit` (which dispatches it, in one
   * action), then points the key indexes at the stored rows.
   */
  function flush(commit: (patches: LivePatch[]) => void): void {
    const patches: LivePatch[] = [];
    const skipped = new Set<LiveEntry>();
    const alone: Array<[LiveEntry, unknown]> = [];
    for (const [entry, data] of pending) {
      if (context.hasNoSubscriber(entry.queryCacheKey)) {
        alone.push([entry, data]); // kept until its removal timer ends, which rehydrating it would restart
        continue;
      }
      // An entry RTK is fetching again takes no patch (the fetch's result replaces its data).
      const patch = livePatch(entry.queryCacheKey, context.cacheEntry(entry.queryCacheKey), data);
      if (patch) patches.push(patch);
      else skipped.add(entry);
    }
    try {
      for (const [entry, data] of alone) context.dispatch(patchAlone(api.util, entry.endpoint, entry.arg, data));
      commit(patches);
    } finally {
      for (const entry of pending.keys()) {
        if (skipped.has(entry)) {
          entry.index = undefined;
          continue;
        }
        const stored = entry.read!();
        const rows = entry.request.count !== undefined ? (stored as { rows?: unknown } | undefined)?.rows : stored;
        if (entry.index) entry.index = { rows, byKey: entry.index.byKey };
      }
      pending.clear();
    }
  }

  /**
   * A write through this api succeeded. Its table's live entries normally see it as a row change;
   * while their channel is not live (socket down, disconnected) nothing will come, so they are
   * refetched (their tags don't make RTK do it). A function call may write any table.
   */
  function onWrite(sent: unknown): void {
    let request: PostgrestRequest;
    try {
      request = toPostgrestRequest(sent as never);
    } catch {
      return;
    }
    for (const [channel, keys] of byChannel) {
      if (context.isLive(channel) || (request.action !== 'rpc' && channel !== channelOf(request))) continue;
      for (const key of keys) refetch(entries.get(key)!);
    }
  }

  /** Dispatches what `apply` collected outside a tick's flush. */
  function commitNow(): void {
    if (pending.size > 0) flush(context.commit);
  }

  return {
    /** After RTK Query's reducers saw `action`. */
    onAction(action: UnknownAction): void {
      if (action.type === `${api.reducerPath}/queries/removeQueryResult`) {
        const key = (action.payload as { queryCacheKey?: string } | undefined)?.queryCacheKey;
        if (key) unfollow(key);
        return;
      }
      if (action.type === `${api.reducerPath}/executeMutation/fulfilled`) return onWrite((action as { meta?: Meta }).meta?.baseQueryMeta?.request);
      const endpoint = endpointOf(action);
      if (!endpoint) return;
      const meta = (action as { meta?: Meta }).meta;
      const key = meta?.arg?.queryCacheKey;
      const entry = key === undefined ? undefined : entries.get(key);
      // Entries are followed when their fetch announces itself (fetchStarting).
      if (!entry) return;
      if (api.endpoints[endpoint]!.matchPending(action)) return start(entry, meta?.requestId);
      // A fetch RTK did not start, or one a newer fetch superseded: the one in flight still counts.
      if (meta?.condition || (meta?.requestId !== undefined && meta.requestId !== entry.requestId)) return;
      const held = entry.held;
      entry.held = [];
      if (api.endpoints[endpoint]!.matchRejected(action)) {
        // RTK keeps the data it had. Still in step with the database before this fetch (started
        // live, not doubted, with data): the changes held during it bring it up to date (the machine
        // says current). Otherwise it is stale (or failed) and waits for a fetch that succeeds.
        const data = (entry.read ??= context.reader(entry.endpoint, entry.arg, entry.queryCacheKey))();
        const passes = mayPass((action.payload as { status?: unknown } | undefined)?.status);
        send(entry, data === undefined ? (passes ? 'fetchFailedEmpty' : 'fetchRefusedEmpty') : passes ? 'fetchFailed' : 'fetchRefused');
        if (!isStale(entry.state) && held.length > 0) {
          apply(entry, held);
          commitNow();
        }
        return;
      }
      send(entry, 'fetchOk');
      // The fetch's spare rows (a top-N window fetched with more rows than it shows) replace the old ones.
      const { spares, spareRows, complete } = meta?.baseQueryMeta ?? {};
      const spared = Array.isArray(spares) && typeof spareRows === 'number' && typeof complete === 'boolean';
      entry.spares = spared ? (spares as Row[]) : [];
      entry.spareRows = spared ? spareRows : 0;
      if (spared) entry.complete = complete;
      else delete entry.complete;
      entry.index = undefined; // built for the old spares (the rows may even be the same array)
      // A fetch that started before the changes were live is stale: refetched once they are (now, if they are).
      if (isStale(entry.state)) {
        if (context.isLive(entry.channel)) channelLive(entry, true);
        return;
      }
      if (held.length > 0) {
        apply(entry, held);
        commitNow();
      }
    },

    /**
     * A live endpoint's fetch is about to start. A fetch really running in this store (not a
     * replayed action) has its entry followed, which subscribes its table's channel; the fetch then
     * waits until the table's changes are live (subscribe first, then fetch), at most
     * GATE_TIMEOUT_MS, and not at all without a connection to wait for. Resolves true when the
     * changes are live as the fetch starts.
     */
    fetchStarting(fetch: LiveFetch | undefined, connected: () => boolean): Promise<LiveGate> | undefined {
      const { endpoint, queryCacheKey } = fetch ?? {};
      if (fetch?.api !== api.reducerPath) return undefined; // another api's fetch (another sync middleware's)
      if (typeof endpoint !== 'string' || typeof queryCacheKey !== 'string' || !context.liveEndpoints().has(endpoint)) return undefined;
      let request: PostgrestRequest;
      try {
        request = toPostgrestRequest(fetch!.request as never);
      } catch {
        return undefined;
      }
      if (request.action !== 'select') return undefined;
      let entry = entries.get(queryCacheKey);
      if (!entry) {
        const { found, arg, requestId } = context.argOf(queryCacheKey);
        if (!found || !context.dispatch(api.util.getRunningQueryThunk(endpoint, arg))) return undefined;
        entry = follow(endpoint, queryCacheKey, arg, request);
        start(entry, requestId);
      }
      if (context.isLive(entry.channel)) return Promise.resolve(liveGate(entry));
      // Following may just have subscribed (and so connected): ask now.
      if (!connected()) return undefined;
      const gated = entry;
      send(gated, 'gateWait');
      return new Promise<LiveGate>((resolve) => {
        let list = gates.get(gated.channel);
        if (!list) gates.set(gated.channel, (list = []));
        const timer = context.timers.setTimeout(() => {
          send(gated, 'gateTimeout'); // it starts before the changes are live: refetched once they are
          resolve({ live: false });
        }, GATE_TIMEOUT_MS);
        list.push(() => {
          context.timers.clearTimeout(timer);
          resolve(liveGate(gated));
        });
      });
    },

    /** The changes of one channel that arrived together; patches wait for `flush`. */
    onChanges(channel: string, batch: readonly RealtimeChange[]): void {
      const keys = byChannel.get(channel);
      if (!keys) return;
      // A live channel binds one table: a change of another one (a misbehaving server) is no entry's.
      const ofTable = batch.filter((change) => `live:${change.schema}.${change.table}` === channel);
      if (ofTable.length < batch.length) context.warn(`[rtk-postgrest sync] ${batch.length - ofTable.length} change(s) on ${channel} for another table: ignored`);
      // A key of the wrong type would match no cached row (a second row, a row never removed): before anything reads it.
      const changes = validKeys(channel, ofTable, primaryKeyOf, typesFrom.get(channel) === 'declared' ? columnTypes.get(channel) : undefined);
      if (changes.length === 0) return;
      // Types from the changes only when the server did not describe the table (Supabase doesn't). A
      // LEAVE lists the key's columns only: its types serve until a change lists them all.
      let complete: RealtimeChange | undefined;
      for (let index = changes.length - 1; index >= 0 && !complete; index--) if (!changes[index]!.leave) complete = changes[index];
      const source = complete ?? changes[changes.length - 1]!;
      const from = typesFrom.get(channel);
      if (from === undefined || (complete && from === 'leave')) {
        columnTypes.set(channel, Object.fromEntries(source.columns.map((column) => [column.name, column.type])));
        typesFrom.set(channel, complete ? 'change' : 'leave');
      }
      for (const key of keys) {
        const entry = entries.get(key)!;
        const from = send(entry, 'changes');
        if (isFetching(from)) {
          if (holdsChanges(from)) for (const change of changes) entry.held.push(change);
          continue;
        }
        if (!isStale(from)) apply(entry, changes);
        else if (retriesOnChanges(from)) queueRefetch(entry); // its last fetch failed for a reason that may have passed
      }
    },

    flush,

    /**
     * The channel's changes are live (again). Entries fetched before that are refetched, and after a
     * rejoin that did not resume (a fresh join, or a server without resume) so is every entry: the
     * changes between the old and the new join are not coming.
     */
    onLive(channel: string, resumed: boolean, tables?: unknown): void {
      const declared = declaredColumns(tables, channel);
      if (declared) {
        columnTypes.set(channel, declared);
        typesFrom.set(channel, 'declared');
      }
      const waiting = gates.get(channel) ?? [];
      gates.delete(channel);
      // A gated fetch starts now, while live; any other one started before: its result may miss what
      // happened meanwhile unless the join resumed (the machine's live and liveFresh say which).
      for (const key of byChannel.get(channel) ?? []) channelLive(entries.get(key)!, resumed);
      for (const release of waiting) release();
    },

    /** A resync notice: every entry of the channel may be stale. */
    onResync(channel: string): void {
      for (const key of byChannel.get(channel) ?? []) {
        const entry = entries.get(key)!;
        // A fetch in flight: its result may predate the gap, so it is refetched after it.
        if (!isFetching(send(entry, 'resync'))) queueRefetch(entry);
      }
    },

    /** Refetches every entry not fetching now (polling while the realtime socket is down: the changes are not coming). */
    poll(): void {
      for (const entry of entries.values()) if (!isFetching(entry.state)) queueRefetch(entry);
    },

    /** A live top-N window's known rows past the cached ones (server data, out of the store), for the optimistic layer. */
    windowOf(queryCacheKey: string): { spares: readonly Row[]; spareRows: number; complete?: boolean } | undefined {
      const entry = entries.get(queryCacheKey);
      if (!entry || entry.spareRows === 0) return undefined;
      return { spares: entry.spares, spareRows: entry.spareRows, ...(entry.complete !== undefined && { complete: entry.complete }) };
    },

    /** The window's spare rows after someone else (the optimistic layer's commit) patched its server data. */
    setWindow(queryCacheKey: string, spares: readonly Row[], complete: boolean): void {
      const entry = entries.get(queryCacheKey);
      if (!entry) return;
      entry.spares = spares;
      entry.complete = complete;
      entry.index = undefined; // its rows changed too: the key index is rebuilt from them
    },

    /** Whether the cache entry is followed as a live entry. */
    follows(queryCacheKey: string): boolean {
      return entries.has(queryCacheKey);
    },

    /** The column types of a table's channel (`live:<schema>.<table>`) as the server described them, if known. */
    columnTypesOf(channel: string): ColumnTypes | undefined {
      return columnTypes.get(channel);
    },

    /** Live entries followed (for tests and DevTools-style inspection). */
    get size() {
      return entries.size;
    },
  };
}

/**
 * The columns our realtime server describes in "Subscribed to PostgreSQL" (`tables`, an extension:
 * docs/realtime-protocol-extensions.md) for the table of live channel `channel`, with collations,
 * so text order is exact under code point collations; undefined when absent or malformed.
 */
function declaredColumns(tables: unknown, channel: string): ColumnTypes | undefined {
  if (!Array.isArray(tables)) return undefined;
  for (const entry of tables as Array<{ schema?: unknown; table?: unknown; columns?: unknown }>) {
    if (!entry || `live:${String(entry.schema)}.${String(entry.table)}` !== channel || !Array.isArray(entry.columns)) continue;
    const types: Record<string, ColumnType> = {};
    for (const column of entry.columns as Array<{ name?: unknown; type?: unknown; collation?: unknown; ctype?: unknown }>) {
      if (!column || typeof column.name !== 'string' || typeof column.type !== 'string') return undefined;
      types[column.name] = {
        type: column.type,
        ...(typeof column.collation === 'string' && { collation: column.collation }),
        ...(typeof column.ctype === 'string' && { ctype: column.ctype }),
      };
    }
    return types;
  }
  return undefined;
}

/** Whether a failed fetch may succeed when tried again (not a request PostgREST refused for good). */
function mayPass(status: unknown): boolean {
  return !(typeof status === 'number' && status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status));
}
