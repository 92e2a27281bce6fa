import { PostgrestBuilderError } from '../errors.js';
import { FilterChain, groupBody, type ColumnName, type ConditionCallback } from './filterChain.js';
import { toQueryPair, type Condition } from './filters.js';
import { assertName, cleanColumns, scopedKey } from './names.js';
import { booleanOption, countOfRows, countOption, readOptions } from './options.js';
import { compileRequest, setPair, type BuilderState } from './state.js';
import { explainOptimistic } from '../request/request.js';
import type { CountMethod, CountedRows, CountedValue, OptimisticOptions, PostgrestRequest, ResultShape, ToPostgrestRequest } from '../request/types.js';

/** Result shapes at the type level; `value` is an rpc returning a scalar or an object. */
export type DataShape = ResultShape | 'value';

/** The data a request resolves with, from its row type and how it was built. */
export type DataOf<Row, Shape extends DataShape, Returns extends boolean, Counted extends boolean> =
  Counted extends true ? (Shape extends 'value' ? (unknown extends Row ? CountedRows<unknown> | CountedValue<unknown> : CountedValue<Row>) : CountedRows<Row>)
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
  select<NewRow = Row>(columns?: string): PostgrestBuilder<NewRow, Shape, true, Counted>;
  select<NewRow = Row>(columns: string | undefined, options: { count: CountMethod; head: true }): PostgrestBuilder<NewRow, Shape, false, true>;
  select<NewRow = Row>(columns: string | undefined, options: { count: CountMethod; head?: false }): PostgrestBuilder<NewRow, Shape, true, true>;
  select<NewRow = Row>(columns: string | undefined, options: { count?: undefined; head: true }): PostgrestBuilder<NewRow, Shape, false, Counted>;
  select<NewRow = Row>(columns?: string, options?: SelectOptions): PostgrestBuilder<NewRow, Shape, boolean, boolean>;
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

  /** Rows matching any condition: a raw PostgREST string (`'a.eq.1,b.gt.2'`) or a callback. */
  or(filters: string | ConditionCallback<Row>, options?: ReferencedTableOptions): PostgrestBuilder<Row, Shape, Returns, Counted> {
    return this.group('or', filters, options);
  }

  /** Rows matching every condition; useful inside `or` or on a referenced table. */
  and(filters: string | ConditionCallback<Row>, options?: ReferencedTableOptions): PostgrestBuilder<Row, Shape, Returns, Counted> {
    return this.group('and', filters, options);
  }

  private group(op: 'or' | 'and', filters: string | ConditionCallback<Row>, options: ReferencedTableOptions | undefined) {
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

  /** The plain, JSON-serializable request; a fresh object on every call. */
  toRequest(): PostgrestRequest {
    return compileRequest(this.state);
  }
}

