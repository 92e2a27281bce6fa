/**
 * postgres_changes filters: parse a binding's `filter` (parser.ts) and compile it against the
 * table's columns into a predicate over a row's text values as pgoutput sends them, with
 * PostgreSQL's semantics for the column type. Where only PostgreSQL can answer exactly (collations,
 * types without an exact comparison here, value forms we do not read), the compiled filter says
 * so and lists those conditions for the server to evaluate in SQL: never a wrong answer.
 *
 * Semantics mirrored from SQL: each condition is true, false or NULL; a row passes when every
 * condition is true (a NULL column never passes eq/neq/lt/.../in, nor their negation). `in` is
 * `= any(array)`: a NULL element makes a miss NULL, and an empty list is false even for NULL.
 */
import { domainFor } from './domains.js';
import { RealtimeFilterError } from './errors.js';
import type { FilterCondition, FilterOperator, ParsedFilter } from './parser.js';
import { NEEDS_SQL, ValueRejected, type ValueDomain } from '../../../protocol/pgValueDomain.js';

export { parseFilter, FILTER_OPERATORS, MAX_IN_VALUES, MAX_FILTER_LENGTH, MAX_CONDITIONS } from './parser.js';
export type { FilterCondition, FilterOperator, IsValue, ParsedFilter } from './parser.js';
export { RealtimeFilterError, isRealtimeFilterError, type RealtimeFilterErrorCode } from './errors.js';

export interface FilterColumn {
  name: string;
  /** pg_type.typname of the column's base type (domains resolved), as pgoutput's Relation gives it. */
  typname: string;
  /** This column's collation orders by code point (or not); overrides the option of the same name. */
  textOrderIsCodepoint?: boolean;
  /** The column's collation is nondeterministic (e.g. case-insensitive ICU): equal is not byte-equal. */
  nondeterministicCollation?: boolean;
}

export interface CompileOptions {
  /** Text columns collate by code point (C, C.UTF-8, ucs_basic): lt/gt on text can be evaluated here. */
  textOrderIsCodepoint: boolean;
  /**
   * The TimeZone of the session PostgreSQL would evaluate the filter in. A timestamptz value without
   * a zone (`2026-01-01`) means midnight there; it is read here only when this is UTC, else in SQL.
   */
  timeZone?: string;
}

/** A row as pgoutput gives it: each column's text output; null for NULL; undefined when not sent. */
export type RowText = Readonly<Record<string, string | null | undefined>>;
/** True when the row passes. A column missing from the row (unchanged TOAST) never passes. */
export type RowPredicate = (row: RowText) => boolean;

/** A condition that PostgreSQL must evaluate, and why. */
export interface SqlCondition {
  condition: FilterCondition;
  typname: string;
  /** type: no exact comparison here; collation: text order or equality by collation; operator: like/match; value: a form we do not read. */
  reason: 'type' | 'collation' | 'operator' | 'value';
  /** False when the values were not validated here: the server must cast them at subscribe time to reject bad input. */
  valuesChecked: boolean;
}

export type CompiledFilter =
  | { kind: 'memory'; columns: string[]; matches: RowPredicate }
  /** Rows failing `prefilter` (the conditions evaluated here) never pass; the others need `sql`. */
  | { kind: 'sql'; columns: string[]; prefilter: RowPredicate; sql: SqlCondition[] };

/** SQL operator of each filter operator; `in` is `= any ($n::type[])`, `is` takes its keyword. */
export const SQL_OPERATORS: Readonly<Record<FilterOperator, string>> = {
  eq: '=', neq: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=', in: '= any', is: 'is', isdistinct: 'is distinct from',
  like: 'like', ilike: 'ilike', match: '~', imatch: '~*',
};

type Truth = boolean | null;
type Evaluator = (row: RowText) => Truth;

const ORDERING: ReadonlySet<FilterOperator> = new Set(['lt', 'lte', 'gt', 'gte']);
const PATTERN: ReadonlySet<FilterOperator> = new Set(['like', 'ilike', 'match', 'imatch']);

