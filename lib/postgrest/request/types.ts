/** HTTP methods PostgREST answers. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/**
 * What the caller expects back: every row, exactly one row, or at most one row; or the body as
 * PostgREST sent it: `text` (a string: `csv()`, a text `explain()` plan) or `json` (the parsed JSON,
 * untouched: a JSON plan, a GeoJSON document).
 */
export type ResultShape = 'many' | 'single' | 'maybeSingle' | 'text' | 'json';

/** PostgREST's three ways of counting rows. */
export type CountMethod = 'exact' | 'planned' | 'estimated';

/** The four kinds of request the builder makes. */
export type RequestAction = 'select' | 'insert' | 'update' | 'upsert' | 'delete' | 'rpc';

/**
 * A PostgREST request as plain, JSON-serializable data. Builders turn into this; the base query,
 * the API slice's tags and (later) live caches read it. It never holds functions or class instances.
 */
export interface PostgrestRequest {
  /** What the request does; `rpc` may read (GET/HEAD) or write (POST). */
  action: RequestAction;
  method: HttpMethod;
  /** Schema for Accept-Profile / Content-Profile; undefined means PostgREST's default schema. */
  schema?: string;
  /** Table or view name (`action !== 'rpc'`) or function name (`action === 'rpc'`). */
  relation: string;
  /**
   * Query string pairs in order, NOT percent-encoded: `[['select','id,title'], ['author_id','eq.1']]`.
   * Values are already quoted by PostgREST's grammar; `toUrl` percent-encodes them.
   */
  query: Array<[string, string]>;
  /**
   * Extra request headers besides auth and profile headers: Prefer and Accept as the builder composes
   * them, and custom ones from `setHeader()` (part of the cache key like everything here).
   */
  headers: Record<string, string>;
  /** JSON body for writes and POST rpc. */
  body?: unknown;
  /** How the base query shapes `data`. */
  result: ResultShape;
  /**
   * Set when a count was asked for; the result then becomes `{ rows, count }` (for `text` and `json`
   * results the data stays the body and the count is only in `meta.count`).
   */
  count?: CountMethod;
  /**
   * Writes only (`.optimistic()`): a sync middleware shows the write in the cache at once, as a
   * layer over server state, until the server's rows replace it or it fails (then only its own
   * effect is rolled back). Not sent to PostgREST.
   */
  optimistic?: OptimisticOptions;
}

/** How an optimistic update or delete treats a row someone else changed since this client saw it. */
export type ConflictStrategy = 'server-wins' | 'client-wins' | 'merge';

/** The options of `.optimistic()`: plain data (a resolver is named, registered on the middleware). */
export interface OptimisticOptions {
  /**
   * With `column` (a `version` integer or a timestamp such as `updated_at`), an update or delete is
   * sent only if the row still has the value this client saw; zero rows back is a conflict, settled by
   * `strategy`: `server-wins` (default: the write fails with CONFLICT), `client-wins` (sent again
   * against the new value), `merge` (three-way by field), or the name of a resolver registered with
   * the sync middleware's `resolvers`.
   */
  conflict?: { column: string; strategy?: ConflictStrategy | (string & {}) };
}

/** Anything that can become a request: a builder or a request itself. */
export interface ToPostgrestRequest {
  toRequest(): PostgrestRequest;
}

export type PostgrestRequestLike = PostgrestRequest | ToPostgrestRequest;

/** The error shape every failed request resolves with (never thrown). */
export interface PostgrestError {
  /**
   * HTTP status, or what went wrong before one arrived: the network (`FETCH_ERROR`), the time limit
   * (`TIMEOUT_ERROR`), an unreadable body (`PARSING_ERROR`), or an argument that is no request
   * (`INVALID_REQUEST`).
   */
  status: number | 'FETCH_ERROR' | 'TIMEOUT_ERROR' | 'PARSING_ERROR' | 'INVALID_REQUEST';
  /** PostgREST / PostgreSQL error code (`PGRST116`, `23505` ...), or null. */
  code: string | null;
  message: string;
  /** As PostgREST sent it: usually text; some errors send a JSON object or array, which stays one. */
  details: PostgrestErrorDetail;
  /** As PostgREST sent it (usually text). */
  hint: PostgrestErrorDetail;
}

/** An error's `details` or `hint` as PostgREST sent it: text, or any JSON value; null when absent. */
export type PostgrestErrorDetail = string | number | boolean | { [key: string]: unknown } | unknown[] | null;

/** The three versions of a row an optimistic write's conflict is about. */
export interface ConflictDetails {
  /** The row as this client saw it when the write was dispatched. */
  base: Record<string, unknown>;
  /** The row as this client wanted it (base with the write applied); null for a delete. */
  local: Record<string, unknown> | null;
  /** The row as the server has it now; null when it was deleted. */
  server: Record<string, unknown> | null;
}

/**
 * What an optimistic update or delete with `conflict` fails with when someone else changed the row
 * since this client saw it and the strategy keeps the server's version (`server-wins`), or when a
 * retrying strategy gave up.
 */
export interface ConflictError {
  status: 409;
  code: 'CONFLICT';
  message: string;
  details: ConflictDetails;
  hint: string | null;
}

/** Meta attached to every base query result (serializable). */
export interface PostgrestMeta {
  status: number;
  /** Total count from Content-Range when a count was requested, else null. */
  count: number | null;
  headers: Record<string, string>;
  /** The request that produced this result (for tags and live caches). */
  request: PostgrestRequest;
  /** How many times the request was sent: a read retried, a write sent again by the outbox (absent when it was sent once). */
  attempts?: number;
  /**
   * The fetch started while a sync middleware had its table's changes live: they keep the result
   * current, so it provides `liveTags` instead of row and list tags (writes don't refetch it).
   */
  live?: boolean;
  /**
   * A live top-N window fetched with spare rows (the sync middleware asked for them): the rows past
   * the first N (kept out of `data`, which holds exactly the request's rows), for patching.
   */
  spares?: unknown[];
  /** With `spares`: how many spare rows were asked for. */
  spareRows?: number;
  /** With `spares`: the fetch returned fewer rows than it asked for (data and spares are every row). */
  complete?: boolean;
}

/** Result data when a count was requested. */
export interface CountedRows<Row> {
  rows: Row[];
  count: number | null;
}

/** Result data of a counted call of a function that returns one value (a scalar or one row), not a set. */
export interface CountedValue<Value> {
  value: Value;
  count: number | null;
}
