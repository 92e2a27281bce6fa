/** What `gen types` knows about a schema, from either source (PostgREST's OpenAPI or the catalog). */

export interface ColumnModel {
  name: string;
  /** The TypeScript type of a non-null value, e.g. `number`, `string[]`, `"a" | "b"`. */
  type: string;
  nullable: boolean;
  /** Insert may leave it out: it has a default, is an identity or generated column, or may be null. */
  optionalOnInsert: boolean;
}

export interface RelationModel {
  name: string;
  columns: ColumnModel[];
}

export interface FunctionModel {
  name: string;
  args: Array<{ name: string; type: string; optional: boolean }>;
  /** TypeScript type of the result; `unknown` when the source does not say. */
  returns: string;
}

export interface SchemaModel {
  schema: string;
  tables: RelationModel[];
  views: RelationModel[];
  functions: FunctionModel[];
  /** Enum name → its labels in order. */
  enums: Map<string, string[]>;
}

/** A failure `gen types` reports as one line (exit code 1). */
export class GenTypesError extends Error {
  override readonly name = 'GenTypesError';
}

const NUMBER_TYPES = new Set(['smallint', 'integer', 'bigint', 'real', 'double precision', 'numeric', 'decimal', 'int2', 'int4', 'int8', 'float4', 'float8', 'oid']);
const STRING_TYPES = new Set([
  'text', 'character varying', 'varchar', 'character', 'char', 'bpchar', 'name', 'citext', 'uuid', 'date', 'time', 'time without time zone',
  'time with time zone', 'timetz', 'timestamp', 'timestamp without time zone', 'timestamp with time zone', 'timestamptz', 'interval', 'bytea',
  'inet', 'cidr', 'macaddr', 'macaddr8', 'money', 'tsvector', 'tsquery', 'bit', 'bit varying', 'varbit', 'xml', 'point', 'line', 'lseg', 'box',
  'path', 'polygon', 'circle', 'int4range', 'int8range', 'numrange', 'tsrange', 'tstzrange', 'daterange', 'int4multirange', 'int8multirange',
  'nummultirange', 'tsmultirange', 'tstzmultirange', 'datemultirange', 'regclass', 'regtype', 'regproc', 'ltree', 'lquery', 'hstore',
]);

/**
 * The TypeScript type PostgREST's JSON gives a PostgreSQL type (`pgType` as format_type writes it, with
 * `[]` for arrays). bigint and numeric are numbers because PostgREST sends them as JSON numbers.
 */
export function tsTypeOf(pgType: string, enums: ReadonlyMap<string, readonly string[]>): string {
  const type = pgType.replace(/\(.*?\)/, '').trim();
  if (type.endsWith('[]')) return arrayOf(tsTypeOf(type.slice(0, -2), enums));
  if (type === 'boolean' || type === 'bool') return 'boolean';
  if (type === 'json' || type === 'jsonb') return 'Json';
  if (NUMBER_TYPES.has(type)) return 'number';
  if (STRING_TYPES.has(type)) return 'string';
  const labels = enums.get(type) ?? enums.get(type.replace(/^.*\./, ''));
  if (labels) return enumUnion(labels);
  return 'unknown';
}

/** `"a" | "b"`, or `never` for an enum without labels. */
export function enumUnion(labels: readonly string[]): string {
  return labels.length === 0 ? 'never' : labels.map((label) => JSON.stringify(label)).join(' | ');
}

/** The array type of `item`, parenthesized when it is a union (an inline row `{ … }` never is one). */
export function arrayOf(item: string): string {
  return /[|&]/.test(item) && !/^\{.*\}$/s.test(item) ? `(${item})[]` : `${item}[]`;
}

/** A property name, quoted unless it is a plain identifier. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

/** Orders models by name (code-point order, as PostgreSQL orders `name` values). */
export function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
