/**
 * Column values from pgoutput (PostgreSQL's TEXT output of each value, plus the column's typname)
 * turned into the JSON value PostgREST returns for the same value, i.e. `JSON.parse` of
 * `to_json(value)`. A row from a change event then deep-equals the row fetched through PostgREST.
 *
 * What the caller must guarantee (the text forms depend on session settings of the replication
 * connection, which must equal those of PostgREST's sessions):
 * - DateStyle 'ISO, MDY' (ISO output is required: date/timestamp conversion reads it; the default).
 * - IntervalStyle 'postgres', bytea_output 'hex', extra_float_digits 1 (defaults): intervals, bytea and
 *   floats pass through as text, so they only match when both sides print them alike.
 * - TimeZone equal to what PostgREST's sessions see (the database's default unless overridden):
 *   to_json prints a timestamptz in the session zone, and so does the text output we rewrite.
 * - lc_monetary likewise for money.
 * - Domains: pass the base type's typname (pg_type.typbasetype, for arrays `_` + base element), as
 *   to_json looks through domains. pgoutput's Relation message names the domain itself.
 * - Composite types: pass `composite` to converterFor with the attribute names and (base) typnames;
 *   without it a composite value stays its record text, where to_json would give an object.
 * - Other types with a cast to json (extensions other than hstore) are unknown here and stay strings.
 *
 * int8 and numeric beyond 2^53 become the nearest double, exactly as `JSON.parse` of PostgREST's
 * digits does; NaN and ±Infinity (numeric, float4, float8) become the strings to_json prints.
 */
import { readArrayText, readHstoreText, readRecordText, type ElementReader } from './pgTextFormats.js';

/** Converts one column value (pgoutput text, null for SQL NULL) to its JSON value. */
export type PgValueConverter = (text: string | null) => unknown;

/** One attribute of a composite type, in attribute order (dropped attributes left out). */
export interface CompositeAttribute {
  name: string;
  /** Base typname (domains resolved), like the column typnames. */
  typname: string;
}

export interface ConverterOptions {
  /** Attributes of a composite type by typname; undefined for a type that is not composite. */
  composite?: (typname: string) => readonly CompositeAttribute[] | undefined;
}

const identity: PgValueConverter = (text) => text;

const toInteger: PgValueConverter = (text) => (text === null ? null : Number(text));

/** numeric/float: to_json prints the digits, except NaN and infinities, which are not JSON numbers. */
const toNumeric: PgValueConverter = (text) => {
  if (text === null) return null;
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return text;
  return Number(text);
};

const toBoolean: PgValueConverter = (text) => (text === null ? null : text === 't');

const toParsedJson: PgValueConverter = (text) => (text === null ? null : JSON.parse(text));

/** ISO `2026-11-24 10:00:00.5` (maybe ` BC`) → to_json's `2026-11-24T10:00:00.5`. */
const toTimestamp: PgValueConverter = (text) => {
  if (text === null || text.charCodeAt(0) > 57 /* infinity, -infinity */ || text.charCodeAt(0) === 45) return text;
  const space = text.indexOf(' ');
  return `${text.slice(0, space)}T${text.slice(space + 1)}`;
};

/**
 * ISO `2026-11-24 10:00:00.5+00` → `2026-11-24T10:00:00.5+00:00`: to_json always prints the offset's
 * minutes (XSD style) where ISO output drops zero minutes; an offset with seconds prints alike in both.
 */
const toTimestampTz: PgValueConverter = (text) => {
  if (text === null || text.charCodeAt(0) > 57 || text.charCodeAt(0) === 45) return text;
  const space = text.indexOf(' ');
  const bc = text.endsWith(' BC');
  const end = bc ? text.length - 3 : text.length;
  // The offset's sign is the last + or - (the time part has neither).
  let sign = end - 1;
  while (sign > space && text.charCodeAt(sign) !== 43 && text.charCodeAt(sign) !== 45) sign--;
  const offset = text.slice(sign, end);
  return `${text.slice(0, space)}T${text.slice(space + 1, sign)}${offset.length === 3 ? `${offset}:00` : offset}${bc ? ' BC' : ''}`;
};

/** int2vector prints like `1 2 3`; to_json treats it as the int2 array it is. */
const toInt2Vector: PgValueConverter = (text) => (text === null ? null : text === '' ? [] : text.split(' ').map(Number));

/** oidvector: an array of oid, whose elements to_json prints as strings. */
const toOidVector: PgValueConverter = (text) => (text === null ? null : text === '' ? [] : text.split(' '));

const toHstoreObject: PgValueConverter = (text) => (text === null ? null : readHstoreText(text));

const SCALARS: Readonly<Record<string, PgValueConverter>> = {
  int2: toInteger,
  int4: toInteger,
  int8: toInteger,
  float4: toNumeric,
  float8: toNumeric,
  numeric: toNumeric,
  bool: toBoolean,
  json: toParsedJson,
  jsonb: toParsedJson,
  // date: ISO output equals to_json's (including ` BC` and infinity).
  date: identity,
  timestamp: toTimestamp,
  timestamptz: toTimestampTz,
  int2vector: toInt2Vector,
  oidvector: toOidVector,
  // hstore (an extension) has a cast to json, which to_json uses: an object of strings.
  hstore: toHstoreObject,
};

/** Array delimiters other than ',' (pg_type.typdelim). */
const DELIMITERS: Readonly<Record<string, number>> = { box: 59 /* ; */ };

/**
 * A converter for columns of type `typname` (pg_type.typname of the base type). Everything not
 * listed above (text, varchar, uuid, bytea, enums, ranges, interval, money, time, timetz, oid,
 * tsvector, inet, ...) is a JSON string equal to the text output, as to_json renders it.
 */
export function converterFor(typname: string, options: ConverterOptions = {}): PgValueConverter {
  const scalar = SCALARS[typname];
  if (scalar) return scalar;
  if (typname.length > 1 && typname.charCodeAt(0) === 95 /* _ */) {
    const elementTypname = typname.slice(1);
    const element: ElementReader = converterFor(elementTypname, options);
    const delimiter = DELIMITERS[elementTypname] ?? 44;
    return (text) => (text === null ? null : readArrayText(text, delimiter, element));
  }
  const attributes = options.composite?.(typname);
  if (attributes) return compositeConverter(attributes, options);
  return identity;
}

/** A row of a composite type → an object keyed by attribute name, each attribute converted by its type. */
function compositeConverter(attributes: readonly CompositeAttribute[], options: ConverterOptions): PgValueConverter {
  const converters = attributes.map((attribute) => converterFor(attribute.typname, options));
  return (text) => {
    if (text === null) return null;
    const fields = readRecordText(text);
    const result: Record<string, unknown> = {};
    attributes.forEach((attribute, index) => {
      const value = converters[index]!(fields[index] ?? null);
      // defineProperty: an attribute named __proto__ stays an own key, as in JSON.parse.
      Object.defineProperty(result, attribute.name, { value, enumerable: true, writable: true, configurable: true });
    });
    return result;
  };
}

const cache = new Map<string, PgValueConverter>();

/** `to_json` of the value whose text output is `text` (see the module notes for the settings it assumes). */
export function toJsonValue(text: string | null, typname: string): unknown {
  let converter = cache.get(typname);
  if (!converter) {
    converter = converterFor(typname);
    cache.set(typname, converter);
  }
  return converter(text);
}
