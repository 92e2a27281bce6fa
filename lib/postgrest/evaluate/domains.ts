/**
 * How values of one PostgreSQL type read and compare on the client. A domain turns filter literals
 * (at compile time, where unreadable text makes the query inexact) and row values (JSON as PostgREST
 * renders them) into keys, and compares keys the way the type's `=` and `<` do.
 */
import { jsonbContains, jsonbEqual } from './jsonb.js';
import { compareCodePoints, foldsAsciiOnly, ordersByCodePoint } from './textOrder.js';
import type { ColumnType, EvaluateOptions } from './types.js';
import { readArrayLiteral, type ArrayElement } from '../../protocol/pgArrayLiteral.js';
import { dateDomain, timestampDomain, timestamptzDomain } from '../../protocol/pgDateTime.js';
import { compareFloats, float4Domain, float8Domain } from '../../protocol/pgFloat.js';
import { compareDecimals, decimalOfJson, int2Domain, int4Domain, int8Domain, isWholeDecimal, parseNumeric, readNumericText, type Decimal } from '../../protocol/pgNumeric.js';
import { NEEDS_SQL, ValueRejected, type ValueDomain } from '../../protocol/pgValueDomain.js';

/** A literal read, or why it cannot be read exactly. */
export type Read<V> = { ok: true; value: V } | { ok: false; reason: string };

export interface Domain<V = unknown> {
  /** Type name for reasons. */
  readonly type: string;
  literal(text: string): Read<V>;
  /** Key of a non-null row value; undefined when the value does not look like this type. */
  row(value: unknown): V | undefined;
  equal(a: V, b: V): boolean;
  /** Order of keys, or why the order is not known on the client. */
  readonly order: ((a: V, b: V) => number) | string;
  /** Text types: case folding for ilike/imatch (`ascii` under C) or why it is unknown. */
  readonly text?: { fold: 'ascii' | string };
  /** Arrays: the element domain. */
  readonly element?: Domain;
  /** jsonb. */
  readonly json?: true;
}

const ok = <V>(value: V): Read<V> => ({ ok: true, value });
const fail = <V>(reason: string): Read<V> => ({ ok: false, reason });

/** Why a literal the type's input function would not read exactly here is left to the database. */
function unreadable<V>(text: string, type: string, parsed: ValueRejected | typeof NEEDS_SQL): Read<V> {
  return fail(parsed === NEEDS_SQL ? `${JSON.stringify(text)} is not a ${type} literal the client reads` : parsed.message);
}

const INTEGER_INPUT: Readonly<Record<string, ValueDomain<string>>> = {
  int2: int2Domain, smallint: int2Domain, int4: int4Domain, integer: int4Domain, int8: int8Domain, bigint: int8Domain,
};

/** Integers and numerics share one key, an exact decimal, so rows (JSON numbers) compare with literals. */
function decimalDomain(type: string): Domain<Decimal> {
  const integer = INTEGER_INPUT[type];
  return {
    type,
    literal(text) {
      if (integer) {
        const parsed = integer.parse(text);
        if (typeof parsed === 'string') return ok(readNumericText(parsed));
        const decimal = parseNumeric(text);
        if (typeof decimal === 'object' && !(decimal instanceof ValueRejected) && !isWholeDecimal(decimal)) return fail(`${JSON.stringify(text)} is not an integer (${type})`);
        return unreadable(text, type, parsed);
      }
      const parsed = parseNumeric(text);
      return parsed === NEEDS_SQL || parsed instanceof ValueRejected ? unreadable(text, type, parsed) : ok(parsed);
    },
    row: decimalOfJson,
    equal: (a, b) => compareDecimals(a, b) === 0,
    order: compareDecimals,
  };
}

/** float4/float8 compare as binary floats (a literal is rounded to the type first); NaN is largest. */
function floatDomain(type: 'float4' | 'float8'): Domain<number> {
  const input = type === 'float4' ? float4Domain : float8Domain;
  const round = type === 'float4' ? Math.fround : (n: number) => n;
  const literal = (text: string): Read<number> => {
    const parsed = input.parse(text);
    return typeof parsed === 'number' ? ok(parsed) : unreadable(text, type, parsed);
  };
  const row = (value: unknown): number | undefined => {
    if (typeof value === 'number') return round(value);
    if (typeof value !== 'string') return undefined;
    // PostgREST prints NaN and the infinities as strings.
    const read = literal(value);
    return read.ok ? read.value : undefined;
  };
  return {
    type,
    literal,
    row,
    equal: (a, b) => compareFloats(a, b) === 0,
    order: compareFloats,
  };
}

