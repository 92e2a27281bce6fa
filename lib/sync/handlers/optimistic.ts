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
import { livePatch, LIVE_PATCHES, OPTIMISTIC_WRITE_SETTLING, OPTIMISTIC_WRITE_STARTING, RUNNING_WRITE, type LivePatch, type OptimisticPlan, type OptimisticSettle, type OptimisticStart, type OptimisticVerdict, type QueryCacheEntry } from '../../api/liveContract.js';
import { compileRequest, type ColumnTypes, type CompiledQuery, type EvaluateOptions } from '../../postgrest/evaluate/index.js';
import type { PostgrestError, PostgrestRequest } from '../../postgrest/request/types.js';
import type { RealtimeChange } from '../changes.js';
import { applyLayer } from '../optimistic/layer.js';
import { patchRows, type Row } from '../patch.js';
import type { PendingWrite } from '../slice.js';
import type { HandlerContext, SyncHandler } from './types.js';

export interface OptimisticOptions {
  api?: unknown;
  primaryKeys?: Readonly<Record<string, string | readonly string[]>>;
  database?: EvaluateOptions;
  /** Column types of a table's channel (`live:<schema>.<table>`), as the live entries learnt them. */
  columnTypes?: (channel: string) => ColumnTypes | undefined;
}

export interface OptimisticHandler extends SyncHandler {
  /** The server data beneath the layer of an entry under one; undefined for every other entry. */
  baseOf(queryCacheKey: string): { data: unknown } | undefined;
}

interface Followed {
  table: string;
  request: PostgrestRequest;
  /** Column types read off the entry's first rows (numbers, booleans), when no live channel describes the table. */
  inferred?: ColumnTypes;
  compiled?: { query: CompiledQuery; types: ColumnTypes | undefined };
}

interface Meta {
  arg?: { endpointName?: string; queryCacheKey?: string; [RUNNING_WRITE]?: unknown };
  baseQueryMeta?: { request?: PostgrestRequest };
}

const tableOf = (request: PostgrestRequest) => `${request.schema ?? 'public'}.${request.relation}`;
const PATCHABLE = new Set(['fulfilled', 'rejected']);

