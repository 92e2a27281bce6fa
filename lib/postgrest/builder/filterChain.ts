import { PostgrestBuilderError, describeValue } from '../errors.js';
import { buildCondition, toTreeCondition, type Condition, type FilterOperator } from './filters.js';
import { assertWellFormed, type ContainerValue, type FilterValue, type ScalarValue } from './values.js';

/** A path through an embedded table (`authors.name`), into JSON (`data->>key`) or a cast (`price::text`). */
export type ColumnPath = `${string}.${string}` | `${string}->${string}` | `${string}::${string}`;

/**
 * A column of `Row` or a column path. For an untyped row (`Record<string, unknown>`, `unknown`) any
 * string; for a typed one (a generated `Database`, `from<Post>()`) a misspelt column fails to compile.
 */
export type ColumnName<Row> = unknown extends Row ? string : string extends keyof Row ? string : (keyof Row & string) | ColumnPath;

/** Text search flavours: `fts` (to_tsquery), `plfts`, `phfts`, `wfts`. */
export interface TextSearchOptions {
  config?: string;
  type?: 'plain' | 'phrase' | 'websearch';
}

const TEXT_SEARCH_OPERATORS = { plain: 'plfts', phrase: 'phfts', websearch: 'wfts' } as const;

/**
 * The filter methods shared by request builders and the `or` / `and` condition builder. Every method
 * returns a new `Self`; nothing is mutated.
 */
export abstract class FilterChain<Self, Row> {
  /** Returns a copy of this builder with one more condition. */
  protected abstract withCondition(condition: Condition): Self;

  /** `column = value`; `null` becomes `is.null`. */
  eq(column: ColumnName<Row>, value: FilterValue): Self {
    return this.withCondition(buildCondition(column, 'eq', value));
  }

  /** `column <> value`; `null` becomes `not.is.null`. */
  neq(column: ColumnName<Row>, value: FilterValue): Self {
    return this.withCondition(buildCondition(column, 'neq', value));
  }

  /** `column > value`. */
  gt(column: ColumnName<Row>, value: ScalarValue): Self {
    return this.withCondition(buildCondition(column, 'gt', value));
  }

  /** `column >= value`. */
  gte(column: ColumnName<Row>, value: ScalarValue): Self {
    return this.withCondition(buildCondition(column, 'gte', value));
  }

  /** `column < value`. */
  lt(column: ColumnName<Row>, value: ScalarValue): Self {
    return this.withCondition(buildCondition(column, 'lt', value));
  }

  /** `column <= value`. */
  lte(column: ColumnName<Row>, value: ScalarValue): Self {
    return this.withCondition(buildCondition(column, 'lte', value));
  }

  /** `column LIKE pattern`; PostgREST reads `*` as `%`. */
  like(column: ColumnName<Row>, pattern: string): Self {
    return this.withCondition(buildCondition(column, 'like', pattern));
  }

  /** `column ILIKE pattern`; PostgREST reads `*` as `%`. */
  ilike(column: ColumnName<Row>, pattern: string): Self {
    return this.withCondition(buildCondition(column, 'ilike', pattern));
  }

  /** `column IS null | true | false | unknown`. */
  is(column: ColumnName<Row>, value: null | boolean | 'unknown'): Self {
    return this.withCondition(buildCondition(column, 'is', value));
  }

  /** `column IN (values)`; null is rejected because IN never matches it. */
  in(column: ColumnName<Row>, values: readonly ScalarValue[]): Self {
    return this.withCondition(buildCondition(column, 'in', values));
  }

  /** `column @> value` for arrays, ranges and jsonb. */
  contains(column: ColumnName<Row>, value: ContainerValue): Self {
    return this.withCondition(buildCondition(column, 'cs', value));
  }

  /** `column <@ value`. */
  containedBy(column: ColumnName<Row>, value: ContainerValue): Self {
    return this.withCondition(buildCondition(column, 'cd', value));
  }

  /** `column && value` (arrays and ranges overlap). */
  overlaps(column: ColumnName<Row>, value: ContainerValue): Self {
    return this.withCondition(buildCondition(column, 'ov', value));
  }

  /** Range strictly right of `range` (`sr`). */
  rangeGt(column: ColumnName<Row>, range: string): Self {
    return this.withCondition(buildCondition(column, 'sr', range));
  }

  /** Range does not extend left of `range` (`nxl`). */
  rangeGte(column: ColumnName<Row>, range: string): Self {
    return this.withCondition(buildCondition(column, 'nxl', range));
  }

  /** Range strictly left of `range` (`sl`). */
  rangeLt(column: ColumnName<Row>, range: string): Self {
    return this.withCondition(buildCondition(column, 'sl', range));
  }

  /** Range does not extend right of `range` (`nxr`). */
  rangeLte(column: ColumnName<Row>, range: string): Self {
    return this.withCondition(buildCondition(column, 'nxr', range));
  }

