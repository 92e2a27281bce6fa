import type { CountMethod, HttpMethod, OptimisticOptions, PostgrestRequest, RequestAction, ResultShape } from '../request/types.js';

/** Everything a builder knows, kept as plain immutable data; `compileRequest` turns it into a request. */
export interface BuilderState {
  readonly action: RequestAction;
  readonly method: HttpMethod;
  readonly relation: string;
  readonly schema: string | undefined;
  /** Cleaned select list; reads default to `*`, writes and rpc send it only when set. */
  readonly columns: string | undefined;
  /** Writes: `.select()` was called, so PostgREST returns the rows. */
  readonly returning: boolean;
  /** rpc arguments sent in the query string (GET / HEAD rpc). */
  readonly args: ReadonlyArray<readonly [string, string]>;
  readonly filters: ReadonlyArray<readonly [string, string]>;
  /** `order` / `authors.order` keys with their terms, in first-use order. */
  readonly orders: ReadonlyArray<readonly [string, readonly string[]]>;
  /** `limit` / `offset` and their referenced-table variants; setting one again replaces it. */
  readonly paging: ReadonlyArray<readonly [string, string]>;
  readonly result: ResultShape;
  readonly count: CountMethod | undefined;
  /** JSON-safe body (already copied by `toJsonValue`). */
  readonly body: unknown;
  /** Bulk writes whose rows have different keys: `"a","b"`. */
  readonly insertColumns: string | undefined;
  readonly onConflict: string | undefined;
  readonly resolution: 'merge-duplicates' | 'ignore-duplicates' | undefined;
  /** `Prefer: missing=default`: absent columns take their default instead of NULL. */
  readonly missingDefault: boolean;
  /** Writes: `.optimistic()` was called (a sync middleware shows the write at once). */
  readonly optimistic: OptimisticOptions | undefined;
  /** `setHeader()`: custom headers in call order, one per name (case-insensitive; the last call wins). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** `rollback()`: `Prefer: tx=rollback`. */
  readonly rollback: boolean;
  /** `maxAffected()`: `Prefer: handling=strict, max-affected=n`. */
  readonly maxAffected: number | undefined;
  /** `csv()` / `geojson()`: the media type asked for instead of JSON rows. */
  readonly media: 'csv' | 'geojson' | undefined;
  /** `explain()`: the plan's format and EXPLAIN options instead of the result. */
  readonly explain: ExplainState | undefined;
}

/** What `explain()` recorded. */
export interface ExplainState {
  readonly format: 'json' | 'text';
  /** In PostgREST's order: analyze, verbose, settings, buffers, wal. */
  readonly options: readonly string[];
}

const MEDIA_TYPES = { csv: 'text/csv', geojson: 'application/geo+json' } as const;

/** A fresh state for `relation`; the rest are filled by `from` / `rpc` / writes. */
export function initialState(action: RequestAction, method: HttpMethod, relation: string, schema: string | undefined): BuilderState {
  return {
    action,
    method,
    relation,
    schema,
    columns: undefined,
    returning: false,
    args: [],
    filters: [],
    orders: [],
    paging: [],
    result: 'many',
    count: undefined,
    body: undefined,
    insertColumns: undefined,
    onConflict: undefined,
    resolution: undefined,
    missingDefault: false,
    optimistic: undefined,
    headers: [],
    rollback: false,
    maxAffected: undefined,
    media: undefined,
    explain: undefined,
  };
}

/** The runtime result shape: a plan or another media type is returned as PostgREST sent it. */
function resultOf(state: BuilderState): ResultShape {
  if (state.explain !== undefined) return state.explain.format === 'json' ? 'json' : 'text';
  if (state.media === 'csv') return 'text';
  if (state.media === 'geojson') return 'json';
  return state.result;
}

/**
 * Why the methods recorded in `state` cannot go together, or null. Checked on every new builder, so
 * the message is the same whichever of the two methods came last.
 */
