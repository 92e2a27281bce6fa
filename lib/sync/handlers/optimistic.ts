/**
 * Optimistic writes: a write marked `.optimistic()` is shown in every cached read and live entry of
 * its table the moment it is dispatched, as a layer over server state (optimistic/layer.ts), and
 * leaves it when the server's rows replace it (committed) or it fails (rolled back: only its own
 * effect goes; other pending writes and server changes that came meanwhile stay).
 *
 * Beneath a layer the handler keeps each entry's server data (`bases`, out of the store): live
 * patches and refetches land there (the live entries read it through `baseOf`; their patches and
 * every refetch result of the table are rewritten, before the reducer sees them, to carry the
 * server data with the pending writes re-applied). Every step is one action carrying what the
 * entries became (`optimistic/applied`, `committed`, `rolledBack`), so replaying recorded actions
 * rebuilds the same state; a replayed announcement (without its running-write function) is ignored.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { livePatch, LIVE_PATCHES, patchAlone, type PatchUtil, OPTIMISTIC_WRITE_SETTLING, OPTIMISTIC_WRITE_STARTING, RUNNING_WRITE, type LivePatch, type OptimisticPlan, type OptimisticSettle, type OptimisticStart, type OptimisticVerdict, type QueryCacheEntry, type WriteResult } from '../../api/liveContract.js';
import { buildCondition, keyFilters, toQueryPair } from '../../postgrest/builder/filters.js';
import { primaryKeyOf as configuredKey, rowsOf as resultRows } from '../../api/tags.js';
import { compileRequest, type ColumnTypes, type CompiledQuery, type EvaluateOptions } from '../../postgrest/evaluate/index.js';
import type { ConflictError, PostgrestError, PostgrestRequest } from '../../postgrest/request/types.js';
import type { RealtimeChange } from '../changes.js';
import { QUERY_DATA_SET } from '../../api/queryClient/contract.js';
import { baseUnderEdit, sameValue } from '../optimistic/edit.js';
import { applyLayer, keyColumns, keyIndexOf, knownRows, patchEntry, rowChange, rowKey, writeChanges, writeFilters, type LayerOptions } from '../optimistic/layer.js';
import type { Row } from '../patch.js';
import { newUuid } from '../ids.js';
import type { ConflictRecord, PendingWrite } from '../slice.js';
import type { HandlerContext, SyncHandler } from './types.js';

/** A conflict resolver registered by name: the row to write, from the row seen, the client's and the server's. */
export type ConflictResolver = (base: Record<string, unknown>, local: Record<string, unknown>, server: Record<string, unknown>) => Record<string, unknown>;

export interface OptimisticOptions {
  api?: unknown;
  resolvers?: Readonly<Record<string, ConflictResolver>>;
  primaryKeys?: Readonly<Record<string, string | readonly string[]>>;
  database?: EvaluateOptions;
  /** Column types of a table's channel (`live:<schema>.<table>`), as the live entries learnt them. */
  columnTypes?: (channel: string) => ColumnTypes | undefined;
  /** Whether a cache entry is a live entry (the realtime stream patches it). */
  isLiveEntry?: (queryCacheKey: string) => boolean;
  /** A live window's spare rows (server data past its cached rows), so the layer can fill a row it removes. */
  windowOf?: (queryCacheKey: string) => { spares: readonly Row[]; spareRows: number; complete?: boolean } | undefined;
  /** A live window's spare rows after the layer's commit patched its server data (kept in step with it). */
  setWindow?: (queryCacheKey: string, spares: readonly Row[], complete: boolean) => void;
}

export interface OptimisticHandler extends SyncHandler {
  /** The server data beneath the layer of an entry under one; undefined for every other entry. */
  baseOf(queryCacheKey: string): { data: unknown } | undefined;
}

interface Followed {
  table: string;
  request: PostgrestRequest;
  compiled?: { query: CompiledQuery; types: string };
}

interface Meta {
  arg?: { endpointName?: string; queryCacheKey?: string; [RUNNING_WRITE]?: unknown };
  baseQueryMeta?: { request?: PostgrestRequest };
}