  /** Range is adjacent to `range` (`adj`). */
  rangeAdjacent(column: ColumnName<Row>, range: string): Self {
    return this.withCondition(buildCondition(column, 'adj', range));
  }

  /** Full-text search: `fts`, or `plfts` / `phfts` / `wfts` by `type`, with an optional config. */
  textSearch(column: ColumnName<Row>, query: string, options: TextSearchOptions = {}): Self {
    const base = options.type === undefined ? 'fts' : TEXT_SEARCH_OPERATORS[options.type];
    if (base === undefined) {
      throw new PostgrestBuilderError('INVALID_OPTION', `textSearch type must be 'plain', 'phrase' or 'websearch', got ${describeValue(options.type)}`);
    }
    if (options.config !== undefined && (typeof options.config !== 'string' || /[()]/.test(options.config))) {
      throw new PostgrestBuilderError('INVALID_OPTION', `textSearch config must be a configuration name, got ${describeValue(options.config)}`);
    }
    const operator = options.config === undefined ? base : `${base}(${options.config})`;
    return this.withCondition(buildCondition(column, operator, query));
  }

  /** Negates one filter: `not('status', 'in', ['a', 'b'])` → `status=not.in.(a,b)`. */
  not(column: ColumnName<Row>, operator: FilterOperator | (string & {}), value: unknown): Self {
    return this.withCondition(buildCondition(column, operator, value, true));
  }

  /** Any PostgREST operator by name (`match`, `imatch`, `isdistinct`, `not.eq`, `fts(english)`, `like(any)`). */
  filter(column: ColumnName<Row>, operator: FilterOperator | (string & {}), value: unknown): Self {
    return this.withCondition(buildCondition(column, operator, value));
  }

  /** `eq` for every entry of `query`. */
  match(query: { [K in keyof Row]?: FilterValue } | Record<string, FilterValue>): Self {
    if (typeof query !== 'object' || query === null || Array.isArray(query)) {
      throw new PostgrestBuilderError('INVALID_VALUE', `match() needs an object of column → value, got ${describeValue(query)}`);
    }
    let next: Self | undefined;
    for (const [column, value] of Object.entries(query)) {
      const condition = buildCondition(column, 'eq', value);
      next = next === undefined ? this.withCondition(condition) : (next as FilterChain<Self, Row>).withCondition(condition);
    }
    if (next === undefined) throw new PostgrestBuilderError('INVALID_VALUE', 'match() needs at least one column');
    return next;
  }
}

/** Builds the conditions of one `or(...)` / `and(...)` group. */
export type ConditionCallback<Row> = (q: ConditionBuilder<Row>) => ConditionBuilder<Row>;

let readConditions: (builder: ConditionBuilder<unknown>) => readonly string[];

/** Collects conditions for a logic tree; `or` / `and` nest. Immutable like the request builders. */
export class ConditionBuilder<Row> extends FilterChain<ConditionBuilder<Row>, Row> {
  readonly #conditions: readonly string[];

  static {
    readConditions = (builder) => builder.#conditions;
  }

  /** @internal Use the callback of `or` / `and`. */
  constructor(conditions: readonly string[] = []) {
    super();
    this.#conditions = conditions;
  }

  protected override withCondition(condition: Condition): ConditionBuilder<Row> {
    return new ConditionBuilder<Row>([...this.#conditions, toTreeCondition(condition)]);
  }

  /** A nested `or(...)` group. */
  or(filters: string | ConditionCallback<Row>): ConditionBuilder<Row> {
    return new ConditionBuilder<Row>([...this.#conditions, `or(${groupBody(filters, 'or')})`]);
  }

  /** A nested `and(...)` group. */
  and(filters: string | ConditionCallback<Row>): ConditionBuilder<Row> {
    return new ConditionBuilder<Row>([...this.#conditions, `and(${groupBody(filters, 'and')})`]);
  }
}

/**
 * The inside of a logic group: a raw PostgREST string passed through verbatim (as postgrest-js does,
 * so the caller owns its quoting), or the conditions a callback built, comma-separated.
 */
export function groupBody<Row>(filters: string | ConditionCallback<Row>, op: 'or' | 'and'): string {
  if (typeof filters === 'string') {
    if (filters.trim() === '') throw new PostgrestBuilderError('INVALID_CONDITION', `${op}() needs a non-empty filter string`);
    return assertWellFormed(filters, op);
  }
  if (typeof filters !== 'function') {
    throw new PostgrestBuilderError('INVALID_CONDITION', `${op}() needs a filter string or a callback, got ${describeValue(filters)}`);
  }
  const built: unknown = filters(new ConditionBuilder<Row>());
  if (!(built instanceof ConditionBuilder)) {
    throw new PostgrestBuilderError(
      'INVALID_CONDITION',
      `the ${op}() callback must return the builder it built (builders are immutable), got ${describeValue(built)}`,
    );
  }
  const conditions = readConditions(built);
  if (conditions.length === 0) throw new PostgrestBuilderError('INVALID_CONDITION', `the ${op}() callback added no conditions`);
  return conditions.join(',');
}
