/**
 * Filter conditions only PostgreSQL can evaluate exactly (text order under a linguistic collation,
 * a nondeterministic collation's equality, like / ilike / match / imatch, types without an exact
 * comparison here): evaluated in SQL, one query per filter, subscriber group and chunk of a batch's
 * rows (only rows that group may see: dispatch.ts).
 *
 * Safety: the client's values are bind parameters, always. What is spliced into the query text comes
 * from the catalog (PostgreSQL's own `format_type` and quoted collation names) and from the fixed
 * operator table, never from the client.
 *
 * Isolation: a client chooses its patterns, and a regular expression with backreferences can take
 * seconds per row. Filters are evaluated on their own pool whose sessions carry a short
 * `statement_timeout` (the server's `filterTimeoutMs`), in chunks of rows; a filter that runs out
 * of time throws FilterTimeoutError, and the server refuses it for its subscribers.
 */
import type { Queryable } from '../authorization/index.js';
import { SQL_OPERATORS, type FilterCondition, type RowPredicate, type RowText, type SqlCondition } from '../filters/index.js';

/** How a column is named in SQL casts: its base type without typmod and its collation, both quoted by PostgreSQL. */
export interface SqlColumnType {
  /** `format_type(base type, null)`, e.g. `text`, `character varying`, `public."My Enum"`. */
  type: string;
  /** `"schema"."collation"` for a non-default collation, else null. */
  collation: string | null;
}

/** A filter's query ran longer than the evaluation sessions' statement_timeout (SQLSTATE 57014). */
export class FilterTimeoutError extends Error {
  override readonly name = 'FilterTimeoutError';
  readonly code = 'FILTER_TIMEOUT';
}

/** The SQL part of one binding's filter. */
export interface SqlFilter {
  /** Equal keys evaluate equally: one query per key and batch. */
  readonly key: string;
  /** The conditions evaluated in memory; a row failing them is never sent to SQL. */
  readonly prefilter: RowPredicate;
  /** Columns the SQL conditions read: a row lacking one (unchanged TOAST) does not pass. */
  readonly columns: readonly string[];
  /** The indexes of `rows` that pass the SQL conditions. Rejects FilterTimeoutError when the query ran out of time. */
  evaluate(rows: readonly RowText[]): Promise<Set<number>>;
}

/**
 * Builds the query for `conditions`, then checks the values once (casts, regular expressions) so a
 * bad value is refused at subscribe time with PostgreSQL's message, not at every change.
 */
export async function compileSqlFilter(
  db: Queryable,
  conditions: readonly SqlCondition[],
  prefilter: RowPredicate,
  types: ReadonlyMap<string, SqlColumnType>,
  /** Where evaluations run (sessions with a statement_timeout); default `db`. */
  evaluateOn: Queryable = db,
): Promise<SqlFilter | string> {
  const columns = [...new Set(conditions.map((condition) => condition.condition.column))];
  const slot = new Map(columns.map((column, index) => [column, index]));
  const values: unknown[] = [];
  const param = (value: unknown, cast: string) => {
    values.push(value);
    // $1 is the row indexes, then one text[] per column, then the filter's values.
    return `$${values.length + 1 + columns.length}::${cast}`;
  };
  const checks: string[] = [];
  const checkValues: unknown[] = [];
  const checkParam: Param = (value, cast) => {
    checkValues.push(value);
    return `$${checkValues.length}::${cast}`;
  };
  const clauses = conditions.map(({ condition }) => {
    const column = types.get(condition.column);
    if (!column) throw new Error(`no SQL type for column ${condition.column}`);
    const collate = column.collation ? ` collate ${column.collation}` : '';
    const left = `(r.v${slot.get(condition.column)}::${column.type}${collate})`;
    const clause = sqlCondition(condition, left, column, param);
    checks.push(...valueChecks(condition, column, checkParam));
    return condition.negate ? `not (${clause})` : `(${clause})`;
  });
  const filterValues = values;
  const unnest = ['$1::int4[]', ...columns.map((_, index) => `$${index + 2}::text[]`)].join(', ');
  const names = ['i', ...columns.map((_, index) => `v${index}`)].join(', ');
  const text = `select r.i from unnest(${unnest}) as r(${names}) where ${clauses.join(' and ')}`;
  try {
    if (checks.length > 0) await db.query(`select ${checks.join(', ')}`, checkValues);
    // One row of NULLs: PostgreSQL resolves the operators (`integer ~~ text` does not exist) and casts the values.
    await db.query(text, [[0], ...columns.map(() => [null]), ...filterValues]);
  } catch (error) {
    return (error as Error).message;
  }
  return {
    key: JSON.stringify([text, filterValues]),
    prefilter,
    columns,
    async evaluate(rows) {
      const indexes = rows.map((_, index) => index);
      const columnValues = columns.map((column) => rows.map((row) => row[column] ?? null));
      let result: { rows: Array<{ i: number }> };
      try {
        result = (await evaluateOn.query(text, [indexes, ...columnValues, ...filterValues])) as { rows: Array<{ i: number }> };
      } catch (error) {
        if ((error as { code?: unknown })?.code === '57014') throw new FilterTimeoutError((error as Error).message);
        throw error;
      }
      return new Set(result.rows.map((row) => row.i));
    },
  };
}

type Param = (value: unknown, cast: string) => string;

function sqlCondition(condition: FilterCondition, left: string, column: SqlColumnType, param: Param): string {
  const operator = SQL_OPERATORS[condition.operator];
  switch (condition.operator) {
    case 'in':
      return `${left} = any(${param(condition.values, 'text[]')}::${column.type}[])`;
    case 'like':
    case 'ilike':
    case 'match':
    case 'imatch':
      // Patterns apply to the text form, as PostgREST's `like` does on a text column.
      return `${left} ${operator} ${param(condition.value, 'text')}`;
    case 'is':
      throw new Error('IS conditions are evaluated in memory');
    default:
      return `${left} ${operator} ${param(condition.value, 'text')}::${column.type}`;
  }
}

/** Expressions that fail on a bad value: its cast, or compiling its regular expression. */
function valueChecks(condition: FilterCondition, column: SqlColumnType, param: Param): string[] {
  switch (condition.operator) {
    case 'in':
      return [`${param(condition.values, 'text[]')}::${column.type}[]`];
    case 'match':
    case 'imatch':
      return [`'' ${SQL_OPERATORS[condition.operator]} ${param(condition.value, 'text')}`];
    case 'like':
    case 'ilike':
    case 'is':
      return [];
    default:
      return [`${param(condition.value, 'text')}::${column.type}`];
  }
}