const BUILTIN_STRATEGIES = new Set(['server-wins', 'client-wins', 'merge']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;



/**
 * Whether the realtime stream already brought this write's own change of a row (`streamed`: what
 * it brought of each touched row while the write was pending; null for a delete). The stream is in
 * commit order: until the write's echo arrived, every change it brought of the row is older than
 * the write, so the write's returned row is applied; once it arrived, the stream's row is as new or
 * newer, and is kept.
 */
function echoed(streamed: ReadonlyMap<string, ReadonlyArray<Row | null>>, change: RealtimeChange, event: 'INSERT' | 'DELETE', primaryKey: readonly string[]): boolean {
  const key = rowKey(event === 'DELETE' ? change.old : change.new, primaryKey);
  const rows = streamed.get(key);
  if (!rows) return false;
  if (event === 'DELETE') return rows.includes(null);
  return rows.some((row) => row !== null && Object.entries(change.new).every(([column, value]) => sameValue(row[column], value)));
}

/** Rows per entry that column types are read from (when no live channel describes the table). */
const INFERENCE_SAMPLE = 50;
/** Conflicts a retrying strategy (client-wins, merge, a resolver) meets on one write before it gives up. */
const MAX_CONFLICTS = 4;



const tableOf = (request: PostgrestRequest) => `${request.schema ?? 'public'}.${request.relation}`;

/** Nothing without an api. */
export function optimisticHandler(context: HandlerContext, options: OptimisticOptions): OptimisticHandler | undefined {
  if (!options.api) return undefined;
  const api = options.api as { reducerPath: string; util: PatchUtil };
  const apiPath = api.reducerPath;
  const { actions } = context;
  const pendingType = `${apiPath}/executeQuery/pending`;
  const fulfilledType = `${apiPath}/executeQuery/fulfilled`;
  const rejectedType = `${apiPath}/executeQuery/rejected`;
  /** Counts commits; a fetch is stamped with the count when it starts. */
  let sequence = 0;
  /** Fetches running (by requestId), with the commit count when each started. */
  const inFlight = new Map<string, number>();
  /** Commits some running fetch started before: their rows, for that fetch's result. */
  const recent: Array<{ seq: number; table: string; changes: RealtimeChange[] }> = [];
  const removedType = `${apiPath}/queries/removeQueryResult`;
  /** Every query entry of the api with its request (learnt from its results), by queryCacheKey. */
  const followed = new Map<string, Followed>();
  /** The server data beneath the layer, per entry under one. */
  const bases = new Map<string, unknown>();
  /** Writes whose caller asked for no rows back (they are asked for, then left out of the result). */
  const minimal = new Set<string>();
  /** Writes that met a conflict and whose row is being read. */
  const reading = new Set<string>();
  /** Of those, writes sent more than once (the outbox sent them again after a failure that may pass). */
  const resent = new Set<string>();
  /** The largest integer per column of each array of rows seen (arrays in the store never change). */
  const largestByArray = new WeakMap<readonly unknown[], Map<string, number>>();
  /** Per table, a sample of the rows its entries showed (column types are read off them when no live channel describes the table). */
  const typesSeen = new Map<string, ColumnTypes>();
  /** Inserts shown under temporary keys: which rows, and the keys of the table known when applied (their echo is a new one). */
  const awaitingEcho = new Map<string, { temporary: Set<number>; candidates: Row[] }>();
  /** Per pending write, what realtime changes brought of its rows while it was pending, by key (null: deleted); see `echoed`. */
  const moved = new Map<string, Map<string, Array<Row | null>>>();
  /** Conflicts per write so far (a retrying strategy gives up after MAX_CONFLICTS). */
  const conflicts = new Map<string, number>();
  let temporary = 0;

  const primaryKeyOf = (relation: string): readonly string[] => configuredKey(options.primaryKeys, relation, relation);
  const cacheEntry = (queryCacheKey: string): QueryCacheEntry | undefined =>
    (context.getState() as Record<string, { queries?: Record<string, QueryCacheEntry | undefined> } | undefined>)[apiPath]?.queries?.[queryCacheKey];
  const pendingOf = (table: string): PendingWrite[] => context.mirror().writes.filter((write) => write.status === 'pending' && write.table === table);

  /** The entry's request compiled with `types` (the table's, from `typesOf`), kept while they stay the same. */
  function compiled(entry: Followed, types: ColumnTypes | undefined): CompiledQuery {
    const key = JSON.stringify(types ?? null);
    if (!entry.compiled || entry.compiled.types !== key) entry.compiled = { query: compileRequest(entry.request, types, options.database), types: key };
    return entry.compiled.query;
  }

  /**
   * The table's column types: the server's description when a live channel has it; else what the
   * JSON values show, in the rows its entries hold (`extra` too) and in its pending writes.
   */
  function typesOf(table: string, extra?: unknown, writes: readonly PendingWrite[] = pendingOf(table)): ColumnTypes | undefined {
    const described = options.columnTypes?.(`live:${table}`);
    if (described) return described;
    const sample: Row[] = [];
    const take = (rows: unknown) => {
      if (Array.isArray(rows)) for (const row of rows.slice(0, INFERENCE_SAMPLE)) if (typeof row === 'object' && row !== null) sample.push(row as Row);
    };
    take(extra);
    // What the entries show is read once per table (until an entry of it gets a new result); the writes every time (few rows).
    let seen = typesSeen.get(table);
    if (!seen) {
      const rows: Row[] = [];
      for (const [key, entry] of followed) if (entry.table === table) for (const row of ((bases.has(key) ? bases.get(key) : cacheEntry(key)?.data) as Row[] | undefined)?.slice?.(0, INFERENCE_SAMPLE) ?? []) rows.push(row);
      typesSeen.set(table, (seen = inferTypes(rows) ?? {}));
    }
    for (const write of writes) {
      take(write.rows);
      if (write.request.action === 'update') take([write.request.body]);
    }
    const more = inferTypes(sample);
    return more || Object.keys(seen).length > 0 ? { ...more, ...seen } : undefined;
  }

  /** How the layer evaluates the table's rows: its key, its column types (the server's, else what the rows show). */
  function layerOptions(table: string, writes?: readonly PendingWrite[], columns = typesOf(table, undefined, writes)): LayerOptions {
    return { primaryKey: primaryKeyOf(table.slice(table.indexOf('.') + 1)), ...(columns && { columns }), ...(options.database && { evaluate: options.database }) };
  }

  /** The server data of the table's stored entries: `overrides` first, then what lies beneath a layer, then the store. */
  function serverData(table: string, overrides = new Map<string, unknown>()): Map<string, unknown> {
    const server = new Map<string, unknown>();
    for (const [key, entry] of followed) {
      if (entry.table !== table) continue;
      if (overrides.has(key)) server.set(key, overrides.get(key));
      else if (bases.has(key)) server.set(key, bases.get(key));
      else {
        // Settled entries, and entries refetching with the data they had.
        const stored = cacheEntry(key);
        if (stored && stored.data !== undefined) server.set(key, stored.data);
      }
    }
    return server;
  }

  /**
   * What the table's entries show with `writes` re-applied on top of `server` (lists the client can
   * decide; anything else, a single row or a counted result, shows its server data). The server
   * data is kept beneath while writes are pending, and dropped with the last one.
   */
  function layer(table: string, writes: readonly PendingWrite[], server: Map<string, unknown>, windows = new Map<string, { spares: readonly Row[]; spareRows: number; complete?: boolean }>()): Map<string, unknown> {
    const shown = new Map(server);
    if (writes.length === 0) {
      for (const key of server.keys()) bases.delete(key);
      return shown;
    }
    // The entries the layer can patch, with their rows (a single-row read's as a list of one).
    const lists: Array<{ key: string; rows: Row[] }> = [];
    for (const [key, data] of server) {
      const rows = rowsFor(followed.get(key)?.request, data);
      if (rows) lists.push({ key, rows });
    }
    const types = typesOf(table, lists[0]?.rows, writes);
    const layering = layerOptions(table, writes, types);
    const entries = lists.map(({ key, rows }) => ({ query: compiled(followed.get(key)!, types), rows, ...(windows.get(key) ?? options.windowOf?.(key)) }));
    const results = applyLayer(entries, withoutEchoes(writes, entries, layering.primaryKey), layering);
    for (const [key, data] of server) bases.set(key, data);
    lists.forEach(({ key }, i) => {
      const result = results[i]!;
      if (result.kind === 'rows') shown.set(key, fromRows(followed.get(key)?.request, result.rows, server.get(key)));
    });
    return shown;
  }

  /**
   * The writes with the rows of inserts under temporary keys whose realtime echo is in the server
   * data already (before the write's response): a row with a key this client did not know when the
   * write was applied, and every value the insert gave. The server's row is shown instead of the
   * temporary one, never both.
   */
  function withoutEchoes(writes: readonly PendingWrite[], lists: ReadonlyArray<{ query: CompiledQuery; rows: readonly Row[] }>, primaryKey: readonly string[]): readonly PendingWrite[] {
    if (!writes.some((write) => awaitingEcho.has(write.id))) return writes;
    // Arrived where it shows: in every entry whose filters it passes (else that entry would lose the row).
    const arrived = (key: string, row: Row) => lists.every((list) => !list.query.matches(row) || keyIndexOf(list.rows, primaryKey).has(key));
    const taken = new Set<string>();
    return writes.map((write) => {
      const watch = awaitingEcho.get(write.id);
      if (!watch || !write.rows) return write;
      const given = (Array.isArray(write.request.body) ? write.request.body : [write.request.body]) as Row[];
      const rows = write.rows.filter((row, i) => {
        if (!watch.temporary.has(i)) return true;
        // Rows the realtime server inserted since the write was applied.
        for (const candidate of watch.candidates) {
          const key = rowKey(candidate, primaryKey);
          if (taken.has(key) || !arrived(key, candidate)) continue;
          if (Object.entries(given[i] ?? {}).every(([column, value]) => sameValue(candidate[column], value))) {
            taken.add(key);
            return false;
          }
        }
        return true;
      });
      return rows.length === write.rows.length ? write : { ...write, rows };
    });
  }

  /**
   * Dispatches one step: `dispatch` gets the patches of the entries whose shown data changes, for
   * the api's reducer, in its one action. An entry with a fetch in flight (RTK rehydrates settled
   * entries only) is patched right after with RTK's public `util.patchQueryData`; its fetch's result
   * comes with the layer on top.
   */
  function step(shown: Map<string, unknown>, dispatch: (entries: LivePatch[]) => void): void {
    const list: LivePatch[] = [];
    const inFlight: Array<[QueryCacheEntry, unknown]> = [];
    for (const [key, data] of shown) {
      const stored = cacheEntry(key);
      if (!stored || data === stored.data) continue;
      const patch = livePatch(key, stored, data);
      if (patch) list.push(patch);
      else inFlight.push([stored, data]);
    }
    dispatch(list);
    for (const [stored, data] of inFlight) {
      context.dispatch(patchAlone(api.util, String(stored.endpointName), stored.originalArgs, data) as UnknownAction);
    }
  }

  /**
   * Inserts and upserts: the rows as shown, each with a key. A uuid key the body lacks is made here
   * and sent (what `gen_random_uuid()` would have made: the server's row then has the key shown);
   * any other missing key gets a temporary one the server's row replaces. `body`: the body to send
   * when keys were made.
   */
  function rowsOf(request: PostgrestRequest): { rows: Row[]; body?: Row[] | Row; temporary: Set<number> } | undefined {
    if (request.action !== 'insert' && request.action !== 'upsert') return undefined;
    const given = Array.isArray(request.body) ? (request.body as Row[]) : [request.body as Row];
    const primaryKey = primaryKeyOf(request.relation);
    const types = typesOf(tableOf(request), given);
    const uuid = (column: string) => {
      const type = types?.[column];
      const name = typeof type === 'string' ? type : type?.type;
      return name === 'uuid' || (name === 'text' && keysLookLikeUuids(tableOf(request), column));
    };
    let made = false;
    const sent = given.map((row) => {
      const missing = primaryKey.filter((column) => !(column in row) && uuid(column));
      if (missing.length === 0) return row;
      made = true;
      return { ...row, ...Object.fromEntries(missing.map((column) => [column, newUuid()])) };
    });
    const temporaryRows = new Set<number>();
    // Timestamps the row leaves to the database (a `created_at ... default now()`): shown as now, so
    // the row sorts where the server's will (the server's value replaces it).
    const now = new Date(context.now()).toISOString();
    const stamps = Object.entries(types ?? {}).filter(([, type]) => /^timestamp/.test(typeof type === 'string' ? type : type.type)).map(([column]) => column);
    const rows = sent.map((row, i) => {
      const missing = primaryKey.filter((column) => !(column in row));
      const unstamped = stamps.filter((column) => !(column in row));
      if (missing.length === 0 && unstamped.length === 0) return row;
      if (missing.length > 0) temporaryRows.add(i);
      const filled: Row = { ...row, ...Object.fromEntries(unstamped.map((column) => [column, now])) };
      for (const column of missing) {
        const type = types?.[column];
        const name = typeof type === 'string' ? type : type?.type;
        temporary += 1;
        // A number (the usual serial or identity key; also when nothing says the type): between the
        // largest key known and the next integer, where the server's key will sort, and never equal
        // to one (not an integer). A text key gets a text one.
        filled[column] = name === undefined || /^(int[248]|numeric|float[48])$/.test(name) ? largestKnown(tableOf(request), column) + 0.5 + temporary / 1e6 : `optimistic-${temporary}`;
      }
      return filled;
    });
    return made ? { rows, body: Array.isArray(request.body) ? sent : sent[0]!, temporary: temporaryRows } : { rows, temporary: temporaryRows };
  }

  /** The largest number among the known values of the table's `column` (0 when none); each array's is computed once. */
  function largestKnown(table: string, column: string): number {
    let largest = 0;
    for (const data of shownData(table)) {
      if (!Array.isArray(data)) continue;
      let byColumn = largestByArray.get(data);
      if (!byColumn) largestByArray.set(data, (byColumn = new Map()));
      let value = byColumn.get(column);
      if (value === undefined) {
        value = 0;
        for (const row of data as Row[]) {
          const candidate = row[column];
          if (typeof candidate === 'number' && Number.isInteger(candidate) && candidate > value) value = candidate;
        }
        byColumn.set(column, value);
      }
      if (value > largest) largest = value;
    }
    return largest;
  }


  /** Every known value of the table's `column` is a uuid (a text-typed guess from JSON strings). */
  function keysLookLikeUuids(table: string, column: string): boolean {
    let seen = false;
    for (const data of shownData(table)) {
      if (!Array.isArray(data)) continue;
      for (const row of data.slice(0, INFERENCE_SAMPLE) as Row[]) {
        const value = row[column];
        if (value === undefined || value === null) continue;
        if (typeof value !== 'string' || !UUID.test(value)) return false;
        seen = true;
      }
    }
    return seen;
  }

  function start(payload: OptimisticStart, now: number): OptimisticPlan {
    const id = newUuid();
    const table = tableOf(payload.request);
    const made = rowsOf(payload.request);
    const rows = made?.rows;
    const prefer = payload.request.headers.Prefer ?? '';
    // The server's rows are what replace the layer without a gap: ask for them.
    let request = made?.body !== undefined ? { ...payload.request, body: made.body } : payload.request;
    if (!/return=representation/.test(prefer)) {
      minimal.add(id);
      request = { ...request, headers: { ...request.headers, Prefer: /return=/.test(prefer) ? prefer.replace(/return=\w+/, 'return=representation') : ['return=representation', prefer].filter(Boolean).join(',') } };
    }
    const primaryKey = [...primaryKeyOf(request.relation)];
    const write: PendingWrite = { id, table, request, ...(rows && { rows }), entries: [], primaryKey, keys: [], status: 'pending', error: null, at: now };
    const check = request.optimistic?.conflict;
    if (check) {
      const seen = conflictTarget(write, check.column, check.strategy ?? 'server-wins');
      if ('refuse' in seen) {
        minimal.delete(id);
        return { id, send: request, refuse: { error: seen.refuse } };
      }
      write.seen = seen.row;
    }
    write.keys = touchedKeys(write);
    if (made?.temporary.size) {
      awaitingEcho.set(id, { temporary: made.temporary, candidates: [] });
    }
    const shown = layer(table, [...pendingOf(table), write], serverData(table));
    write.entries = [...shown].filter(([key, data]) => data !== cacheEntry(key)?.data).map(([key]) => key);
    step(shown, (entries) => context.dispatch(actions.optimisticApplied({ write, entries }, apiPath)));
    return { id, send: sent(write) };
  }

  /** The keys of the rows `write` touches, as this client shows the table now. */
  function touchedKeys(write: PendingWrite): string[] {
    const visible = knownRows(shownRows(write.table).map((rows) => ({ rows })), write.primaryKey);
    const effect = writeChanges(write, visible, layerOptions(write.table, [...pendingOf(write.table), write]));
    if (effect.kind === 'undecidable') return [];
    const keys = new Set<string>();
    for (const change of effect.changes) {
      if (change.eventType !== 'INSERT') keys.add(rowKey(change.old, write.primaryKey));
      if (change.eventType !== 'DELETE') keys.add(rowKey(change.new, write.primaryKey));
    }
    return [...keys];
  }

  /**
   * The rows of an entry's data as the layer takes them: a list as it is; a single-row read's row as
   * a list of one (none for null); undefined for what the layer can't patch (counted results, text).
   */
  function rowsFor(request: PostgrestRequest | undefined, data: unknown): Row[] | undefined {
    if (!request || request.count !== undefined) return undefined;
    if (Array.isArray(data)) return data as Row[];
    if (request.result !== 'single' && request.result !== 'maybeSingle') return undefined;
    if (data === null) return [];
    return typeof data === 'object' ? [data as Row] : undefined;
  }

  /**
   * Back from the layer's rows to the entry's shape. A single-row read shows its one row; with none
   * left (a pending delete) `maybeSingle` shows null and `single` keeps its row until the server
   * answers (a `.single()` read never shows null); with several it stays as it was.
   */
  function fromRows(request: PostgrestRequest | undefined, rows: readonly Row[], data: unknown): unknown {
    if (Array.isArray(data)) return rows;
    if (rows.length === 1) return rows[0];
    return rows.length === 0 && request?.result === 'maybeSingle' ? null : data;
  }

  /** The rows the table's entries show now (with the layer), as lists (single-row reads included). */
  function shownRows(table: string): Row[][] {
    const lists: Row[][] = [];
    for (const [key, entry] of followed) {
      if (entry.table !== table) continue;
      const data = cacheEntry(key)?.data;
      const rows = data === undefined ? undefined : rowsFor(followed.get(key)?.request, data);
      if (rows) lists.push(rows);
    }
    return lists;
  }

  /** The data the table's entries show now (with the layer). */
  function shownData(table: string): unknown[] {
    return [...followed].filter(([, entry]) => entry.table === table).map(([key]) => cacheEntry(key)?.data).filter((data) => data !== undefined);
  }

  /**
   * The one row an update or delete with `conflict` is about, as this client shows it now; or why
   * the write can't be checked (it is then refused before anything is shown or sent).
   */
  function conflictTarget(write: PendingWrite, column: string, strategy: string): { row: Row } | { refuse: PostgrestError } {
    const refuse = (code: string, message: string): { refuse: PostgrestError } => ({ refuse: { status: 'INVALID_REQUEST', code, message: `optimistic(): ${message}`, details: null, hint: null } });
    if (!BUILTIN_STRATEGIES.has(strategy) && typeof options.resolvers?.[strategy] !== 'function') {
      const known = Object.keys(options.resolvers ?? {});
      return refuse('UNKNOWN_RESOLVER', `conflict strategy ${JSON.stringify(strategy)} is neither server-wins, client-wins, merge nor a registered resolver (${known.length > 0 ? `resolvers: ${known.join(', ')}` : 'no resolvers are registered: pass createSyncMiddleware({ resolvers })'})`);
    }
    // What this client shows (its own pending writes included): a chain of its own writes checks against each other.
    const known = knownRows(shownRows(write.table).map((rows) => ({ rows })), primaryKeyOf(write.request.relation));
    const filters = writeFilters(write.request, layerOptions(write.table));
    if (!filters.exact) return refuse('CONFLICT_TARGET', `a conflict check needs filters this client can evaluate exactly (${filters.reasons.join('; ')})`);
    const targets = [...known.values()].filter((row) => filters.matches(row));
    if (targets.length !== 1) return refuse('CONFLICT_TARGET', `a conflict check needs the write to select exactly one row this client has loaded; it selects ${targets.length}`);
    const row = { ...targets[0]! };
    if (!(column in row)) return refuse('CONFLICT_COLUMN', `the conflict column ${JSON.stringify(column)} is not in the rows this client loaded (select it)`);
    return { row };
  }

  function settle({ id, result }: OptimisticSettle): OptimisticVerdict | undefined {
    const write = context.mirror().writes.find((candidate) => candidate.id === id && candidate.status === 'pending');
    if (!write) return undefined;
    const others = pendingOf(write.table).filter((candidate) => candidate.id !== id);
    const finish = (value: WriteResult): OptimisticVerdict => {
      reading.delete(id);
      resent.delete(id);
      awaitingEcho.delete(id);
      moved.delete(id);
      conflicts.delete(id);
      return { result: minimal.delete(id) && value.error === undefined ? { ...value, data: null } : value };
    };
    if (result.error !== undefined) {
      const shown = layer(write.table, others, serverData(write.table));
      step(shown, (entries) => context.dispatch(actions.optimisticRolledBack({ id, error: result.error as PostgrestError, entries }, apiPath)));
      return finish(result);
    }
    const rows = resultRows(result.data);
    if (reading.has(id)) return conflict(write, others, rows[0] ?? null, finish);
    if (write.seen && rows.length === 0) {
      // Nothing matched the value this client saw: someone else changed the row. Read it. (Or, when
      // it was sent more than once, an earlier send landed and its answer was lost.)
      reading.add(id);
      if ((result.meta?.attempts ?? 1) > 1) resent.add(id);
      return { resend: readRow(write) };
    }
    const shown = layer(write.table, others, serverData(write.table, serverAfter(write, rows)));
    step(shown, (entries) => context.dispatch(actions.optimisticCommitted({ id, rows, entries }, apiPath)));
    return finish(result);
  }

  /** Settles a conflict by the write's strategy: the server's row wins (the write fails), or the write is sent again against it. */
  function conflict(write: PendingWrite, others: readonly PendingWrite[], server: Row | null, finish: (value: WriteResult) => OptimisticVerdict): OptimisticVerdict {
    reading.delete(write.id);
    const check = write.request.optimistic!.conflict!;
    const strategy = check.strategy ?? 'server-wins';
    const base = write.seen!;
    const body = (write.request.body ?? {}) as Row;
    const local = write.request.action === 'delete' ? null : { ...base, ...body };
    const record = (status: ConflictRecord['status'], resolution: ConflictRecord['resolution']): ConflictRecord => ({ id: write.id, table: write.table, strategy, base, local, server, status, resolution, at: context.now() });
    const serverBase = server ? serverAfter(write, [server], 'INSERT') : serverAfter(write, [base], 'DELETE');
    if (server === null && write.request.action === 'delete') {
      // Deleted meanwhile: what the write wanted.
      const shown = layer(write.table, others, serverData(write.table, serverBase));
      step(shown, (entries) => context.dispatch(actions.optimisticCommitted({ id: write.id, rows: [], entries }, apiPath)));
      return finish({ data: write.request.result === 'many' ? [] : null });
    }
    if (resent.delete(write.id) && server !== null && write.request.action === 'update' && Object.entries(body).every(([field, value]) => sameValue(server[field], value))) {
      // Sent again after a lost answer, and the row holds every value this write set: the earlier
      // send landed. Nothing was lost, and there is no conflict.
      const shown = layer(write.table, others, serverData(write.table, serverBase));
      step(shown, (entries) => context.dispatch(actions.optimisticCommitted({ id: write.id, rows: [server], entries }, apiPath)));
      return finish({ data: write.request.result === 'many' ? [server] : server });
    }
    const rounds = (conflicts.get(write.id) ?? 0) + 1;
    conflicts.set(write.id, rounds);
    const next = server === null || rounds > MAX_CONFLICTS ? undefined : resolved(write, strategy, base, body, server);
    if (!next) {
      const why = rounds > MAX_CONFLICTS ? `kept changing (${MAX_CONFLICTS} conflicts in a row)` : `changed since this client saw it (${check.column} ${JSON.stringify(base[check.column])} → ${server ? JSON.stringify(server[check.column]) : 'deleted'})`;
      const error: ConflictError = { status: 409, code: 'CONFLICT', message: `${write.table}: the row ${why}; the server's version was kept`, details: { base, local, server }, hint: null };
      const shown = layer(write.table, others, serverData(write.table, serverBase));
      step(shown, (entries) => context.dispatch(actions.optimisticConflict({ conflict: record('open', null), error, entries }, apiPath)));
      return finish({ error: error as unknown as PostgrestError });
    }
    if (next.body === undefined) {
      // Nothing of the client's is left to send: the server's row is the merge.
      const shown = layer(write.table, others, serverData(write.table, serverBase));
      context.dispatch(actions.optimisticConflict({ conflict: record('resolved', next.resolution), write: { ...write, status: 'pending' }, entries: [] }, apiPath));
      step(shown, (entries) => context.dispatch(actions.optimisticCommitted({ id: write.id, rows: [server!], entries }, apiPath)));
      return finish({ data: write.request.result === 'many' ? [server] : server });
    }
    const again: PendingWrite = { ...write, request: { ...write.request, body: next.body }, seen: { ...server! } };
    const shown = layer(write.table, pendingOf(write.table).map((candidate) => (candidate.id === write.id ? again : candidate)), serverData(write.table, serverBase));
    step(shown, (entries) => context.dispatch(actions.optimisticConflict({ conflict: record('resolved', next.resolution), write: again, entries }, apiPath)));
    return { resend: sent(again) };
  }

  /**
   * What a retrying strategy sends instead: `client-wins` the client's values, `merge` the fields
   * only the client changed (fields both changed keep the server's), a resolver the fields of its
   * row that differ from the server's. The conflict column, when the write set it to the value seen
   * + 1, is set to the server's + 1. Undefined for server-wins; `body` undefined when nothing is left.
   */
  function resolved(write: PendingWrite, strategy: string, base: Row, body: Row, server: Row): { body: Row | undefined; resolution: ConflictRecord['resolution'] } | undefined {
    if (strategy === 'server-wins') return undefined;
    const column = write.request.optimistic!.conflict!.column;
    if (write.request.action === 'delete') return strategy === 'client-wins' ? { body: undefined, resolution: 'client' } : undefined;
    let next: Row;
    let resolution: ConflictRecord['resolution'];
    if (strategy === 'client-wins') {
      next = { ...body };
      resolution = 'client';
    } else if (strategy === 'merge') {
      next = {};
      for (const [field, value] of Object.entries(body)) {
        const serverChanged = !sameValue(server[field], base[field]);
        if (!serverChanged) next[field] = value;
        // Changed by both (or only by the server): the server's value stays.
      }
      resolution = 'merged';
    } else {
      let row: Row;
      try {
        row = options.resolvers![strategy]!(base, { ...base, ...body }, server);
      } catch (error) {
        context.warn(`[rtk-postgrest sync] conflict resolver ${JSON.stringify(strategy)} threw: ${(error as Error)?.message ?? String(error)}; the server's version is kept`);
        return undefined;
      }
      if (row === null || typeof row !== 'object') {
        context.warn(`[rtk-postgrest sync] conflict resolver ${JSON.stringify(strategy)} returned ${row === null ? 'null' : typeof row}, not a row; the server's version is kept`);
        return undefined;
      }
      next = {};
      for (const [field, value] of Object.entries(row)) if (!sameValue(value, server[field])) next[field] = value;
      resolution = 'row';
    }
    const bumped = typeof base[column] === 'number' && body[column] === (base[column] as number) + 1 && typeof server[column] === 'number';
    delete next[column];
    if (Object.keys(next).length === 0) return { body: undefined, resolution };
    if (bumped) next[column] = (server[column] as number) + 1;
    else if (column in body && strategy !== 'merge') next[column] = body[column];
    return { body: next, resolution };
  }

  /** The request to send for `write`: with `conflict`, only if the row still has the value seen. */
  function sent(write: PendingWrite): PostgrestRequest {
    const column = write.request.optimistic?.conflict?.column;
    if (!column || !write.seen) return write.request;
    const value = write.seen[column];
    const condition = value === null ? [column, 'is.null'] : toQueryPair(buildCondition(column, 'eq', value));
    return { ...write.request, query: [...write.request.query, condition as [string, string]] };
  }

  /** A read of the row a conflict is about, by its key. */
  function readRow(write: PendingWrite): PostgrestRequest {
    const primaryKey = primaryKeyOf(write.request.relation);
    return {
      action: 'select',
      method: 'GET',
      relation: write.request.relation,
      ...(write.request.schema !== undefined && { schema: write.request.schema }),
      query: [['select', '*'], ...keyFilters(primaryKey, write.seen!)],
      headers: {},
      result: 'many',
    };
  }

  /** The table's entries' server data with the write's returned rows in it (as its realtime echo will bring them). */
  function serverAfter(write: PendingWrite, rows: readonly Row[], event: 'INSERT' | 'DELETE' = write.request.action === 'delete' ? 'DELETE' : 'INSERT'): Map<string, unknown> {
    const changes = changesOf(write.request, rows, event);
    // A live entry already has what the realtime server sent about these rows since the write was
    // applied (possibly newer than this response): those rows are left to the stream there.
    const streamed = moved.get(write.id);
    const liveChanges = streamed ? changes.filter((change) => !echoed(streamed, change, event, write.primaryKey)) : changes;
    // A fetch already running may have read the table before this commit: its result gets these rows too.
    if (changes.length > 0 && inFlight.size > 0) recent.push({ seq: ++sequence, table: write.table, changes });
    const server = new Map<string, unknown>();
    if (changes.length === 0) return server;
    for (const [key, entry] of followed) {
      if (entry.table !== write.table || !bases.has(key)) continue;
      const patched = withChanges(entry, bases.get(key), options.isLiveEntry?.(key) ? liveChanges : changes, key);
      if (patched !== bases.get(key)) server.set(key, patched);
    }
    return server;
  }

  /** Rows the server returned for a write, as the changes its realtime echo will bring. */
  function changesOf(request: PostgrestRequest, rows: readonly Row[], event: 'INSERT' | 'DELETE'): RealtimeChange[] {
    const primaryKey = primaryKeyOf(request.relation);
    return rows.map((row) => (event === 'DELETE' ? rowChange(request, 'DELETE', {}, keyColumns(row, primaryKey)) : rowChange(request, 'INSERT', row, {})));
  }


  /** An entry's server data with `changes` in it; the same data when it can't tell (only a fetch can: the echo or a refetch brings them). */
  function withChanges(entry: Followed, data: unknown, changes: readonly RealtimeChange[], key?: string): unknown {
    // A single-row read: its row as a list of one, patched, and back.
    if (!Array.isArray(data)) {
      const rows = rowsFor(entry.request, data);
      if (!rows) return data;
      const patched = withChanges(entry, rows, changes);
      return patched === rows ? data : fromRows(entry.request, patched as Row[], data);
    }
    const query = compiled(entry, typesOf(entry.table, data));
    if (!Array.isArray(data) || !query.exact || entry.request.count !== undefined) return data;
    // A live window patches its known prefix (cached rows and its spares) and keeps its spares in step.
    const window = key === undefined ? undefined : options.windowOf?.(key);
    const patched = patchEntry(query, data as Row[], window?.spares ?? [], changes, primaryKeyOf(entry.request.relation), window?.spareRows ?? 0, window?.complete);
    if (patched?.kind !== 'patched' && patched?.kind !== 'unchanged') return data;
    if (window && key !== undefined) options.setWindow?.(key, patched.spares, patched.complete);
    return patched.kind === 'patched' ? patched.rows : data;
  }



  /** A refetch result or live patches of entries whose table has pending writes: the server data goes beneath the layer. */
  function underLayer(action: UnknownAction): UnknownAction {
    if (action.type === fulfilledType) {
      const meta = action.meta as Meta | undefined;
      const key = meta?.arg?.queryCacheKey;
      const request = meta?.baseQueryMeta?.request;
      if (!key || !request || request.action !== 'select') return action;
      if (followed.get(key)?.request !== request) followed.set(key, { table: tableOf(request), request });
      typesSeen.delete(tableOf(request));
      const entry = followed.get(key)!;
      // Commits that came after this fetch started: it may have read the table before them.
      const started = inFlight.get((action.meta as { requestId?: string }).requestId ?? '');
      let data = action.payload;
      if (started !== undefined) for (const commit of recent) if (commit.seq > started && commit.table === entry.table) data = withChanges(entry, data, commit.changes);
      const writes = pendingOf(entry.table);
      // A window fetched with spare rows brings them in its meta (the live entry takes them after this).
      const meta2 = (action.meta as { baseQueryMeta?: { spares?: unknown; spareRows?: unknown; complete?: unknown } }).baseQueryMeta;
      const windows = new Map<string, { spares: readonly Row[]; spareRows: number; complete?: boolean }>();
      if (Array.isArray(meta2?.spares) && typeof meta2.spareRows === 'number') windows.set(key, { spares: meta2.spares as Row[], spareRows: meta2.spareRows, ...(typeof meta2.complete === 'boolean' && { complete: meta2.complete }) });
      if (writes.length > 0) data = layer(entry.table, writes, serverData(entry.table, new Map([[key, data]])), windows).get(key);
      return data === action.payload ? action : { ...action, payload: data };
    }
    if (bases.size === 0 || (action.meta as Record<string, unknown> | undefined)?.[LIVE_PATCHES] !== apiPath || action.type.includes('/optimistic/')) return action;
    const entries = (action.payload as { entries?: LivePatch[] } | undefined)?.entries;
    if (!Array.isArray(entries) || !entries.some((patch) => bases.has(patch.queryCacheKey))) return action;
    // The live entries patched the server data (they read it beneath the layer): put the layer back on top.
    // The query client's setQueryData edited what is shown instead: its edit goes beneath the layer.
    const edited = action.type === QUERY_DATA_SET;
    const overrides = new Map<string, Map<string, unknown>>();
    for (const patch of entries) {
      const entry = followed.get(patch.queryCacheKey);
      if (!entry || !bases.has(patch.queryCacheKey)) continue;
      let server = patch.entry.data;
      if (edited) {
        const under = baseUnderEdit(patch.entry.data, cacheEntry(patch.queryCacheKey)?.data, bases.get(patch.queryCacheKey), primaryKeyOf(entry.request.relation));
        if (under) server = under;
        else context.warn(`[rtk-postgrest sync] setQueryData on ${patch.queryCacheKey} while writes to ${entry.table} are pending: the data is no list of rows with their key, so it stands for the server's as a whole (a rollback can't take the pending writes back out of it)`);
      }
      const tableOverrides = overrides.get(entry.table) ?? new Map<string, unknown>();
      overrides.set(entry.table, tableOverrides.set(patch.queryCacheKey, server));
    }
    const shown = new Map<string, unknown>();
    for (const [table, server] of overrides) {
      const layered = layer(table, pendingOf(table), serverData(table, server));
      for (const key of server.keys()) shown.set(key, layered.get(key));
    }
    return {
      ...action,
      payload: { ...(action.payload as object), entries: entries.map((patch) => (shown.has(patch.queryCacheKey) ? { ...patch, entry: { ...patch.entry, data: shown.get(patch.queryCacheKey) } } : patch)) },
    };
  }

  /** An open conflict settled by the app: `server` keeps what is shown; `client` or a row is written again, checked against the server's version. */
  function resolveConflict(id: string, resolution: 'server' | 'client' | Row): Promise<unknown> | undefined {
    const record = context.mirror().conflicts.find((candidate) => candidate.id === id && candidate.status === 'open');
    const write = context.mirror().writes.find((candidate) => candidate.id === id);
    if (!record || !write) {
      context.warn(`[rtk-postgrest sync] resolveConflict: no open conflict ${JSON.stringify(id)}`);
      return Promise.resolve({ error: { status: 'INVALID_REQUEST', code: 'NO_CONFLICT', message: `resolveConflict: no open conflict ${JSON.stringify(id)}`, details: null, hint: null } });
    }
    context.dispatch(actions.optimisticResolved({ id, resolution: resolution === 'server' ? 'server' : resolution === 'client' ? 'client' : 'row' }));
    if (resolution === 'server' || record.server === null) return Promise.resolve({ data: record.server });
    const column = write.request.optimistic!.conflict!.column;
    const primaryKey = write.primaryKey;
    const filters = keyFilters(primaryKey, record.server);
    const common = { method: write.request.method, relation: write.request.relation, ...(write.request.schema !== undefined && { schema: write.request.schema }), headers: { Prefer: 'return=representation' }, result: 'many' as const, optimistic: { conflict: { column } } };
    if (write.request.action === 'delete') return dispatchWrite({ ...common, action: 'delete', query: filters });
    // Keep mine: the fields this client's write set (not the rest of the row it saw, which may be older than the server's).
    const wanted = resolution === 'client' ? { ...((write.request.body ?? {}) as Row) } : { ...resolution };
    const body: Row = {};
    for (const [field, value] of Object.entries(wanted)) if (!sameValue(value, record.server[field]) && field !== column && !primaryKey.includes(field)) body[field] = value;
    const bumped = typeof record.base[column] === 'number' && record.local?.[column] === (record.base[column] as number) + 1 && typeof record.server[column] === 'number';
    if (bumped) body[column] = (record.server[column] as number) + 1;
    return dispatchWrite({ ...common, action: 'update', query: filters, body });
  }

  /** Dispatches `request` through the api's generic write endpoint; resolves with its result. */
  function dispatchWrite(request: PostgrestRequest): Promise<unknown> {
    const endpoints = (options.api as { endpoints: Record<string, { initiate(arg: unknown): unknown }> }).endpoints;
    const running = context.dispatch(endpoints.write!.initiate(request) as UnknownAction) as Promise<unknown>;
    return Promise.resolve(running);
  }

  return {
    onChanges(channel, changes) {
      if (!channel.startsWith('live:')) return;
      const writes = pendingOf(channel.slice('live:'.length));
      if (writes.length === 0) return;
      for (const write of writes) {
        const watch = awaitingEcho.get(write.id);
        const keys = new Set(write.keys);
        for (const change of changes) {
          if (watch && change.eventType === 'INSERT') watch.candidates.push(change.new);
          const touched = [change.eventType !== 'INSERT' ? rowKey(change.old, write.primaryKey) : undefined, change.eventType !== 'DELETE' ? rowKey(change.new, write.primaryKey) : undefined];
          for (const key of touched) {
            if (key === undefined || !keys.has(key)) continue;
            let rows = moved.get(write.id);
            if (!rows) moved.set(write.id, (rows = new Map()));
            rows.set(key, [...(rows.get(key) ?? []), change.eventType === 'DELETE' ? null : change.new]);
          }
        }
      }
    },
    onAction(action) {
      if (!actions.resolveConflict.match(action)) return undefined;
      return resolveConflict(action.payload.id, action.payload.resolution);
    },
    baseOf: (queryCacheKey) => (bases.has(queryCacheKey) ? { data: bases.get(queryCacheKey) } : undefined),
    transform: underLayer,
    onAnyAction(action) {
      if (action.type === OPTIMISTIC_WRITE_STARTING) {
        const payload = action.payload as OptimisticStart | undefined;
        // Only a write that really runs here (a replayed announcement has lost its function).
        if (payload?.api !== apiPath || typeof (action.meta as Meta | undefined)?.arg?.[RUNNING_WRITE] !== 'function') return undefined;
        return start(payload, context.now());
      }
      if (action.type === OPTIMISTIC_WRITE_SETTLING) {
        const payload = action.payload as OptimisticSettle | undefined;
        return payload?.api === apiPath ? settle(payload) : undefined;
      }
      if (action.type === pendingType) {
        inFlight.set(String((action.meta as { requestId?: unknown }).requestId), sequence);
        return undefined;
      }
      if (action.type === fulfilledType || action.type === rejectedType) {
        inFlight.delete(String((action.meta as { requestId?: unknown }).requestId));
        // Commits every running fetch started after are no longer needed.
        const oldest = Math.min(...inFlight.values());
        while (recent.length > 0 && recent[0]!.seq <= oldest) recent.shift();
        return undefined;
      }
      if (action.type === removedType) {
        const key = (action.payload as { queryCacheKey?: string } | undefined)?.queryCacheKey;
        if (key) {
          followed.delete(key);
          bases.delete(key);
        }
      }
      return undefined;
    },
  };
}

/**
 * Column types as the rows' JSON values show them: numbers (they compare the same whatever the exact
 * numeric type), booleans, and strings as text (equality is exact; text order stays inexact unless
 * the app said its collation). A string column of dates or uuids reads as text here: close enough
 * for a layer the server's rows replace within a round trip; live channels give the real types.
 */
function inferTypes(rows: unknown): ColumnTypes | undefined {
  if (!Array.isArray(rows) || rows.length === 0) return undefined;
  const kinds = new Map<string, string | null>();
  for (const row of rows as Row[]) {
    for (const [column, value] of Object.entries(row)) {
      if (value === null) continue;
      const kind = typeof value === 'number' ? 'numeric' : typeof value === 'boolean' ? 'bool' : typeof value === 'string' ? 'text' : null;
      const before = kinds.get(column);
      kinds.set(column, before === undefined || before === kind ? kind : null);
    }
  }
  const types: Record<string, string> = {};
  for (const [column, kind] of kinds) if (kind) types[column] = kind;
  return types;
}