const BOOLEAN_WORDS: ReadonlyArray<[string, boolean]> = [['true', true], ['false', false], ['yes', true], ['no', false], ['on', true], ['off', false], ['1', true], ['0', false]];

/** boolin: true/false/yes/no/on/off/1/0 and unique prefixes (`t`, `ye`, but not `o`). */
function readBoolean(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (word === '') return undefined;
  const hits = BOOLEAN_WORDS.filter(([name]) => name.startsWith(word) && (word.length > 1 || !/^o/.test(name)));
  const exact = BOOLEAN_WORDS.find(([name]) => name === word);
  if (exact) return exact[1];
  return hits.length === 1 ? hits[0]![1] : undefined;
}

const booleanDomain: Domain<boolean> = {
  type: 'bool',
  literal(text) {
    const value = readBoolean(text);
    return value === undefined ? fail(`${JSON.stringify(text)} is not a boolean literal`) : ok(value);
  },
  row: (value) => (typeof value === 'boolean' ? value : undefined),
  equal: (a, b) => a === b,
  order: (a, b) => Number(a) - Number(b),
};

function textDomain(type: string, bytewise: boolean, asciiFold: boolean): Domain<string> {
  return {
    type,
    literal: (text) => ok(text),
    row: (value) => (typeof value === 'string' ? value : undefined),
    equal: (a, b) => a === b,
    order: bytewise ? compareCodePoints : `text order needs the database collation (${type})`,
    text: { fold: asciiFold ? 'ascii' : `case-insensitive matching needs the database collation (${type})` },
  };
}

/** uuid_in: hex digits, optionally braced, optionally a hyphen after any group of four. */
function readUuid(text: string): string | undefined {
  const trimmed = text.trim();
  const inner = /^\{(.*)\}$/.exec(trimmed)?.[1] ?? trimmed;
  if (!/^[0-9a-f]{4}(?:-?[0-9a-f]{4}){7}$/i.test(inner)) return undefined;
  return inner.replace(/-/g, '').toLowerCase();
}

const uuidDomain: Domain<string> = {
  type: 'uuid',
  literal(text) {
    const value = readUuid(text);
    return value === undefined ? fail(`${JSON.stringify(text)} is not a uuid`) : ok(value);
  },
  row: (value) => (typeof value === 'string' ? readUuid(value) : undefined),
  equal: (a, b) => a === b,
  order: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
};

/** date, timestamp and timestamptz: ISO input read as PostgreSQL reads it; rows are PostgREST's ISO output. */
function timeDomain(type: 'date' | 'timestamp' | 'timestamptz', options: EvaluateOptions): Domain<unknown> {
  const input: ValueDomain<unknown> = type === 'date' ? dateDomain : type === 'timestamp' ? timestampDomain : timestamptzDomain(options.timeZone);
  const read = (text: string): Read<unknown> => {
    const parsed = input.parse(text);
    if (parsed !== NEEDS_SQL && !(parsed instanceof ValueRejected)) return ok(parsed);
    // timestamp reads what timestamptz could not: an ISO value without an offset.
    if (type === 'timestamptz' && parsed === NEEDS_SQL && Array.isArray(timestampDomain.parse(text))) {
      return fail(`timestamptz literal ${JSON.stringify(text)} has no offset and the session time zone is unknown`);
    }
    return fail(`${JSON.stringify(text)} is not an ISO ${type}`);
  };
  return {
    type,
    literal: read,
    row: (value) => {
      if (typeof value !== 'string') return undefined;
      const result = read(value);
      return result.ok ? result.value : undefined;
    },
    equal: (a, b) => input.compare(a, b) === 0,
    order: input.compare,
  };
}

const jsonbDomain: Domain<unknown> = {
  type: 'jsonb',
  literal(text) {
    try {
      return ok(JSON.parse(text) as unknown);
    } catch {
      return fail(`${JSON.stringify(text)} is not JSON`);
    }
  },
  row: (value) => value,
  equal: jsonbEqual,
  order: 'jsonb order is not reproduced on the client',
  json: true,
};

