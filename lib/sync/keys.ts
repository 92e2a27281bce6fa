/**
 * Primary key values checked against their column's type before a change reaches a live entry.
 * Entries find rows by key: a key of the wrong JSON type (`"2"` for an int4 `id`, `null`) equals no
 * cached row's, so an UPDATE would add a second row and a DELETE would remove nothing. Only a
 * misbehaving server or proxy sends one; such a change is ignored, with one warning per channel and
 * column (a flood of bad changes must not flood the console).
 *
 * The expected shapes are the JSON PostgREST returns (`to_json`), as lib/server/realtime/replication/pgValues.ts
 * renders change values too: integers, floats and numeric are numbers (numeric and floats also the
 * strings `NaN`, `Infinity`, `-Infinity`), bool a boolean, `oid` and the other built-in scalar types
 * strings, arrays (`_int4`) arrays. Types not known here (enums, domains a server did not resolve,
 * composites, extensions) take any non-null value.
 */
import type { ColumnTypes } from '../postgrest/evaluate/index.js';
import type { RealtimeChange } from './changes.js';

type KeyShape = 'integer' | 'number' | 'boolean' | 'string' | 'array' | 'json' | 'any';

// A Map: a type named like an Object.prototype member (an enum `constructor`) must not find one.
const SHAPES: ReadonlyMap<string, KeyShape> = new Map(Object.entries({
  int2: 'integer',
  int4: 'integer',
  int8: 'integer',
  float4: 'number',
  float8: 'number',
  numeric: 'number',
  bool: 'boolean',
  // jsonb 'null' is a value (and a key) whose JSON is null.
  json: 'json',
  jsonb: 'json',
  ...Object.fromEntries(
    [
      'text', 'varchar', 'bpchar', 'char', 'name', 'citext', 'uuid', 'date', 'time', 'timetz', 'timestamp', 'timestamptz',
      'interval', 'bytea', 'money', 'oid', 'inet', 'cidr', 'macaddr', 'macaddr8', 'bit', 'varbit', 'xml', 'tsvector',
      'int4range', 'int8range', 'numrange', 'daterange', 'tsrange', 'tstzrange',
    ].map((type) => [type, 'string' as const]),
  ),
}) as Array<[string, KeyShape]>);

const EXPECTED: Readonly<Record<KeyShape, string>> = {
  integer: 'an integer number',
  number: 'a number',
  boolean: 'a boolean',
  string: 'a string',
  array: 'an array',
  json: 'any JSON value',
  any: 'a non-null value',
};

/** What JSON a key column of PostgreSQL type `type` holds. */
function shapeOf(type: string): KeyShape {
  if (type.length > 1 && type.charCodeAt(0) === 95 /* _ */) return 'array';
  return SHAPES.get(type) ?? 'any';
}

/**
 * Whether `value` is a key of `shape`. Integers are not required to be safe: PostgREST returns an
 * int8 beyond 2^53 as its digits, which JSON.parse (in the fetch and the change alike) rounds to
 * the same double, so refusing them would stop live entries of tables with such keys.
 */
function fits(value: unknown, shape: KeyShape): boolean {
  switch (shape) {
    case 'json':
      return true;
    case 'any':
      return value !== null;
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' || value === 'NaN' || value === 'Infinity' || value === '-Infinity';
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'array':
      return Array.isArray(value);
  }
}

/** The JSON type of `value`, for warnings. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer number' : 'a number that is not an integer';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Keeps the changes of a batch whose key values fit their columns' types; warns once per channel and column. */
export function createKeyCheck(warn: (message: string) => void) {
  const warned = new Set<string>();

  /** The type of `column`: the server's description of the table (`declared`), else the change's own column list. */
  function typeOf(column: string, change: RealtimeChange, declared: ColumnTypes | undefined): string | undefined {
    const described = declared && Object.hasOwn(declared, column) ? declared[column] : undefined;
    if (described !== undefined) return typeof described === 'string' ? described : described.type;
    for (const listed of change.columns) if (listed.name === column) return typeof listed.type === 'string' ? listed.type : undefined;
    return undefined;
  }

  /** The first key value of `change` that does not fit its column's type (absent columns are left to patching, which refetches). */
  function misfit(change: RealtimeChange, primaryKey: readonly string[], declared: ColumnTypes | undefined): { column: string; type: string | undefined; value: unknown } | undefined {
    // An INSERT's key is in its new row, a DELETE's (and a LEAVE's) in its old one, an UPDATE's in both.
    for (const column of primaryKey) {
      const inNew = change.eventType !== 'DELETE' && column in change.new;
      const inOld = change.eventType !== 'INSERT' && column in change.old;
      if (!inNew && !inOld) continue;
      const type = typeOf(column, change, declared);
      const shape = type === undefined ? 'any' : shapeOf(type);
      if (inNew && !fits(change.new[column], shape)) return { column, type, value: change.new[column] };
      if (inOld && !fits(change.old[column], shape)) return { column, type, value: change.old[column] };
    }
    return undefined;
  }

  return function validKeys(channel: string, changes: readonly RealtimeChange[], primaryKeyOf: (table: string) => readonly string[], declared: ColumnTypes | undefined): readonly RealtimeChange[] {
    let kept: RealtimeChange[] | undefined;
    changes.forEach((change, index) => {
      const bad = misfit(change, primaryKeyOf(change.table), declared);
      if (!bad) {
        kept?.push(change);
        return;
      }
      kept ??= changes.slice(0, index);
      const once = `${channel}\u0000${bad.column}`;
      if (warned.has(once)) return;
      warned.add(once);
      const shape = bad.type === undefined ? 'any' : shapeOf(bad.type);
      warn(
        `[rtk-postgrest sync] ${change.leave ? 'LEAVE' : change.eventType} on ${channel}: key column ${JSON.stringify(bad.column)} of ${change.schema}.${change.table} is ${bad.type ?? 'of a type not described'}, ` +
          `so its value must be ${EXPECTED[shape]}; got ${jsonType(bad.value)}: changes with such keys are ignored (warned once per channel and column)`,
      );
    });
    return kept ?? changes;
  };
}
