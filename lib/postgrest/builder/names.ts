import { PostgrestBuilderError, describeValue } from '../errors.js';
import { assertWellFormed } from './values.js';

/** Characters that would end a condition inside a logic tree or list if they appeared in a name. */
const STRUCTURAL = /[,()\u0000-\u001f]/;

/**
 * Validates a table, column, function or referenced-table name. Names are passed through verbatim
 * (so `authors.name`, `data->>key` and `price::text` work) but may not hold `,` `(` `)` or control
 * characters, which would split a logic tree and let a name change the meaning of a filter.
 */
export function assertName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new PostgrestBuilderError('INVALID_NAME', `${what} must be a non-empty string, got ${describeValue(name)}`);
  }
  if (STRUCTURAL.test(name)) {
    throw new PostgrestBuilderError('INVALID_NAME', `${what} ${JSON.stringify(name)} must not contain ",", "(", ")" or control characters`);
  }
  return assertWellFormed(name, what);
}

/** Key for a per-table parameter: `order` or `authors.order`. */
export function scopedKey(key: string, referencedTable: string | undefined): string {
  if (referencedTable === undefined) return key;
  return `${assertName(referencedTable, 'referencedTable')}.${key}`;
}

/**
 * Removes whitespace outside double quotes from a select list, so multi-line select strings work
 * while quoted identifiers (`"my col"`) keep their spaces. Everything else passes through verbatim.
 */
export function cleanColumns(columns: unknown): string {
  if (typeof columns !== 'string') {
    throw new PostgrestBuilderError('INVALID_OPTION', `select columns must be a string, got ${describeValue(columns)}`);
  }
  let quoted = false;
  let escaped = false;
  let out = '';
  for (const char of columns) {
    if (quoted) {
      if (escaped) escaped = false;
      else if (char === '\\') escaped = true;
      else if (char === '"') quoted = false;
      out += char;
    } else if (!/\s/.test(char)) {
      if (char === '"') quoted = true;
      out += char;
    }
  }
  if (out === '') throw new PostgrestBuilderError('INVALID_OPTION', "select columns must not be empty; use '*' for every column");
  return assertWellFormed(out, 'select columns');
}

/** The `columns` parameter PostgREST wants for bulk writes: `"a","b"` with `\` and `"` escaped. */
export function formatColumnList(columns: readonly string[]): string {
  return columns.map((column) => `"${column.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',');
}
