/**
 * `compileRequest`: a PostgREST read turned into the functions a live cache needs to stay equal to
 * the database without refetching: which rows belong (`matches`), in which order (`compare`), with
 * which keys (`project`), and which slice (`window`).
 */
import { PostgrestBuilderError, describeValue } from '../errors.js';
import { toPostgrestRequest } from '../request/request.js';
import type { PostgrestRequestLike } from '../request/types.js';
import { compileNode, type Predicate } from './conditions.js';
import { GrammarError, readTopLevelFilter, readTopLevelGroup, type FilterNode } from './grammar.js';
import { compileOrder, readOrder } from './order.js';
import { compileSelect } from './select.js';
import type { ColumnType, ColumnTypes, CompiledQuery, EvaluateOptions, Row } from './types.js';
import { readWindow } from './window.js';

const LOGIC_KEYS = new Set(['or', 'and', 'not.or', 'not.and']);
/** Parameters of writes, which do not change what a read selects. */
const WRITE_KEYS = new Set(['columns', 'on_conflict']);

function readColumnTypes(columns: unknown): (column: string) => ColumnType | undefined {
  if (columns === undefined) return () => undefined;
  if (typeof columns !== 'object' || columns === null || Array.isArray(columns)) {
    throw new PostgrestBuilderError('INVALID_OPTION', `compileRequest(): column types must be an object of column → typname, got ${describeValue(columns)}`);
  }
  const types = new Map<string, ColumnType>();
  for (const [column, type] of Object.entries(columns as Record<string, unknown>)) {
    if (typeof type === 'string' && type !== '') types.set(column, { type });
    else if (typeof type === 'object' && type !== null && typeof (type as ColumnType).type === 'string') {
      const { type: name, collation, ctype } = type as ColumnType;
      for (const [field, value] of [['collation', collation], ['ctype', ctype]] as const) {
        if (value !== undefined && typeof value !== 'string') {
          throw new PostgrestBuilderError('INVALID_OPTION', `compileRequest(): ${field} of column ${column} must be a string, got ${describeValue(value)}`);
        }
      }
      types.set(column, { type: name, ...(collation !== undefined && { collation }), ...(ctype !== undefined && { ctype }) });
    } else {
      throw new PostgrestBuilderError('INVALID_OPTION', `compileRequest(): type of column ${column} must be a typname or { type, collation }, got ${describeValue(type)}`);
    }
  }
  return (column) => types.get(column);
}

function readOptions(options: unknown): EvaluateOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new PostgrestBuilderError('INVALID_OPTION', `compileRequest(): options must be an object, got ${describeValue(options)}`);
  }
  const { textOrder, timeZone, ...rest } = options as EvaluateOptions;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new PostgrestBuilderError('INVALID_OPTION', `compileRequest(): unknown option "${unknown[0]}"; expected textOrder, timeZone`);
  if (textOrder !== undefined && textOrder !== 'codepoint' && textOrder !== 'unknown') {
    throw new PostgrestBuilderError('INVALID_OPTION', `compileRequest(): textOrder must be 'codepoint' or 'unknown', got ${describeValue(textOrder)}`);
  }
  if (timeZone !== undefined && timeZone !== 'UTC' && timeZone !== 'unknown') {
    throw new PostgrestBuilderError('INVALID_OPTION', `compileRequest(): timeZone must be 'UTC' or 'unknown', got ${describeValue(timeZone)}`);
  }
  return { textOrder, timeZone };
}

/**
 * Compiles a read for client-side evaluation. `columns` gives each column's typname (as change
 * events carry them); columns without one are evaluated only where the JSON value decides the
 * meaning. Never throws for requests it cannot evaluate: those come back with `exact: false`.
 */
export function compileRequest(request: PostgrestRequestLike, columns?: ColumnTypes, options?: EvaluateOptions): CompiledQuery {
  const req = toPostgrestRequest(request);
  const columnType = readColumnTypes(columns);
  const opts = readOptions(options);
  const reasons: string[] = [];
  const inexact = (reason: string) => {
    if (!reasons.includes(reason)) reasons.push(reason);
  };
  if (req.action !== 'select') inexact(req.action === 'rpc' ? `rpc ${req.relation}` : `${req.action} is not a read`);

  const filterColumns: string[] = [];
  const context = {
    columnType,
    options: opts,
    inexact,
    readColumn: (column: string) => {
      if (!filterColumns.includes(column)) filterColumns.push(column);
    },
  };
  const predicates: Predicate[] = [];
  let select: string | undefined;
  let order: string | undefined;
  let limit: string | undefined;
  let offset: string | undefined;
  for (const [key, value] of req.query) {
    if (key === 'select') select = value;
    else if (key === 'order') order = value;
    else if (key === 'limit') limit = value;
    else if (key === 'offset') offset = value;
    else if (WRITE_KEYS.has(key)) continue;
    else if (/\.(order|limit|offset|or|and)$/.test(key) && !LOGIC_KEYS.has(key)) inexact(`embedded resource parameter ${key}`);
    else {
      let node: FilterNode;
      try {
        node = LOGIC_KEYS.has(key) ? readTopLevelGroup(key, value) : readTopLevelFilter(key, value);
      } catch (error) {
        if (!(error instanceof GrammarError)) throw error;
        inexact(error.message);
        // An unreadable filter selects nothing rather than everything.
        predicates.push(() => null);
        continue;
      }
      predicates.push(compileNode(node, context));
    }
  }

  const orderTerms = order === undefined ? [] : readOrder(order);
  if (orderTerms === undefined) inexact(`order ${JSON.stringify(order)} is not readable`);
  const compare = compileOrder(orderTerms ?? [], columnType, opts, inexact);
  const project = compileSelect(select, columnType, inexact);
  const range = Object.entries(req.headers).find(([name]) => name.toLowerCase() === 'range')?.[1];
  const window = readWindow(limit, offset, range);
  if (typeof window === 'string') inexact(window);

  return {
    exact: reasons.length === 0,
    reasons,
    matches: (row: Row) => predicates.every((predicate) => predicate(row) === true),
    compare,
    project,
    window: typeof window === 'string' ? { offset: 0, limit: null } : window,
    filterColumns,
    orderColumns: (orderTerms ?? []).map((term) => term.column),
  };
}
