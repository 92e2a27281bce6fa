/**
 * The `select` list as a row projection. Plain columns, `*`, aliases (`alias:col`), quoted names and
 * casts that do not change the JSON value are exact; embedded resources, spreads, aggregates, json
 * paths and value-changing casts are reported as inexact.
 */
import { splitTopLevel } from '../builder/split.js';
import type { ColumnType, Row } from './types.js';

type Field = { kind: 'all' } | { kind: 'column'; key: string; column: string };

const unquote = (name: string) => (/^".*"$/.test(name) ? name.slice(1, -1).replace(/\\(.)/g, '$1') : name);

/** Casts that leave the JSON value as it is for a column of the given type. */
function castKeepsValue(cast: string, type: ColumnType | undefined): boolean {
  if (type === undefined) return false;
  const from = type.type.toLowerCase();
  const to = cast.toLowerCase();
  if (from === to) return true;
  const textual = new Set(['text', 'varchar', 'name', 'uuid', 'date']);
  // Types whose JSON value already is their text output.
  return (to === 'text' || to === 'varchar') && textual.has(from);
}

/** The fields of a select list; inexact items are reported and left out. */
function readSelect(select: string, columnType: (column: string) => ColumnType | undefined, inexact: (reason: string) => void): Field[] {
  const fields: Field[] = [];
  for (const raw of splitTopLevel(select)) {
    const item = raw.trim();
    if (item === '*') {
      fields.push({ kind: 'all' });
      continue;
    }
    const aliased = /^("(?:[^"\\]|\\.)*"|[^:"()]+):(?!:)(.*)$/.exec(item);
    const alias = aliased ? unquote(aliased[1]!) : undefined;
    const body = aliased ? aliased[2]! : item;
    if (body.includes('(')) {
      inexact(/^[^(]*\.(count|sum|avg|min|max)\(\)/.test(body) || /^count\(\)/.test(body) ? `aggregate ${item}` : `embedded resource ${item}`);
      continue;
    }
    if (body.startsWith('...')) {
      inexact(`spread ${item}`);
      continue;
    }
    const cast = /^(.*?)::([A-Za-z_][\w ]*)$/.exec(body);
    const name = unquote(cast ? cast[1]! : body);
    if (/->/.test(name)) {
      inexact(`json path ${item}`);
      continue;
    }
    if (cast && !castKeepsValue(cast[2]!, columnType(name))) {
      inexact(`cast ${item}`);
      continue;
    }
    fields.push({ kind: 'column', key: alias ?? name, column: name });
  }
  return fields;
}

/** The projection of a select list (`*` when absent). */
export function compileSelect(
  select: string | undefined,
  columnType: (column: string) => ColumnType | undefined,
  inexact: (reason: string) => void,
): (row: Row) => Row {
  const fields = readSelect(select ?? '*', columnType, inexact);
  return (row) => {
    const out: Row = {};
    const put = (key: string, value: unknown) => {
      // defineProperty keeps a `__proto__` column an own key, as JSON.parse would.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    };
    for (const field of fields) {
      if (field.kind === 'all') for (const [key, value] of Object.entries(row)) put(key, value);
      else put(field.key, row[field.column] ?? null);
    }
    return out;
  };
}
