/**
 * The `filter` string of a postgres_changes binding, in Supabase's grammar (docs/realtime-protocol.md
 * §2.7). Historical: one `column=op.value`; the first `=` ends the column, the first `.` ends the
 * operator, so values may hold dots. Latest (supported too): conditions joined by commas (AND),
 * commas inside `(...)` or a `"..."` value do not split, a `not.` prefix negates, and the operators
 * is, isdistinct, like, ilike, match, imatch. When a part after a comma has no `=` but the whole
 * string is one condition (`name=eq.Oslo, Norway`), the historical reading wins.
 */
import { readArrayLiteral, TOO_MANY_ELEMENTS } from '../../../protocol/pgArrayLiteral.js';
import { RealtimeFilterError } from './errors.js';

export const FILTER_OPERATORS = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in', 'is', 'isdistinct', 'like', 'ilike', 'match', 'imatch'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];
export type IsValue = 'null' | 'not_null' | 'true' | 'false' | 'unknown';

interface ConditionBase {
  column: string;
  /** The `not.` prefix. */
  negate: boolean;
}

export type FilterCondition =
  | (ConditionBase & { operator: Exclude<FilterOperator, 'in' | 'is'>; value: string })
  | (ConditionBase & { operator: 'in'; values: Array<string | null> })
  | (ConditionBase & { operator: 'is'; value: IsValue });

/** A parsed filter: every condition must hold (AND). No conditions: every row passes. */
export interface ParsedFilter {
  conditions: FilterCondition[];
}

/** Supabase's limit on `in` lists. */
export const MAX_IN_VALUES = 100;
/** Our limits, so one client cannot make every change expensive for the server. */
export const MAX_FILTER_LENGTH = 16384;
export const MAX_CONDITIONS = 32;

const PREFIX = 'Error parsing `filter` params: ';

function syntaxError(detail: string, code: RealtimeFilterError['code'] = 'FILTER_SYNTAX'): RealtimeFilterError {
  return new RealtimeFilterError(code, PREFIX + detail);
}

/** How Elixir's inspect prints a list of strings, which is what Supabase puts in its messages. */
function inspectList(parts: readonly string[]): string {
  return `[${parts.map((part) => JSON.stringify(part)).join(', ')}]`;
}

/** Splits at commas outside parentheses and outside a quoted value (a quote opens after `.`, `(` or `,`). */
function splitTopLevel(filter: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  // The character before, as Supabase tracks it: none right after a split.
  let previous = '';
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i]!;
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"' && (previous === '.' || previous === '(' || previous === ',')) {
      quoted = true;
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
    } else if (c === ',' && depth === 0) {
      parts.push(filter.slice(start, i));
      start = i + 1;
      previous = '';
      continue;
    }
    previous = c;
  }
  parts.push(filter.slice(start));
  return parts;
}

/** `"a \" b"` → `a " b` when the whole value is one quoted string; anything else stays as written. */
function unquote(value: string): string {
  if (value[0] !== '"') return value;
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) out += value[++i];
    else if (c === '"') return i === value.length - 1 ? out : value;
    else out += c;
  }
  return value;
}

/**
 * The elements of `(v1,v2,...)` as PostgreSQL's array_in reads `{v1,v2,...}` (Supabase passes the
 * list to the database as that array literal): quotes and backslashes escape, unquoted elements are
 * trimmed, an unquoted NULL is SQL NULL.
 */
function parseInList(value: string): Array<string | null> | RealtimeFilterError {
  if (value.length < 2 || value[0] !== '(' || value[value.length - 1] !== ')') {
    return syntaxError('`in` filter value must be wrapped by parentheses');
  }
  const elements = readArrayLiteral(`{${value.slice(1, -1)}}`, { maxElements: MAX_IN_VALUES });
  if (elements === TOO_MANY_ELEMENTS) {
    return syntaxError(`too many values for \`in\` filter. Maximum ${MAX_IN_VALUES}`, 'FILTER_TOO_MANY_VALUES');
  }
  if (elements === undefined || elements.some(Array.isArray)) {
    return syntaxError(`malformed \`in\` list ${JSON.stringify(value)}: quote elements that hold {, }, " or \\`);
  }
  return elements as Array<string | null>;
}

const IS_VALUES: readonly string[] = ['null', 'not_null', 'true', 'false', 'unknown'];

/** One `column=[not.]op.value` condition. */
function parseCondition(segment: string): FilterCondition | RealtimeFilterError {
  const trimmed = segment.trim();
  if (trimmed === '') return syntaxError('filter must not contain empty segments (check for extra commas)');
  const equals = trimmed.indexOf('=');
  if (equals === -1) return syntaxError(inspectList([trimmed]));
  const column = trimmed.slice(0, equals);
  let rest = trimmed.slice(equals + 1);
  if (column === '') return syntaxError(`missing column name in ${JSON.stringify(trimmed)}`, 'FILTER_EMPTY_COLUMN');
  const negate = rest.startsWith('not.');
  if (negate) rest = rest.slice(4);
  const dot = rest.indexOf('.');
  if (dot === -1) return syntaxError(inspectList([column, rest]));
  const operator = rest.slice(0, dot);
  const raw = rest.slice(dot + 1);
  if (!(FILTER_OPERATORS as readonly string[]).includes(operator)) {
    return syntaxError(inspectList([operator, raw]), 'FILTER_UNKNOWN_OPERATOR');
  }
  if (operator === 'in') {
    const values = parseInList(raw);
    return values instanceof RealtimeFilterError ? values : { column, negate, operator, values };
  }
  if (operator === 'is') {
    const value = raw.toLowerCase();
    if (!IS_VALUES.includes(value)) return syntaxError(`\`is\` filter value must be one of ${IS_VALUES.join(', ')}, got ${JSON.stringify(raw)}`);
    return { column, negate, operator, value: value as IsValue };
  }
  // A quoted "" is how to ask for the empty string; a bare empty value is a mistake.
  if (raw === '') return syntaxError(`missing value for \`${operator}\` filter on column ${JSON.stringify(column)}`, 'FILTER_EMPTY_VALUE');
  return { column, negate, operator: operator as Exclude<FilterOperator, 'in' | 'is'>, value: unquote(raw) };
}

/** Parses a binding's `filter` (undefined or blank: no conditions); never throws. */
export function parseFilter(filter: string | undefined): ParsedFilter | RealtimeFilterError {
  if (filter === undefined || filter === null) return { conditions: [] };
  if (typeof filter !== 'string') return syntaxError(`filter must be a string, got ${typeof filter}`);
  if (filter.length > MAX_FILTER_LENGTH) return syntaxError(`filter is longer than ${MAX_FILTER_LENGTH} characters`, 'FILTER_TOO_LONG');
  const trimmed = filter.trim();
  if (trimmed === '') return { conditions: [] };
  const segments = splitTopLevel(trimmed);
  if (segments.length > MAX_CONDITIONS) return syntaxError(`filter has more than ${MAX_CONDITIONS} conditions`, 'FILTER_TOO_LONG');
  const conditions: FilterCondition[] = [];
  for (const segment of segments) {
    const condition = parseCondition(segment);
    if (condition instanceof RealtimeFilterError) {
      // The historical grammar had no commas between conditions: `name=eq.a,b` meant the value "a,b".
      // Read it so when a part after a comma is no condition at all (no `=`).
      if (segments.length === 1 || segment.trim() === '' || segment.includes('=')) return condition;
      const whole = parseCondition(trimmed);
      return whole instanceof RealtimeFilterError ? condition : { conditions: [whole] };
    }
    conditions.push(condition);
  }
  return { conditions };
}