/** Compiles a parsed filter against the table's columns; returns the error to report on bad input. */
export function compileFilter(parsed: ParsedFilter, columns: readonly FilterColumn[], options: CompileOptions): CompiledFilter | RealtimeFilterError {
  if (!parsed || !Array.isArray(parsed.conditions)) throw new TypeError('compileFilter: parsed must be what parseFilter returned');
  if (!Array.isArray(columns)) throw new TypeError('compileFilter: columns must be an array of { name, typname }');
  const byName = new Map(columns.map((column) => [column.name, column]));
  const evaluators: Evaluator[] = [];
  const sql: SqlCondition[] = [];
  for (const condition of parsed.conditions) {
    const column = byName.get(condition.column);
    if (!column) return new RealtimeFilterError('FILTER_UNKNOWN_COLUMN', `invalid column for filter ${condition.column}`);
    const compiled = compileCondition(condition, column, options);
    if (compiled instanceof RealtimeFilterError) return compiled;
    if (typeof compiled === 'function') evaluators.push(compiled);
    else sql.push(compiled);
  }
  const names = [...new Set(parsed.conditions.map((condition) => condition.column))];
  const all: RowPredicate = (row) => {
    for (let i = 0; i < evaluators.length; i++) if (evaluators[i]!(row) !== true) return false;
    return true;
  };
  return sql.length === 0 ? { kind: 'memory', columns: names, matches: all } : { kind: 'sql', columns: names, prefilter: all, sql };
}

function compileCondition(condition: FilterCondition, column: FilterColumn, options: CompileOptions): Evaluator | SqlCondition | RealtimeFilterError {
  const { typname } = column;
  const toSql = (reason: SqlCondition['reason'], valuesChecked: boolean): SqlCondition => ({ condition, typname, reason, valuesChecked });
  const name = condition.column;
  let evaluator: Evaluator;

  if (condition.operator === 'is') {
    const value = condition.value;
    if (value !== 'null' && value !== 'not_null' && typname !== 'bool') {
      return new RealtimeFilterError('FILTER_UNSUPPORTED_OPERATOR', `argument of IS ${value.toUpperCase()} must be type boolean, not type ${typname}`);
    }
    const wanted = value === 'true' ? 't' : value === 'false' ? 'f' : null;
    evaluator = (row) => {
      const text = row[name];
      if (text === undefined) return null;
      if (value === 'not_null') return text !== null;
      return text === wanted;
    };
  } else if (PATTERN.has(condition.operator)) {
    return toSql('operator', false);
  } else if (typname === 'json') {
    return new RealtimeFilterError('FILTER_UNSUPPORTED_OPERATOR', `operator does not exist: json ${SQL_OPERATORS[condition.operator]} json`);
  } else {
    const choice = domainFor(typname, options.timeZone);
    if (!choice) return toSql('type', false);
    const texts = condition.operator === 'in' ? condition.values : [condition.value];
    const keys: unknown[] = [];
    let hasNull = false;
    let unread = false;
    for (const text of texts) {
      if (text === null) {
        hasNull = true;
        continue;
      }
      const key = choice.domain.parse(text);
      if (key instanceof ValueRejected) return new RealtimeFilterError('FILTER_INVALID_VALUE', key.message);
      if (key === NEEDS_SQL) unread = true;
      else keys.push(key);
    }
    if (unread) return toSql('value', false);
    if (choice.collated) {
      const codepoint = column.textOrderIsCodepoint ?? options.textOrderIsCodepoint;
      if (column.nondeterministicCollation || (!codepoint && ORDERING.has(condition.operator))) return toSql('collation', true);
    }
    evaluator = comparison(condition.operator, name, choice.domain, keys, hasNull);
  }
  return condition.negate ? negated(evaluator) : evaluator;
}

/** eq/neq/lt/lte/gt/gte/isdistinct against one key, `in` against a list (maybe with NULLs). */
function comparison(operator: FilterOperator, name: string, domain: ValueDomain<unknown>, keys: unknown[], hasNull: boolean): Evaluator {
  const { read, compare } = domain;
  if (operator === 'in') {
    // x = any('{}') is false even when x is NULL.
    if (keys.length === 0 && !hasNull) return () => false;
    return (row) => {
      const text = row[name];
      if (text === null || text === undefined) return null;
      const value = read(text);
      for (let i = 0; i < keys.length; i++) if (compare(value, keys[i]) === 0) return true;
      return hasNull ? null : false;
    };
  }
  const key = keys[0];
  if (operator === 'isdistinct') {
    return (row) => {
      const text = row[name];
      if (text === undefined) return null;
      return text === null || compare(read(text), key) !== 0;
    };
  }
  const test = ORDER_TESTS[operator];
  if (!test) throw new Error(`no comparison for operator ${operator}`);
  return (row) => {
    const text = row[name];
    if (text === null || text === undefined) return null;
    return test(compare(read(text), key));
  };
}

const ORDER_TESTS: Partial<Record<FilterOperator, (order: number) => boolean>> = {
  eq: (order) => order === 0,
  neq: (order) => order !== 0,
  lt: (order) => order < 0,
  lte: (order) => order <= 0,
  gt: (order) => order > 0,
  gte: (order) => order >= 0,
};

function negated(evaluator: Evaluator): Evaluator {
  return (row) => {
    const truth = evaluator(row);
    return truth === null ? null : !truth;
  };
}
