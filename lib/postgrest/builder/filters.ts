import { PostgrestBuilderError, describeValue } from '../errors.js';
import { assertName } from './names.js';
import {
  assertWellFormed,
  formatArrayLiteral,
  formatList,
  formatScalar,
  isPlainObject,
  quoteIfNeeded,
  toJsonValue,
} from './values.js';

/** PostgREST 12's filter operators. */
export type FilterOperator =
  | 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte'
  | 'like' | 'ilike' | 'match' | 'imatch' | 'isdistinct'
  | 'is' | 'in'
  | 'cs' | 'cd' | 'ov'
  | 'sl' | 'sr' | 'nxl' | 'nxr' | 'adj'
  | 'fts' | 'plfts' | 'phfts' | 'wfts';

/** How an operator reads its value. */
type OperatorKind = 'compare' | 'is' | 'list' | 'container' | 'range' | 'fts';

const OPERATOR_KINDS: Readonly<Record<FilterOperator, OperatorKind>> = {
  eq: 'compare', neq: 'compare', gt: 'compare', gte: 'compare', lt: 'compare', lte: 'compare',
  like: 'compare', ilike: 'compare', match: 'compare', imatch: 'compare', isdistinct: 'compare',
  is: 'is', in: 'list',
  cs: 'container', cd: 'container', ov: 'container',
  sl: 'range', sr: 'range', nxl: 'range', nxr: 'range', adj: 'range',
  fts: 'fts', plfts: 'fts', phfts: 'fts', wfts: 'fts',
};

/** Operators that take PostgREST 12's `(any)` / `(all)` quantifier over an array of values. */
const QUANTIFIABLE = new Set<string>(['eq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch']);

/** `[not.]name[(modifier)]`, e.g. `eq`, `not.in`, `fts(english)`, `like(any)`. */
const OPERATOR_SYNTAX = /^(?:(not)\.)?([a-z]+)(?:\(([^()]*)\))?$/;

