import { PostgrestBuilder } from './builder.js';
import { PostgrestBuilderError, describeValue } from '../errors.js';
import { assertName, formatColumnList } from './names.js';
import { booleanOption, countOption, readOptions, schemaOption } from './options.js';
import { initialState, type BuilderState } from './state.js';
import type { CountMethod } from '../request/types.js';
import { isPlainObject, toJsonValue } from './values.js';

/** Options of `from`. */
export interface FromOptions {
  /** Schema other than PostgREST's default (sent as Accept-Profile / Content-Profile). */
  schema?: string;
}

/** Options every write takes. */
export interface WriteOptions {
  count?: CountMethod;
}

/** Options of `insert`. `defaultToNull: false` makes missing columns take their default. */
export interface InsertOptions extends WriteOptions {
  defaultToNull?: boolean;
}

/** Options of `upsert`: the conflict target and whether duplicates are merged or skipped. */
export interface UpsertOptions extends InsertOptions {
  onConflict?: string;
  ignoreDuplicates?: boolean;
}

/** `true` when options ask for a count, at the type level. */
export type CountedBy<O> = O extends { count: CountMethod } ? true : false;

/**
 * The builder `from()` returns: a read of every column until a write method or `select` is called.
 * `Insert` / `Update` are the payload types (a generated `Database`'s, or any part of `Row`).
 */
export class PostgrestTableBuilder<Row, Insert = Partial<Row>, Update = Partial<Row>> extends PostgrestBuilder<Row> {
  /** Inserts one row or many (POST). Rows with differing keys add the `columns` parameter. */
  insert<O extends InsertOptions = {}>(rows: Insert | readonly Insert[], options?: O): PostgrestBuilder<Row, 'many', false, CountedBy<O>> {
    const opts = readOptions<InsertOptions>(options, ['count', 'defaultToNull'], 'insert()');
    return this.write({ action: 'insert', method: 'POST', ...rowsBody(rows, 'insert()'), ...insertPrefs(opts, 'insert()') });
  }

  /** Inserts or updates on conflict (POST with `Prefer: resolution=…`). */
  upsert<O extends UpsertOptions = {}>(rows: Insert | readonly Insert[], options?: O): PostgrestBuilder<Row, 'many', false, CountedBy<O>> {
    const opts = readOptions<UpsertOptions>(options, ['count', 'defaultToNull', 'onConflict', 'ignoreDuplicates'], 'upsert()');
    const ignore = booleanOption(opts.ignoreDuplicates, 'ignoreDuplicates', 'upsert()') ?? false;
    const onConflict = opts.onConflict === undefined ? undefined : conflictTarget(opts.onConflict);
    return this.write({
      action: 'upsert',
      method: 'POST',
      ...rowsBody(rows, 'upsert()'),
      ...insertPrefs(opts, 'upsert()'),
      onConflict,
      resolution: ignore ? 'ignore-duplicates' : 'merge-duplicates',
    });
  }

  /** Updates the rows the filters select (PATCH). Chain filters: without any it updates every row. */
  update<O extends WriteOptions = {}>(values: Update, options?: O): PostgrestBuilder<Row, 'many', false, CountedBy<O>> {
    const opts = readOptions<WriteOptions>(options, ['count'], 'update()');
    if (!isPlainObject(values)) {
      throw new PostgrestBuilderError('INVALID_BODY', `update() needs one plain object of column → value, got ${describeValue(values)}`);
    }
    return this.write({ action: 'update', method: 'PATCH', body: toJsonValue(values, 'update() values'), count: countOption(opts.count, 'update()') });
  }

  /** Deletes the rows the filters select (DELETE). */
  delete<O extends WriteOptions = {}>(options?: O): PostgrestBuilder<Row, 'many', false, CountedBy<O>> {
    const opts = readOptions<WriteOptions>(options, ['count'], 'delete()');
    return this.write({ action: 'delete', method: 'DELETE', count: countOption(opts.count, 'delete()') });
  }

  private write<C extends boolean>(patch: Partial<BuilderState>): PostgrestBuilder<Row, 'many', false, C> {
    // A write starts from the bare table: the read's default `select=*` must not leak into it.
    return this.next<Row, 'many', false, C>({ columns: undefined, returning: false, ...patch });
  }
}

/** `on_conflict` columns, comma-separated (`'a, b'` → `a,b`); each one a valid name. */
function conflictTarget(value: unknown): string {
  if (typeof value !== 'string') {
    throw new PostgrestBuilderError('INVALID_OPTION', `upsert(): onConflict must be a comma-separated column list, got ${describeValue(value)}`);
  }
  return value.split(',').map((column) => assertName(column.trim(), 'upsert() onConflict column')).join(',');
}

function insertPrefs(opts: InsertOptions, where: string): Partial<BuilderState> {
  const defaultToNull = booleanOption(opts.defaultToNull, 'defaultToNull', where) ?? true;
  return { missingDefault: !defaultToNull, count: countOption(opts.count, where) };
}

/**
 * The JSON body for insert/upsert. PostgREST rejects a bulk body whose objects have different keys
 * ("All object keys must match") unless `columns` names them, so that case sends the union.
 */
function rowsBody(rows: unknown, where: string): Pick<BuilderState, 'body' | 'insertColumns'> {
  const list = Array.isArray(rows) ? (rows as unknown[]) : [rows];
  const body = list.map((row, i) => {
    if (!isPlainObject(row)) {
      const at = Array.isArray(rows) ? ` at index ${i}` : '';
      throw new PostgrestBuilderError('INVALID_BODY', `${where} needs plain objects as rows, got ${describeValue(row)}${at}`);
    }
    return toJsonValue(row, Array.isArray(rows) ? `${where} rows[${i}]` : `${where} row`) as Record<string, unknown>;
  });
  if (!Array.isArray(rows)) return { body: body[0], insertColumns: undefined };
  const union = [...new Set(body.flatMap((row) => Object.keys(row)))];
  const uniform = body.every((row) => Object.keys(row).length === union.length);
  return { body, insertColumns: uniform ? undefined : formatColumnList(union) };
}

/** Starts a request on a table or view. With no further call it reads every column. */
export function from<Row = Record<string, unknown>>(table: string, options?: FromOptions): PostgrestTableBuilder<Row> {
  const opts = readOptions(options, ['schema'], 'from()');
  const relation = assertName(table, 'from() table');
  return new PostgrestTableBuilder<Row>(initialState('select', 'GET', relation, schemaOption(opts.schema, 'from()')));
}
