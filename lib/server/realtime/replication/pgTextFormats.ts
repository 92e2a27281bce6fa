/**
 * Readers for the structured text forms PostgreSQL's output functions produce: arrays (`array_out`,
 * read by lib/protocol's array_in reader, of which it is a subset), rows of a composite type
 * (`record_out`) and hstore (`hstore_out`). The last two read output, not user input: pgoutput hands
 * us exactly what those functions print, so they follow the output rules (stricter than the input
 * rules) and need not accept every literal PostgreSQL would.
 */
import { readArrayLiteral, type ArrayElement } from '../../../protocol/pgArrayLiteral.js';

/** Turns one element's text (null for SQL NULL) into its JSON value. */
export type ElementReader = (text: string | null) => unknown;

const BACKSLASH = 92;
const QUOTE = 34;
const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;
const COMMA = 44;

/** Malformed structured text; it can only come from a type we mis-identified, never from PostgreSQL itself. */
export class PgTextFormatError extends Error {
  readonly code = 'PG_TEXT_FORMAT' as const;
  constructor(kind: string, text: string) {
    super(`not ${kind} text as PostgreSQL prints it: ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)}`);
    this.name = 'PgTextFormatError';
  }
}

/**
 * Reads `array_out` text (`{1,2}`, `{{"a b",NULL},{c,d}}`, `[0:1]={1,2}`) into nested JS arrays, each
 * element passed through `element`. Dimension bounds are dropped, as `to_json` drops them.
 */
export function readArrayText(text: string, delimiter: number, element: ElementReader): unknown[] {
  const elements = readArrayLiteral(text, { delimiter: String.fromCharCode(delimiter), bounds: 'drop' });
  if (!Array.isArray(elements)) throw new PgTextFormatError('array', text);
  return convertElements(elements, element);
}

function convertElements(elements: readonly ArrayElement[], element: ElementReader): unknown[] {
  return elements.map((item) => (Array.isArray(item) ? convertElements(item, element) : element(item)));
}

/** Reads a double-quoted string starting at `at` (backslash escapes, and `""` inside record text). */
function readQuoted(text: string, at: number, kind: 'record' | 'hstore'): [string, number] {
  let out = '';
  let from = at + 1;
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (Number.isNaN(c)) throw new PgTextFormatError(kind, text);
    if (c === BACKSLASH) {
      out += text.slice(from, i) + text.charAt(i + 1);
      i += 2;
      from = i;
    } else if (c === QUOTE) {
      // record_out doubles a quote inside a quoted field instead of escaping it.
      if (kind === 'record' && text.charCodeAt(i + 1) === QUOTE) {
        out += text.slice(from, i + 1);
        i += 2;
        from = i;
      } else {
        return [out + text.slice(from, i), i + 1];
      }
    } else {
      i++;
    }
  }
}

/** Reads `record_out` text (`(1,"a b",)`) into one string or null (empty field) per attribute. */
export function readRecordText(text: string): Array<string | null> {
  if (text.charCodeAt(0) !== OPEN_PAREN) throw new PgTextFormatError('record', text);
  const fields: Array<string | null> = [];
  let at = 1;
  if (text === '()') return fields;
  for (;;) {
    let value: string | null;
    if (text.charCodeAt(at) === QUOTE) {
      [value, at] = readQuoted(text, at, 'record');
    } else {
      let end = at;
      for (let c = text.charCodeAt(end); c !== COMMA && c !== CLOSE_PAREN; c = text.charCodeAt(end)) {
        if (Number.isNaN(c)) throw new PgTextFormatError('record', text);
        end++;
      }
      // An empty unquoted field is NULL; an empty string prints as "".
      value = end === at ? null : text.slice(at, end);
      at = end;
    }
    fields.push(value);
    const next = text.charCodeAt(at);
    if (next === COMMA) {
      at++;
    } else if (next === CLOSE_PAREN && at === text.length - 1) {
      return fields;
    } else {
      throw new PgTextFormatError('record', text);
    }
  }
}

/** Reads `hstore_out` text (`"a"=>"1", "b"=>NULL`) into an object, as hstore's cast to json does. */
export function readHstoreText(text: string): Record<string, string | null> {
  const result: Record<string, string | null> = {};
  let at = 0;
  while (at < text.length) {
    if (text.charCodeAt(at) !== QUOTE) throw new PgTextFormatError('hstore', text);
    let key: string;
    [key, at] = readQuoted(text, at, 'hstore');
    if (text.slice(at, at + 2) !== '=>') throw new PgTextFormatError('hstore', text);
    at += 2;
    let value: string | null;
    if (text.startsWith('NULL', at)) {
      value = null;
      at += 4;
    } else if (text.charCodeAt(at) === QUOTE) {
      [value, at] = readQuoted(text, at, 'hstore');
    } else {
      throw new PgTextFormatError('hstore', text);
    }
    // Object.defineProperty keeps a key named "__proto__" an ordinary key, like JSON.parse does.
    Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
    if (at === text.length) break;
    if (text.slice(at, at + 2) !== ', ') throw new PgTextFormatError('hstore', text);
    at += 2;
  }
  return result;
}