export function explainCombination(state: BuilderState): string | null {
  if (state.media !== undefined && state.result !== 'many') {
    return `${state.media}() returns every row as one ${state.media === 'csv' ? 'CSV text' : 'GeoJSON document'}; it cannot be combined with ${state.result}()`;
  }
  if (state.maxAffected !== undefined && !(state.action === 'update' || state.action === 'delete' || (state.action === 'rpc' && state.method === 'POST'))) {
    const what = state.action === 'rpc' ? `a ${state.method} rpc (it cannot write)` : `${state.action === 'select' ? 'a read' : `${state.action}()`}`;
    return `maxAffected() is for update(), delete() and POST rpc(), not ${what}`;
  }
  if (state.optimistic !== undefined) {
    if (state.rollback) return 'rollback() cannot be combined with optimistic(): the write is rolled back, so there is nothing to show';
    if (state.explain !== undefined) return 'explain() cannot be combined with optimistic(): it returns a plan, not the written rows';
    if (state.media !== undefined) return `${state.media}() cannot be combined with optimistic(): the optimistic layer needs rows as JSON`;
  }
  return null;
}

/** Copy of `pairs` with `key` set to `value`, in place if present, else appended. */
export function setPair<V>(pairs: ReadonlyArray<readonly [string, V]>, key: string, value: V): Array<readonly [string, V]> {
  const index = pairs.findIndex(([k]) => k === key);
  if (index === -1) return [...pairs, [key, value]];
  return pairs.map((pair, i) => (i === index ? [key, value] : pair));
}

const isWrite = (action: RequestAction) => action === 'insert' || action === 'update' || action === 'upsert' || action === 'delete';

/**
 * The plain request. Query order is fixed (rpc args, select, columns, on_conflict, filters in call
 * order, orders, paging) so equal builders give equal requests. Prefer items always appear in the
 * order return, resolution, missing, count, handling, max-affected, tx.
 */
export function compileRequest(state: BuilderState): PostgrestRequest {
  const query: Array<[string, string]> = state.args.map(([k, v]) => [k, v]);
  const write = isWrite(state.action);
  if (state.action === 'select') query.push(['select', state.columns ?? '*']);
  else if (state.columns !== undefined && (!write || state.returning)) query.push(['select', state.columns]);
  if (state.insertColumns !== undefined) query.push(['columns', state.insertColumns]);
  if (state.onConflict !== undefined) query.push(['on_conflict', state.onConflict]);
  for (const [k, v] of state.filters) query.push([k, v]);
  for (const [k, terms] of state.orders) query.push([k, terms.join(',')]);
  for (const [k, v] of state.paging) query.push([k, v]);

  const prefer: string[] = [];
  if (write) prefer.push(state.returning ? 'return=representation' : 'return=minimal');
  if (state.resolution !== undefined) prefer.push(`resolution=${state.resolution}`);
  if (state.missingDefault) prefer.push('missing=default');
  if (state.count !== undefined) prefer.push(`count=${state.count}`);
  if (state.maxAffected !== undefined) prefer.push('handling=strict', `max-affected=${state.maxAffected}`);
  if (state.rollback) prefer.push('tx=rollback');

  // Custom headers first: their names never collide with Prefer or Accept (setHeader rejects those).
  const headers: Record<string, string> = Object.fromEntries(state.headers);
  if (prefer.length > 0) headers.Prefer = prefer.join(',');
  // A write (or POST rpc) with maybeSingle asks PostgREST to check the row count too, so that a write
  // touching several rows is rolled back instead of committed and then reported as an error; the base
  // query reads PostgREST's 406 for zero rows as null. Reads keep plain JSON and are checked client-side.
  const checkedByServer = state.result === 'single' || (state.result === 'maybeSingle' && state.method !== 'GET' && state.method !== 'HEAD');
  const accept = state.media !== undefined ? MEDIA_TYPES[state.media] : checkedByServer ? 'application/vnd.pgrst.object+json' : undefined;
  if (state.explain !== undefined) {
    const { format, options } = state.explain;
    const flags = options.length > 0 ? `; options=${options.join('|')}` : '';
    headers.Accept = `application/vnd.pgrst.plan+${format}; for="${accept ?? 'application/json'}"${flags}`;
  } else if (accept !== undefined) headers.Accept = accept;

  const request: PostgrestRequest = { action: state.action, method: state.method, relation: state.relation, query, headers, result: resultOf(state) };
  if (state.schema !== undefined) request.schema = state.schema;
  if (state.body !== undefined) request.body = structuredClone(state.body);
  if (state.count !== undefined) request.count = state.count;
  if (state.optimistic !== undefined) request.optimistic = structuredClone(state.optimistic);
  return request;
}