/** A text search configuration name such as `english` or `pg_catalog.simple`. */
const FTS_CONFIG = /^[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

/**
 * The value part of a condition. `value` is quoted inside lists and logic trees, `list` is always a
 * parenthesised list, `keyword` (the `is` operand) is never quoted because PostgREST rejects `is."null"`.
 */
export type Operand =
  | { kind: 'value'; text: string }
  | { kind: 'list'; items: readonly string[] }
  | { kind: 'keyword'; text: string };

/** One filter before it is rendered for a query parameter or a logic tree. */
export interface Condition {
  column: string;
  negate: boolean;
  /** Operator with its modifier, e.g. `eq`, `fts(english)`, `like(any)`. */
  operator: string;
  operand: Operand;
}

/** Builds the condition for `column <operator> value`; `operator` may carry `not.` and a modifier. */
export function buildCondition(column: string, operator: string, value: unknown, negate = false): Condition {
  const where = `${typeof operator === 'string' ? operator : 'filter'}(${JSON.stringify(column)})`;
  const name = assertName(column, 'column');
  const parsed = typeof operator === 'string' ? OPERATOR_SYNTAX.exec(operator) : null;
  const base = parsed?.[2] as FilterOperator | undefined;
  if (!parsed || base === undefined || !(base in OPERATOR_KINDS)) {
    throw new PostgrestBuilderError(
      'INVALID_OPERATOR',
      `unknown filter operator ${describeValue(operator)}; expected one of ${Object.keys(OPERATOR_KINDS).join(', ')}`,
    );
  }
  if (parsed[1] && negate) throw new PostgrestBuilderError('INVALID_OPERATOR', `${where}: "not.${base}" is already negated`);
  const condition = operandFor(base, parsed[3], value, where);
  return { column: name, negate: condition.negate !== (negate || parsed[1] === 'not'), operator: condition.operator, operand: condition.operand };
}

function operandFor(
  op: FilterOperator,
  modifier: string | undefined,
  value: unknown,
  where: string,
): { operator: string; operand: Operand; negate: boolean } {
  const kind = OPERATOR_KINDS[op];
  if (modifier !== undefined) return modifiedOperand(op, kind, modifier, value, where);
  const plain = (text: string) => ({ operator: op, operand: { kind: 'value', text } as Operand, negate: false });
  switch (kind) {
    case 'compare':
      // `col = NULL` is never true in SQL (NULL compares as unknown), so eq/neq/isdistinct against null
      // would silently match nothing or everything; they become the IS tests the caller meant.
      if (value === null && (op === 'eq' || op === 'neq' || op === 'isdistinct')) {
        return { operator: 'is', operand: { kind: 'keyword', text: 'null' }, negate: op !== 'eq' };
      }
      if (value === null) {
        throw new PostgrestBuilderError('NULL_NOT_ALLOWED', `${where}: null never compares in SQL; use .is(column, null) or .not(column, 'is', null)`);
      }
      return plain(formatScalar(value, where));
    case 'is':
      if (value === null || value === true || value === false || value === 'unknown') {
        return { operator: 'is', operand: { kind: 'keyword', text: String(value) }, negate: false };
      }
      throw new PostgrestBuilderError('INVALID_VALUE', `${where}: is() accepts only null, true, false or 'unknown', got ${describeValue(value)}`);
    case 'list':
      return { operator: op, operand: { kind: 'list', items: listItems(value, where) }, negate: false };
    case 'container':
      return plain(containerText(value, where));
    case 'range':
      if (typeof value !== 'string' || value === '') {
        throw new PostgrestBuilderError('INVALID_VALUE', `${where}: expected a range literal string such as '[1,5)', got ${describeValue(value)}`);
      }
      return plain(assertWellFormed(value, where));
    case 'fts':
      return plain(ftsQuery(value, where));
  }
}

function modifiedOperand(op: FilterOperator, kind: OperatorKind, modifier: string, value: unknown, where: string) {
  if (kind === 'fts') {
    if (!FTS_CONFIG.test(modifier)) {
      throw new PostgrestBuilderError('INVALID_OPTION', `${where}: text search config ${JSON.stringify(modifier)} is not a configuration name`);
    }
    return { operator: `${op}(${modifier})`, operand: { kind: 'value', text: ftsQuery(value, where) } as Operand, negate: false };
  }
  if ((modifier === 'any' || modifier === 'all') && QUANTIFIABLE.has(op)) {
    if (!Array.isArray(value)) {
      throw new PostgrestBuilderError('INVALID_VALUE', `${where}: ${op}(${modifier}) needs an array of values, got ${describeValue(value)}`);
    }
    return { operator: `${op}(${modifier})`, operand: { kind: 'value', text: formatArrayLiteral(value, where) } as Operand, negate: false };
  }
  throw new PostgrestBuilderError('INVALID_OPERATOR', `${where}: operator ${op} does not take the modifier (${modifier})`);
}

function listItems(value: unknown, where: string): string[] {
  if (!Array.isArray(value)) {
    throw new PostgrestBuilderError('INVALID_VALUE', `${where}: in() needs an array of values, got ${describeValue(value)}`);
  }
  return value.map((item: unknown, i) => {
    if (item === null) {
      // `x IN (NULL)` is never true in SQL; say how to get what was meant.
      throw new PostgrestBuilderError(
        'NULL_NOT_ALLOWED',
        `${where}: null at index ${i} would never match (SQL IN ignores NULL); use .or(q => q.in(column, values).is(column, null))`,
      );
    }
    return formatScalar(item, `${where}[${i}]`);
  });
}

function containerText(value: unknown, where: string): string {
  if (typeof value === 'string') return assertWellFormed(value, where);
  if (Array.isArray(value)) return formatArrayLiteral(value, where);
  if (isPlainObject(value)) return JSON.stringify(toJsonValue(value, where));
  throw new PostgrestBuilderError(
    'INVALID_VALUE',
    `${where}: expected an array, a plain object (jsonb) or a literal string, got ${describeValue(value)}`,
  );
}

function ftsQuery(value: unknown, where: string): string {
  if (typeof value !== 'string') {
    throw new PostgrestBuilderError('INVALID_VALUE', `${where}: the text search query must be a string, got ${describeValue(value)}`);
  }
  return assertWellFormed(value, where);
}

function renderOperand(operand: Operand, inTree: boolean): string {
  switch (operand.kind) {
    case 'keyword':
      return operand.text;
    case 'list':
      return formatList(operand.items);
    case 'value':
      // Top-level values are read verbatim by PostgREST, so quoting there would become part of the value.
      return inTree ? quoteIfNeeded(operand.text) : operand.text;
  }
}

function operatorPrefix(condition: Condition): string {
  return `${condition.negate ? 'not.' : ''}${condition.operator}`;
}

/** The query pair for a top-level filter: `['title', 'eq.Hello, world']`. */
export function toQueryPair(condition: Condition): [string, string] {
  return [condition.column, `${operatorPrefix(condition)}.${renderOperand(condition.operand, false)}`];
}

/** Filters pinning `row` by its values of `columns` (`eq`, `is.null` for a null): one row, by its key. */
export function keyFilters(columns: readonly string[], row: Record<string, unknown>): Array<[string, string]> {
  return columns.map((column) => toQueryPair(buildCondition(column, row[column] === null ? 'is' : 'eq', row[column])));
}

/** The condition as an element of a logic tree: `title.eq."Hello, world"`. */
export function toTreeCondition(condition: Condition): string {
  return `${condition.column}.${operatorPrefix(condition)}.${renderOperand(condition.operand, true)}`;
}
