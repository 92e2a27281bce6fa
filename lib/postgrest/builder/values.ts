import { PostgrestBuilderError, describeValue } from '../errors.js';

/*
 * How PostgREST 12 reads values (checked against a real PostgREST 12.0.2 + PostgreSQL; see the builder
 * tests for the exact strings):
 *
 * 1. Top-level simple filter `col=op.<value>`: everything after the operator is the value, verbatim.
 *    Nothing may be quoted there: `s=eq."q"` matches the 3-character string `"q"`, and `s=eq.a,b`
 *    matches `a,b`. `s=eq.` matches the empty string.
 * 2. Lists `in.(…)` and logic trees `or=(…)` / `and=(…)`: an element is either unquoted (read up to the
 *    next `,` or `)`) or double-quoted, where `\` escapes the next character (`"a\b"` reads `ab`).
 *    Unquoted elements lose leading whitespace after `(` and cannot hold `,` `)`; an unquoted `{…}` in a
 *    logic tree is read as an array literal; so we quote anything outside a small safe alphabet.
 *    Quoting is always safe: `id=in.("1","2")` matches integers 1 and 2, `s.eq."a.b"` matches `a.b`.
 * 3. A list of exactly one empty element is read as the EMPTY list: `in.()` and `in.("")` both match
 *    nothing. To mean "equals the empty string" we repeat it: `in.("","")`.
 * 4. `is` takes only the bare keywords null/true/false/unknown; `is."null"` is a parse error.
 * 5. Array literals `{…}` are parsed by PostgreSQL, not PostgREST: an element must be quoted when it is
 *    empty, holds `{}`, `,`, `"`, `\` or whitespace, or spells NULL in any case (`{null}` is a NULL
 *    element, `{"null"}` the string). Inside a logic tree the whole literal is quoted once more:
 *    `arr.cs."{\"a,b\"}"`.
 * 6. `like` / `ilike`: PostgREST turns `*` into `%`; `%` and `_` keep their SQL meaning. There is no
 *    way to match a literal `*` through like.
 * 7. Query strings are percent-decoded with `+` meaning space (`s=eq.+` matches " "), so every key and
 *    value is percent-encoded with encodeURIComponent (`+` → `%2B`) in `toUrl`, and nowhere else.
 */

/** A value a comparison filter accepts. */
export type ScalarValue = string | number | boolean | bigint | Date;

/** A filter value; `null` only where SQL has a meaning for it (`eq`, `neq`, `is`). */
export type FilterValue = ScalarValue | null;

/** A value for array operators: an array (→ array literal), an object (→ JSON) or a literal string. */
export type ContainerValue = string | readonly unknown[] | Record<string, unknown>;

/** Characters that force quoting in lists, logic trees and array literals; see rules 2 and 5. */
const NEEDS_QUOTES = /[,.:()"\\{}\s]/;

/** Words with a meaning of their own somewhere in the grammar; quoting keeps them plain strings. */
const RESERVED = new Set(['null', 'true', 'false', 'unknown', 'not', 'and', 'or', 'is', 'in']);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Rejects strings that cannot be sent as UTF-8 (lone surrogates would make encodeURIComponent throw). */
export function assertWellFormed(text: string, where: string): string {
  if (LONE_SURROGATE.test(text)) {
    throw new PostgrestBuilderError('INVALID_VALUE', `${where}: the string contains a lone UTF-16 surrogate and cannot be sent as UTF-8`);
  }
  return text;
}

/** Text of one scalar as PostgreSQL should receive it, before any grammar quoting. */
export function formatScalar(value: unknown, where: string): string {
  switch (typeof value) {
    case 'string':
      return assertWellFormed(value, where);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new PostgrestBuilderError('INVALID_VALUE', `${where}: ${String(value)} is not a finite number and has no SQL literal`);
      }
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    default:
      break;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new PostgrestBuilderError('INVALID_VALUE', `${where}: the Date is invalid`);
    return value.toISOString();
  }
  if (value === null) {
    throw new PostgrestBuilderError('NULL_NOT_ALLOWED', `${where}: null is not allowed here; use .is(column, null) to test for NULL`);
  }
  throw new PostgrestBuilderError('INVALID_VALUE', `${where}: expected a string, number, boolean, bigint or Date, got ${describeValue(value)}`);
}

/** Double-quotes `text` when needed inside a list, logic tree or array literal (rules 2 and 5). */
export function quoteIfNeeded(text: string): string {
  if (text !== '' && !NEEDS_QUOTES.test(text) && !RESERVED.has(text.toLowerCase())) return text;
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A PostgREST list `(a,"b,c")` for `in`; one empty string is repeated (rule 3). */
export function formatList(items: readonly string[]): string {
  const quoted = items.length === 1 && items[0] === '' ? ['""', '""'] : items.map(quoteIfNeeded);
  return `(${quoted.join(',')})`;
}

/** A PostgreSQL array literal `{a,"b c",NULL,{1,2}}` (rule 5). */
export function formatArrayLiteral(items: readonly unknown[], where: string): string {
  const parts = items.map((item, i) => {
    if (item === null) return 'NULL';
    if (Array.isArray(item)) return formatArrayLiteral(item, `${where}[${i}]`);
    return quoteIfNeeded(formatScalar(item, `${where}[${i}]`));
  });
  return `{${parts.join(',')}}`;
}

/** True for `{}`-style objects (not arrays, Dates, Maps or class instances). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A JSON-safe deep copy of `value` for request bodies and jsonb operands: Dates become ISO strings,
 * bigints decimal strings (PostgreSQL casts them; JSON numbers would lose precision), object keys
 * holding `undefined` are dropped. NaN/Infinity, `undefined` in arrays, functions and class instances
 * throw instead of silently becoming `null` as JSON.stringify would make them.
 */
export function toJsonValue(value: unknown, where: string): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') return assertWellFormed(value, where);
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof Date) {
    const text = formatScalar(value, where);
    return typeof value === 'number' ? value : text;
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      if (item === undefined) throw new PostgrestBuilderError('INVALID_VALUE', `${where}[${i}] is undefined; use null`);
      return toJsonValue(item, `${where}[${i}]`);
    });
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) out[assertWellFormed(key, where)] = toJsonValue(item, `${where}.${key}`);
    }
    return out;
  }
  throw new PostgrestBuilderError('INVALID_VALUE', `${where}: ${describeValue(value)} cannot be sent as JSON`);
}