/** Nothing without an api. */
export function optimisticHandler(context: HandlerContext, options: OptimisticOptions): OptimisticHandler | undefined {
  if (!options.api) return undefined;
  const apiPath = (options.api as { reducerPath: string }).reducerPath;
  const { actions } = context;
  const fulfilledType = `${apiPath}/executeQuery/fulfilled`;
  const removedType = `${apiPath}/queries/removeQueryResult`;
  /** Every query entry of the api with its request (learnt from its results), by queryCacheKey. */
  const followed = new Map<string, Followed>();
  /** The server data beneath the layer, per entry under one. */
  const bases = new Map<string, unknown>();
  /** Writes whose caller asked for no rows back (they are asked for, then left out of the result). */
  const minimal = new Set<string>();
  let temporary = 0;

  const primaryKeyOf = (relation: string): readonly string[] => {
    const configured = options.primaryKeys?.[relation];
    return configured === undefined ? ['id'] : typeof configured === 'string' ? [configured] : configured;
  };
  const cacheEntry = (queryCacheKey: string): QueryCacheEntry | undefined =>
    (context.getState() as Record<string, { queries?: Record<string, QueryCacheEntry | undefined> } | undefined>)[apiPath]?.queries?.[queryCacheKey];
  const pendingOf = (table: string): PendingWrite[] => context.mirror().writes.filter((write) => write.status === 'pending' && write.table === table);

  function compiled(entry: Followed, rows?: unknown): CompiledQuery {
    // The server's description of the table when a live channel has it; else what the rows show.
    const types = options.columnTypes?.(`live:${entry.table}`) ?? (entry.inferred ??= inferTypes(rows));
    if (!entry.compiled || entry.compiled.types !== types) entry.compiled = { query: compileRequest(entry.request, types, options.database), types };
    return entry.compiled.query;
  }

  /** The server data of the table's stored entries: `overrides` first, then what lies beneath a layer, then the store. */
  function serverData(table: string, overrides = new Map<string, unknown>()): Map<string, unknown> {
    const server = new Map<string, unknown>();
    for (const [key, entry] of followed) {
      if (entry.table !== table) continue;
      if (overrides.has(key)) server.set(key, overrides.get(key));
      else if (bases.has(key)) server.set(key, bases.get(key));
      else {
        const stored = cacheEntry(key);
        if (stored && PATCHABLE.has(stored.status)) server.set(key, stored.data);
      }
    }
    return server;
  }

  /**
   * What the table's entries show with `writes` re-applied on top of `server` (lists the client can
   * decide; anything else, a single row or a counted result, shows its server data). The server
   * data is kept beneath while writes are pending, and dropped with the last one.
   */
  function layer(table: string, writes: readonly PendingWrite[], server: Map<string, unknown>): Map<string, unknown> {
    const shown = new Map(server);
    if (writes.length === 0) {
      for (const key of server.keys()) bases.delete(key);
      return shown;
    }
    const lists = [...server.keys()].filter((key) => Array.isArray(server.get(key)) && followed.get(key)!.request.count === undefined);
    const relation = table.slice(table.indexOf('.') + 1);
    const columns = options.columnTypes?.(`live:${table}`);
    const results = applyLayer(
      lists.map((key) => ({ query: compiled(followed.get(key)!, server.get(key)), rows: server.get(key) as Row[] })),
      writes,
      { primaryKey: primaryKeyOf(relation), ...(columns && { columns }), ...(options.database && { evaluate: options.database }) },
    );
    for (const [key, data] of server) bases.set(key, data);
    lists.forEach((key, i) => {
      const result = results[i]!;
      if (result.kind === 'rows') shown.set(key, result.rows);
    });
    return shown;
  }

  /** The entries whose shown data changes, as patches for the api's reducer. */
  function patches(shown: Map<string, unknown>): LivePatch[] {
    const list: LivePatch[] = [];
    for (const [key, data] of shown) {
      const stored = cacheEntry(key);
      if (data === stored?.data) continue;
      const patch = livePatch(key, stored, data);
      if (patch) list.push(patch);
    }
    return list;
  }

  /** Column types read off the rows of the table's entries (when no live channel describes it). */
  function typesSeen(table: string): ColumnTypes | undefined {
    for (const [key, entry] of followed) {
      if (entry.table !== table) continue;
      const types = (entry.inferred ??= inferTypes(bases.has(key) ? bases.get(key) : cacheEntry(key)?.data));
      if (types) return types;
    }
    return undefined;
  }

  /** Inserts and upserts: the rows as shown, each with a key (a temporary one where the body has none). */
  function rowsOf(request: PostgrestRequest): Row[] | undefined {
    if (request.action !== 'insert' && request.action !== 'upsert') return undefined;
    const body = Array.isArray(request.body) ? (request.body as Row[]) : [request.body as Row];
    const primaryKey = primaryKeyOf(request.relation);
    const table = tableOf(request);
    const types = options.columnTypes?.(`live:${table}`) ?? typesSeen(table);
    return body.map((row) => {
      const missing = primaryKey.filter((column) => !(column in row));
      if (missing.length === 0) return row;
      const filled: Row = { ...row };
      for (const column of missing) {
        const type = types?.[column];
        const name = typeof type === 'string' ? type : type?.type;
        temporary += 1;
        // Sorts before every real key of an integer column, and never equals one.
        filled[column] = name !== undefined && /^(int[248]|numeric|float[48])$/.test(name) ? -temporary : `optimistic-${temporary}`;
      }
      return filled;
    });
  }

  function start(payload: OptimisticStart, now: number): OptimisticPlan {
    const request = payload.request;
    const id = randomId(now);
    const table = tableOf(request);
    const rows = rowsOf(request);
    const prefer = request.headers.Prefer ?? '';
    // The server's rows are what replace the layer without a gap: ask for them.
    let send = request;
    if (/return=minimal/.test(prefer) || !/return=/.test(prefer)) {
      minimal.add(id);
      send = { ...request, headers: { ...request.headers, Prefer: /return=/.test(prefer) ? prefer.replace('return=minimal', 'return=representation') : ['return=representation', prefer].filter(Boolean).join(',') } };
    }
    const write: PendingWrite = { id, table, request: send, ...(rows && { rows }), entries: [], status: 'pending', error: null, at: now };
    const entries = patches(layer(table, [...pendingOf(table), write], serverData(table)));
    write.entries = entries.map((patch) => patch.queryCacheKey);
    context.dispatch(actions.optimisticApplied({ write, entries }, apiPath));
    return { id, send };
  }

  function settle({ id, result }: OptimisticSettle): OptimisticVerdict | undefined {
    const write = context.mirror().writes.find((candidate) => candidate.id === id && candidate.status === 'pending');
    if (!write) return undefined;
    const others = pendingOf(write.table).filter((candidate) => candidate.id !== id);
    const asked = minimal.delete(id) ? { ...result, data: null } : result;
    if (result.error !== undefined) {
      const shown = layer(write.table, others, serverData(write.table));
      context.dispatch(actions.optimisticRolledBack({ id, error: result.error as PostgrestError, entries: patches(shown) }, apiPath));
      return { result: asked };
    }
    const rows = (Array.isArray(result.data) ? result.data : result.data == null ? [] : [result.data]).filter((row): row is Row => typeof row === 'object' && row !== null);
    const shown = layer(write.table, others, serverData(write.table, serverAfter(write, rows)));
    context.dispatch(actions.optimisticCommitted({ id, rows, entries: patches(shown) }, apiPath));
    return { result: asked };
  }

  /** The table's entries' server data with the write's returned rows in it (as its realtime echo will bring them). */
  function serverAfter(write: PendingWrite, rows: readonly Row[]): Map<string, unknown> {
    const primaryKey = primaryKeyOf(write.request.relation);
    const changes: RealtimeChange[] = rows.map((row) => ({
      eventType: write.request.action === 'delete' ? 'DELETE' : 'INSERT',
      schema: write.request.schema ?? 'public',
      table: write.request.relation,
      commit_timestamp: null,
      new: write.request.action === 'delete' ? {} : row,
      old: write.request.action === 'delete' ? Object.fromEntries(primaryKey.map((column) => [column, row[column]])) : {},
      errors: null,
      ids: [],
      columns: [],
      position: null,
    }));
    const server = new Map<string, unknown>();
    if (changes.length === 0) return server;
    for (const [key, entry] of followed) {
      if (entry.table !== write.table || !bases.has(key)) continue;
      const base = bases.get(key);
      const query = compiled(entry, base);
      if (!Array.isArray(base) || !query.exact || entry.request.count !== undefined) continue;
      const patched = patchRows({ query, primaryKey, rows: base as Row[], index: undefined, changes });
      if (patched.kind === 'patched') server.set(key, patched.rows);
      // An entry only a fetch can tell keeps its server data: the write's echo or its refetch brings the rest.
    }
    return server;
  }

  /** A refetch result or live patches of entries whose table has pending writes: the server data goes beneath the layer. */
  function underLayer(action: UnknownAction): UnknownAction {
    if (action.type === fulfilledType) {
      const meta = action.meta as Meta | undefined;
      const key = meta?.arg?.queryCacheKey;
      const request = meta?.baseQueryMeta?.request;
      if (!key || !request || request.action !== 'select') return action;
      if (followed.get(key)?.request !== request) followed.set(key, { table: tableOf(request), request });
      const table = followed.get(key)!.table;
      const writes = pendingOf(table);
      if (writes.length === 0) return action;
      const shown = layer(table, writes, serverData(table, new Map([[key, action.payload]]))).get(key);
      return shown === action.payload ? action : { ...action, payload: shown };
    }
    if (bases.size === 0 || (action.meta as Record<string, unknown> | undefined)?.[LIVE_PATCHES] !== apiPath || action.type.includes('/optimistic/')) return action;
    const entries = (action.payload as { entries?: LivePatch[] } | undefined)?.entries;
    if (!Array.isArray(entries) || !entries.some((patch) => bases.has(patch.queryCacheKey))) return action;
    // The live entries patched the server data (they read it beneath the layer): put the layer back on top.
    const overrides = new Map<string, Map<string, unknown>>();
    for (const patch of entries) {
      const entry = followed.get(patch.queryCacheKey);
      if (!entry || !bases.has(patch.queryCacheKey)) continue;
      const server = overrides.get(entry.table) ?? new Map<string, unknown>();
      overrides.set(entry.table, server.set(patch.queryCacheKey, patch.entry.data));
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

  return {
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

function randomId(now: number): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return crypto?.randomUUID ? crypto.randomUUID() : `${now.toString(36)}-${Math.random().toString(36).slice(2)}`;
}
