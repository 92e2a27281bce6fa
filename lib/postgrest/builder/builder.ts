import { PostgrestBuilderError } from '../errors.js';
import { FilterChain, groupBody, type ColumnName, type ConditionCallback } from './filterChain.js';
import { toQueryPair, type Condition } from './filters.js';
import { assertName, cleanColumns, scopedKey } from './names.js';
import { booleanOption, countOfRows, countOption, readOptions } from './options.js';
import type { SelectColumns } from './selectColumns.js';
import { compileRequest, explainCombination, setPair, type BuilderState } from './state.js';
import { explainState, withHeader, type ExplainOptions } from './transport.js';
import { explainOptimistic } from '../request/request.js';
import type { CountMethod, CountedRows, CountedValue, OptimisticOptions, PostgrestRequest, ResultShape, ToPostgrestRequest } from '../request/types.js';

/**
 * Result shapes at the type level; `value` is an rpc returning a scalar or an object, `plan` a JSON
 * `explain()` plan, `geojson` a `geojson()` document (`text`: CSV or a text plan).
 */
export type DataShape = ResultShape | 'value' | 'plan' | 'geojson';

/** The data a request resolves with, from its row type and how it was built. */
export type DataOf<Row, Shape extends DataShape, Returns extends boolean, Counted extends boolean> =
  Shape extends 'text' ? string
  : Shape extends 'plan' ? Array<Record<string, unknown>>
  : Shape extends 'geojson' ? Record<string, unknown>
  : Shape extends 'json' ? unknown
  : Counted extends true ? (Shape extends 'value' ? (unknown extends Row ? CountedRows<unknown> | CountedValue<unknown> : CountedValue<Row>) : CountedRows<Row>)
  : Returns extends false ? null
  : Shape extends 'single' ? Row
  : Shape extends 'maybeSingle' ? Row | null
  : Shape extends 'value' ? Row
  : Row[];

/** Type-only key carrying a builder's data type; never present at runtime. */
export declare const resultType: unique symbol;

/** The data type a builder resolves with: `ResultOf<typeof query>`. */
export type ResultOf<B> = B extends { readonly [resultType]: infer Data } ? Data : never;

/** Options of `select`. `head` (reads only) sends HEAD: no rows, only the count. */
export interface SelectOptions {
  count?: CountMethod;
  head?: boolean;
}

/** Options of `order`. `nullsFirst` unset leaves PostgreSQL's default. */
export interface OrderOptions {
  ascending?: boolean;
  nullsFirst?: boolean;
  referencedTable?: string;
}

/** Options of modifiers that can target an embedded resource instead of the top level. */
export interface ReferencedTableOptions {
  referencedTable?: string;
}

/** The row an `or` / `and` callback filters: `Row`, or an untyped row of a referenced table. */
export type GroupRow<Row, O> = O extends { referencedTable: string } ? Record<string, unknown> : Row;

/** The row type `returns<T>()` / `overrideTypes<T>()` give: for a row set, T may be the row or the array of rows. */
export type RowOfResult<Shape extends DataShape, T> = Shape extends 'many' ? (T extends readonly (infer Item)[] ? Item : T) : T;

type IsPlainObject<T> = [T] extends [readonly unknown[]] ? false : [T] extends [(...args: never[]) => unknown] ? false : [T] extends [object] ? true : false;

/** `New` over `Old` as postgrest-js merges them: object fields merge recursively, anything else is replaced. */
export type MergeTypes<Old, New> =
  IsPlainObject<Old> extends true
    ? IsPlainObject<New> extends true
      ? { [K in keyof Old | keyof New]: K extends keyof New ? (K extends keyof Old ? MergeTypes<Old[K], New[K]> : New[K]) : K extends keyof Old ? Old[K] : never }
      : New
    : New;

/** Options of `overrideTypes`: `merge: false` replaces the row type instead of merging into it. */
export interface OverrideTypesOptions {
  merge?: boolean;
}