/** Arrays: `=` is element-wise (NULL elements equal each other, unlike in containment). */
function arrayDomain(element: Domain): Domain<Array<unknown | null>> {
  const readElements = (items: readonly ArrayElement[]): Read<Array<unknown | null>> => {
    const out: unknown[] = [];
    for (const item of items) {
      if (Array.isArray(item)) return fail(`multi-dimensional array literals are not evaluated on the client`);
      if (item === null) {
        out.push(null);
        continue;
      }
      const read = element.literal(item);
      if (!read.ok) return read;
      out.push(read.value);
    }
    return ok(out);
  };
  return {
    type: `${element.type}[]`,
    literal(text) {
      const items = readArrayLiteral(text);
      return !Array.isArray(items) ? fail(`${JSON.stringify(text)} is not an array literal the client reads`) : readElements(items);
    },
    row(value) {
      if (!Array.isArray(value)) return undefined;
      const out: unknown[] = [];
      for (const item of value) {
        if (item === null) out.push(null);
        else {
          const key = element.row(item);
          if (key === undefined) return undefined;
          out.push(key);
        }
      }
      return out;
    },
    equal: (a, b) => a.length === b.length && a.every((x, i) => (x === null || b[i] === null ? x === b[i] : element.equal(x, b[i]))),
    order: 'array order is not reproduced on the client',
    element,
  };
}

/**
 * Columns without a type: decided by the row value's JSON type (number → numeric, boolean → bool,
 * string → text). Only literals that read the same under every type a JSON string may come from
 * (plain numbers, or words without digits) are exact; there is no order.
 */
export const untypedDomain: Domain<unknown> = {
  type: 'untyped',
  literal(text) {
    if (/^-?\d+(\.\d+)?$/.test(text)) return ok(text);
    if (/^[\p{L}\p{M} _'-]+$/u.test(text) && !/^\s|\s$/.test(text) && !/^[+-]?(nan|inf|infinity|epoch|now|today|tomorrow|yesterday|allballs)$/i.test(text) && !/^[a-f-]{32,}$/i.test(text)) {
      return ok(text);
    }
    return fail(`${JSON.stringify(text)} may read differently depending on the column type`);
  },
  row: (value) => value,
  equal(a, b) {
    // a is the row value, b the literal text.
    const literal = String(b);
    if (typeof a === 'number') {
      const x = decimalOfJson(a);
      const y = decimalOfJson(literal);
      return x !== undefined && y !== undefined && compareDecimals(x, y) === 0;
    }
    if (typeof a === 'boolean') return readBoolean(literal) === a;
    if (typeof a === 'string') return a === literal;
    return false;
  },
  order: 'the column has no type (pass ColumnTypes)',
};

const TEXTS = new Set(['text', 'varchar', 'name']);

/** The domain of a declared type, or a string saying the type is not evaluated on the client. */
export function domainFor(column: ColumnType | undefined, options: EvaluateOptions): Domain | string {
  if (column === undefined) return untypedDomain;
  const type = column.type.trim().toLowerCase();
  if (type.startsWith('_')) {
    const element = domainFor({ ...column, type: type.slice(1) }, options);
    return typeof element === 'string' ? element : (arrayDomain(element) as Domain);
  }
  if (type.endsWith('[]')) return domainFor({ ...column, type: `_${type.slice(0, -2)}` }, options);
  if (INTEGER_INPUT[type] !== undefined || type === 'numeric' || type === 'decimal') return decimalDomain(type) as Domain;
  if (type === 'float4' || type === 'float8') return floatDomain(type) as Domain;
  if (type === 'bool' || type === 'boolean') return booleanDomain as Domain;
  if (TEXTS.has(type)) {
    // `name` always uses the C collation; other text types use theirs, or the database default.
    const { collation } = column;
    const byDefault = collation === undefined && options.textOrder === 'codepoint';
    const bytewise = type === 'name' || byDefault || ordersByCodePoint(collation);
    // Case folding follows lc_ctype, which a libc database may set apart from lc_collate.
    const asciiFold = type === 'name' || (byDefault && column.ctype === undefined) || foldsAsciiOnly(column.ctype ?? collation);
    return textDomain(type, bytewise, asciiFold) as Domain;
  }
  if (type === 'uuid') return uuidDomain as Domain;
  if (type === 'date' || type === 'timestamp' || type === 'timestamptz') return timeDomain(type, options) as Domain;
  if (type === 'jsonb') return jsonbDomain;
  return `type ${type} is not evaluated on the client`;
}

export { jsonbContains };
