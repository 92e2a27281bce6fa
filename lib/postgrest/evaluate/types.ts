/** A row as PostgREST returns it (and as realtime change events carry it): JSON values by column. */
export type Row = Record<string, unknown>;

/**
 * A column's PostgreSQL type: the typname change events give (`int4`, `text`, `timestamptz`, `_text`
 * for text[], …), optionally with the column's collation (`C`, `POSIX`, `en_US`, …; unset means the
 * database default, which the client only knows through `EvaluateOptions.textOrder`).
 */
export interface ColumnType {
  type: string;
  collation?: string;
  /** The locale case folding follows (ilike, imatch) when it differs from the collation's (libc lc_ctype). */
  ctype?: string;
}

/** Types by column name; a bare string is the typname. Columns left out are inferred conservatively. */
export type ColumnTypes = Readonly<Record<string, string | ColumnType>>;

/** What the client knows about the database beyond column types. */
export interface EvaluateOptions {
  /**
   * How the database's DEFAULT collation orders text: `codepoint` when it is C / POSIX (byte order of
   * UTF-8 equals code point order, and only ASCII letters change case). Default `unknown`: text order,
   * ilike and imatch on columns without an explicit C/POSIX collation are then not exact.
   */
  textOrder?: 'codepoint' | 'unknown';
  /**
   * The session TimeZone PostgREST's connections use, when it is UTC. Needed only to read timestamptz
   * literals without an offset (`2026-01-01T10:00`) and dates compared with them. Default `unknown`.
   */
  timeZone?: 'UTC' | 'unknown';
}

/** The rows window a request asks for: `offset` rows skipped, at most `limit` (null: no limit) kept. */
export interface RowWindow {
  offset: number;
  limit: number | null;
}

/**
 * A request turned into functions over rows. When `exact` is false the functions still work on the
 * parts they understand, but their answer may differ from PostgREST's: callers must refetch instead.
 */
export interface CompiledQuery {
  /** True when matches/compare/project/window reproduce PostgREST's answer for every row. */
  exact: boolean;
  /** Why the query is not exact, one short phrase per cause (empty when exact). */
  reasons: string[];
  /** True when the row passes every filter (SQL three-valued logic: unknown does not pass). */
  matches(row: Row): boolean;
  /** The request's `order`; 0 for rows it does not distinguish (callers break ties by primary key). */
  compare(a: Row, b: Row): number;
  /** The row shaped by the `select` list: selected keys only, in PostgREST's key order. */
  project(row: Row): Row;
  /** Offset and limit from `limit` / `offset` or a Range header. */
  window: RowWindow;
  /** Columns the filters read (top level and inside logic trees), each once. */
  filterColumns: string[];
  /** Columns the order reads. */
  orderColumns: string[];
}