const WRITE_ACTIONS = new Set(['insert', 'update', 'upsert', 'delete']);

/**
 * An immutable PostgREST request under construction: every method returns a new builder and leaves
 * this one unchanged, so a base query can be branched freely. `toRequest()` gives the plain request.
 */
export class PostgrestBuilder<Row, Shape extends DataShape = 'many', Returns extends boolean = true, Counted extends boolean = false>
  extends FilterChain<PostgrestBuilder<Row, Shape, Returns, Counted>, Row>
  implements ToPostgrestRequest
{
  declare readonly [resultType]: DataOf<Row, Shape, Returns, Counted>;

  /** @internal */
  protected readonly state: BuilderState;

  /** @internal Use `from()` or `rpc()`. */
  constructor(state: BuilderState) {
    super();
    const problem = explainCombination(state);
    if (problem !== null) throw new PostgrestBuilderError('INVALID_OPTION', problem);
    this.state = state;
  }

  /** A copy of this builder with `patch` applied to its state. */
  protected next<R = Row, S extends DataShape = Shape, Ret extends boolean = Returns, C extends boolean = Counted>(
    patch: Partial<BuilderState>,
  ): PostgrestBuilder<R, S, Ret, C> {
    return new PostgrestBuilder<R, S, Ret, C>({ ...this.state, ...patch });
  }

  protected override withCondition(condition: Condition): PostgrestBuilder<Row, Shape, Returns, Counted> {
    return this.next({ filters: [...this.state.filters, toQueryPair(condition)] });
  }

  /**
   * Columns to return. On reads it sets the `select` parameter; after a write it also asks PostgREST to
   * return the written rows (`Prefer: return=representation`) and the method stays the write's.
   */
  select<NewRow = Row, C extends string = string>(columns?: SelectColumns<Row, C>): PostgrestBuilder<NewRow, Shape, true, Counted>;
  select<NewRow = Row, C extends string = string>(columns: SelectColumns<Row, C> | undefined, options: { count: CountMethod; head: true }): PostgrestBuilder<NewRow, Shape, false, true>;
  select<NewRow = Row, C extends string = string>(columns: SelectColumns<Row, C> | undefined, options: { count: CountMethod; head?: false }): PostgrestBuilder<NewRow, Shape, true, true>;
  select<NewRow = Row, C extends string = string>(columns: SelectColumns<Row, C> | undefined, options: { count?: undefined; head: true }): PostgrestBuilder<NewRow, Shape, false, Counted>;
  select<NewRow = Row, C extends string = string>(columns?: SelectColumns<Row, C>, options?: SelectOptions): PostgrestBuilder<NewRow, Shape, boolean, boolean>;
  select(columns: string = '*', options?: SelectOptions): PostgrestBuilder<unknown, Shape, boolean, boolean> {
    const opts = readOptions(options, ['count', 'head'], 'select()');
    const count = countOption(opts.count, 'select()') ?? this.state.count;
    const head = booleanOption(opts.head, 'head', 'select()');
    const cleaned = cleanColumns(columns);
    if (WRITE_ACTIONS.has(this.state.action) || this.state.action === 'rpc') {
      if (head !== undefined) {
        const fix = this.state.action === 'rpc' ? 'pass { head: true } to rpc()' : 'writes always send their own method';
        throw new PostgrestBuilderError('INVALID_OPTION', `select(): head is only for table reads; ${fix}`);
      }
      return this.next({ columns: cleaned, returning: true, count });
    }
    const method = head === undefined ? this.state.method : head ? 'HEAD' : 'GET';
    return this.next({ columns: cleaned, count, method });
  }

  /** Adds an ordering term; repeated calls accumulate into one `order` parameter per table. */
  order(column: ColumnName<Row>, options?: OrderOptions): PostgrestBuilder<Row, Shape, Returns, Counted> {
    const opts = readOptions(options, ['ascending', 'nullsFirst', 'referencedTable'], 'order()');
    const ascending = booleanOption(opts.ascending, 'ascending', 'order()') ?? true;
    const nullsFirst = booleanOption(opts.nullsFirst, 'nullsFirst', 'order()');
    const nulls = nullsFirst === undefined ? '' : nullsFirst ? '.nullsfirst' : '.nullslast';
    const term = `${assertName(column, 'order() column')}.${ascending ? 'asc' : 'desc'}${nulls}`;
    const key = scopedKey('order', opts.referencedTable);
    const terms = this.state.orders.find(([k]) => k === key)?.[1] ?? [];
    return this.next({ orders: setPair(this.state.orders, key, [...terms, term]) });
  }

  /** At most `count` rows (of a referenced table when given); calling it again replaces the limit. */
  limit(count: number, options?: ReferencedTableOptions): PostgrestBuilder<Row, Shape, Returns, Counted> {
    const opts = readOptions(options, ['referencedTable'], 'limit()');
    const limit = countOfRows(count, 'count', 'limit()');
    return this.next({ paging: setPair(this.state.paging, scopedKey('limit', opts.referencedTable), String(limit)) });
  }

  /** Rows `from` to `to`, both inclusive and zero-based (→ `offset` and `limit`); replaces earlier ones. */
  range(from: number, to: number, options?: ReferencedTableOptions): PostgrestBuilder<Row, Shape, Returns, Counted> {
    const opts = readOptions(options, ['referencedTable'], 'range()');
    const start = countOfRows(from, 'from', 'range()');
    const end = countOfRows(to, 'to', 'range()');
    if (end < start) throw new PostgrestBuilderError('INVALID_OPTION', `range(): to (${end}) must not be less than from (${start})`);
    const withOffset = setPair(this.state.paging, scopedKey('offset', opts.referencedTable), String(start));
    return this.next({ paging: setPair(withOffset, scopedKey('limit', opts.referencedTable), String(end - start + 1)) });
  }

  /** Exactly one row as an object; PostgREST answers 406 for zero or several. */
  single(): PostgrestBuilder<Row, 'single', Returns, Counted> {
    return this.next({ result: 'single' });
  }

  /** Zero or one row; the base query turns zero rows into null and several into an error. */
  maybeSingle(): PostgrestBuilder<Row, 'maybeSingle', Returns, Counted> {
    return this.next({ result: 'maybeSingle' });
  }

  /**
   * Rows matching any condition: a raw PostgREST string (`'a.eq.1,b.gt.2'`) or a callback. With
   * `referencedTable` the callback's columns are that table's, so they are not checked against `Row`.
   */
  or<O extends ReferencedTableOptions = {}>(filters: string | ConditionCallback<GroupRow<Row, O>>, options?: O): PostgrestBuilder<Row, Shape, Returns, Counted> {
    return this.group('or', filters, options);
  }

  /** Rows matching every condition; useful inside `or` or on a referenced table. */
  and<O extends ReferencedTableOptions = {}>(filters: string | ConditionCallback<GroupRow<Row, O>>, options?: O): PostgrestBuilder<Row, Shape, Returns, Counted> {
    return this.group('and', filters, options);
  }

  private group<R>(op: 'or' | 'and', filters: string | ConditionCallback<R>, options: ReferencedTableOptions | undefined) {
    const opts = readOptions(options, ['referencedTable'], `${op}()`);
    const pair = [scopedKey(op, opts.referencedTable), `(${groupBody(filters, op)})`] as const;
    return this.next({ filters: [...this.state.filters, pair] });
  }

  /**
   * Makes a write optimistic: with a sync middleware, the cached reads and live entries of its table
   * show it at once (as a layer over server state) until the server's rows replace it, or a failure
   * rolls back its own effect. `conflict` (update and delete): send it only if the row still has the
   * value of `column` this client saw, and settle a conflict by `strategy`.
   */
  optimistic(options: OptimisticOptions = {}): PostgrestBuilder<Row, Shape, Returns, Counted> {
    const problem = explainOptimistic(options, this.state.action, 'optimistic()');
    if (problem !== null) throw new PostgrestBuilderError('INVALID_OPTION', problem);
    return this.next({ optimistic: structuredClone(options) });
  }

  /**
   * Sends `name: value` with this request (part of its cache key). Setting a name again replaces it
   * (case-insensitive). Headers the library composes (Prefer, Accept, Content-Type, the profile
   * headers, Authorization, apikey, transport headers) are rejected: use the method that sets them.
   */
  setHeader(name: string, value: string): PostgrestBuilder<Row, Shape, Returns, Counted> {
    return this.next({ headers: withHeader(this.state.headers, name, value) });
  }

  /**
   * Runs the request and rolls its transaction back (`Prefer: tx=rollback`): a write answers as if
   * made, but nothing stays. PostgREST applies it only with `db-tx-end = commit-allow-override` (or
   * `rollback-allow-override`); a default PostgREST ignores it and COMMITS (the dev stack allows it).
   */
  rollback(): PostgrestBuilder<Row, Shape, Returns, Counted> {
    return this.next({ rollback: true });
  }

  /**
   * Fails the write, rolling it back, when it would touch more than `count` rows (`Prefer:
   * handling=strict, max-affected=n`). Update, delete and POST rpc only. PostgREST 12.2+ enforces it;
   * older servers answer 400 PGRST122 ("Invalid preferences given with handling=strict") and write nothing.
   */
  maxAffected(count: number): PostgrestBuilder<Row, Shape, Returns, Counted> {
    return this.next({ maxAffected: countOfRows(count, 'count', 'maxAffected()') });
  }

  /** The rows as CSV text (`Accept: text/csv`); the data is a string. Not with single() / maybeSingle(). */
  csv(): PostgrestBuilder<Row, 'text', Returns, Counted> {
    return this.next({ media: 'csv' });
  }

  /** The rows as a GeoJSON FeatureCollection (`Accept: application/geo+json`); needs PostGIS on the server. */
  geojson(): PostgrestBuilder<Row, 'geojson', Returns, Counted> {
    return this.next({ media: 'geojson' });
  }

  /**
   * The query plan instead of the result (`Accept: application/vnd.pgrst.plan+text|json; for="…"`):
   * a string, or PostgreSQL's JSON plan with `format: 'json'`. Needs `db-plan-enabled` on the server
   * (else 415 PGRST107). `analyze` executes the statement: a write is made unless `rollback()` is added.
   */
  explain(options?: ExplainOptions & { format?: 'text' }): PostgrestBuilder<Row, 'text', Returns, Counted>;
  explain(options: ExplainOptions & { format: 'json' }): PostgrestBuilder<Row, 'plan', Returns, Counted>;
  explain(options?: ExplainOptions): PostgrestBuilder<Row, 'text' | 'plan', Returns, Counted>;
  explain(options?: ExplainOptions): PostgrestBuilder<Row, 'text' | 'plan', Returns, Counted> {
    return this.next({ explain: explainState(options) });
  }

  /** Type only: the result's rows are `T` (for a row set, `T` may be the row or the array type). */
  returns<T>(): PostgrestBuilder<RowOfResult<Shape, T>, Shape, Returns, Counted> {
    return this.next({});
  }

  /**
   * Type only: merges `T` into the row type (object fields recursively, as postgrest-js does), or
   * replaces it with `{ merge: false }`. For a row set, `T` may be the row or the array type.
   */
  overrideTypes<T, O extends OverrideTypesOptions = { merge: true }>(): PostgrestBuilder<
    O extends { merge: false } ? RowOfResult<Shape, T> : MergeTypes<Row, RowOfResult<Shape, T>>,
    Shape,
    Returns,
    Counted
  > {
    return this.next({});
  }

  /** The plain, JSON-serializable request; a fresh object on every call. */
  toRequest(): PostgrestRequest {
    return compileRequest(this.state);
  }
}

