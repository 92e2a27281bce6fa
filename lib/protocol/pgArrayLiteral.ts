/**
 * PostgreSQL's array text `{a,"b c",NULL,{1,2}}` read the way array_in reads it: unquoted elements
 * are trimmed of array_in's whitespace and may use `\` escapes, an unquoted NULL (any case) is the
 * NULL element, double quotes keep everything and `\` escapes inside them. array_out's text is a
 * subset of this, so the same reader reads both filter literals and replicated values.
 */
export type ArrayElement = string | null | ArrayElement[];

export interface ArrayLiteralOptions {
  /** pg_type.typdelim of the element type: `,` for all but box (`;`). */
  delimiter?: string;
  /**
   * A leading `[lb:ub]=` decoration: 'drop' it (as to_json does), or 'reject' the text (the default:
   * a literal with other bounds is a different array for `=`).
   */
  bounds?: 'drop' | 'reject';
  /** More top-level elements than this make the result TOO_MANY_ELEMENTS. */
  maxElements?: number;
}

/** The text holds more top-level elements than `maxElements`. */
export const TOO_MANY_ELEMENTS = Symbol('too many elements');

const BOUNDS = /^\s*(\[[+-]?\d+:[+-]?\d+\])+\s*=/;

/** array_in's whitespace (its array_isspace): C isspace without locale. */
function isArraySpace(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\v' || char === '\f';
}

/** The elements of an array text, undefined where array_in would reject it (or `bounds` says so). */
export function readArrayLiteral(text: string, options: ArrayLiteralOptions = {}): ArrayElement[] | undefined | typeof TOO_MANY_ELEMENTS {
  const delimiter = options.delimiter ?? ',';
  let pos = 0;
  const bounds = BOUNDS.exec(text);
  if (bounds) {
    if (options.bounds !== 'drop') return undefined;
    pos = bounds[0].length;
  }
  const skipSpace = () => {
    while (isArraySpace(text[pos])) pos++;
  };
  const readQuoted = (): string | undefined => {
    pos++;
    let out = '';
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === '\\') pos++;
      if (pos >= text.length) return undefined;
      out += text[pos++];
    }
    if (text[pos] !== '"') return undefined;
    pos++;
    return out;
  };
  const readUnquoted = (): string | null | undefined => {
    let out = '';
    let escaped = false;
    // Whitespace is kept only when more of the element follows it.
    let kept = 0;
    while (pos < text.length && text[pos] !== delimiter && text[pos] !== '}') {
      const char = text[pos++]!;
      if (char === '{' || char === '"') return undefined;
      if (char === '\\') {
        if (pos >= text.length) return undefined;
        out += text[pos++];
        escaped = true;
        kept = out.length;
      } else {
        out += char;
        if (!isArraySpace(char)) kept = out.length;
      }
    }
    out = out.slice(0, kept);
    if (out === '' && !escaped) return undefined;
    return !escaped && out.toUpperCase() === 'NULL' ? null : out;
  };
  const readArray = (top: boolean): ArrayElement[] | undefined | typeof TOO_MANY_ELEMENTS => {
    if (text[pos] !== '{') return undefined;
    pos++;
    const items: ArrayElement[] = [];
    skipSpace();
    if (text[pos] === '}') {
      pos++;
      return items;
    }
    for (;;) {
      skipSpace();
      const item = text[pos] === '{' ? readArray(false) : text[pos] === '"' ? readQuoted() : readUnquoted();
      if (item === undefined || item === TOO_MANY_ELEMENTS) return item;
      items.push(item);
      if (top && options.maxElements !== undefined && items.length > options.maxElements) return TOO_MANY_ELEMENTS;
      skipSpace();
      if (text[pos] === delimiter) pos++;
      else if (text[pos] === '}') {
        pos++;
        return items;
      } else return undefined;
    }
  };
  skipSpace();
  const result = readArray(true);
  if (result === TOO_MANY_ELEMENTS) return result;
  skipSpace();
  return pos === text.length ? result : undefined;
}
