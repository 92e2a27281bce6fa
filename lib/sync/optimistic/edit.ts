/**
 * `setQueryData` on an entry under an optimistic layer: the app edited what it is shown (server data
 * with pending writes on top). The edit goes into the server data beneath the layer, so a later
 * commit or rollback recomputes from data that contains it, and a rollback removes only the write.
 */
import { keyIndexOf, rowKey } from './layer.js';
import type { Row } from '../patch.js';

/** Equal as JSON values (rows come as JSON). */
export function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function isKeyedRows(value: unknown, primaryKey: readonly string[]): value is Row[] {
  return Array.isArray(value) && value.every((row) => row !== null && typeof row === 'object' && !Array.isArray(row) && primaryKey.every((column) => (row as Row)[column] !== undefined));
}

/**
 * The server data beneath the layer once the app replaced `shown` with `next`; undefined when the
 * data is no list of keyed rows (then only the new data as a whole can stand for the server's).
 * - A row the app added is added.
 * - A row the app removed is removed.
 * - A row the app changed gets the fields it changed, on the server's version of the row (the
 *   pending writes' own fields stay on top until they settle).
 * - A row only a pending write shows (its insert) is left to the layer, which puts it back.
 * - A row the layer hides (a pending delete) was never seen by the app: it stays, after the row
 *   that came before it.
 */
export function baseUnderEdit(next: unknown, shown: unknown, base: unknown, primaryKey: readonly string[]): Row[] | undefined {
  if (!isKeyedRows(next, primaryKey) || !isKeyedRows(shown, primaryKey) || !isKeyedRows(base, primaryKey)) return undefined;
  const shownByKey = keyIndexOf(shown, primaryKey);
  const baseByKey = keyIndexOf(base, primaryKey);
  const out: Row[] = [];
  const placed = new Set<string>();
  for (const row of next) {
    const key = rowKey(row, primaryKey);
    const before = shownByKey.get(key);
    const under = baseByKey.get(key);
    if (!before) {
      out.push(row);
      placed.add(key);
      continue;
    }
    if (!under) continue;
    const edited: Row = { ...under };
    for (const [field, value] of Object.entries(row)) if (!sameValue(value, before[field])) edited[field] = value;
    out.push(edited);
    placed.add(key);
  }
  let previous: string | undefined;
  for (const row of base) {
    const key = rowKey(row, primaryKey);
    if (!shownByKey.has(key) && !placed.has(key)) {
      const at = previous === undefined ? 0 : out.findIndex((candidate) => rowKey(candidate, primaryKey) === previous) + 1;
      out.splice(at, 0, row);
      placed.add(key);
    }
    if (placed.has(key)) previous = key;
  }
  return out;
}
