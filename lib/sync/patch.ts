/**
 * Applying row changes to one cached result: the pure part of live entries (live.ts decides what
 * to follow and when; this decides what the rows become, or that only a refetch can tell).
 *
 * Rows stay in the request's order with the primary key breaking ties (PostgREST's own order among
 * equal rows is unspecified), found by binary search; a key → row index outlives the batch. The
 * result is a plain copy edited with native splices, made on the first change that touches the
 * entry (most batches touch few entries), then frozen: the cache takes it as one root replace.
 */
import type { CompiledQuery } from '../postgrest/evaluate/index.js';
import type { RealtimeChange } from './changes.js';

export type Row = Record<string, unknown>;

/** A key index of rows, and the rows (by identity) it was built for. */
export interface KeyIndex {
  rows: unknown;
  byKey: Map<string, Row>;
}

export interface PatchInput {
  query: CompiledQuery;
  primaryKey: readonly string[];
  /** The cached rows (never mutated). */
  rows: readonly Row[];
  /** The index of the previous batch; rebuilt when it was built for other rows (a fetch replaced them). */
  index: KeyIndex | undefined;
  changes: readonly RealtimeChange[];
}

export type PatchResult =
  /** Nothing in the result changed. */
  | { kind: 'unchanged'; index: KeyIndex }
  /** The new rows, and how many rows the result gained (negative: lost) — for exact counts. */
  | { kind: 'patched'; rows: Row[]; delta: number; index: KeyIndex }
  /** Only a fetch can tell (a row left a full window, a change lacks the key or order columns ...). */
  | { kind: 'refetch' };

/** Patches a result that `query` can evaluate exactly (`query.exact`, a list, no offset). */
export function patchRows({ query, primaryKey, rows: source, index, changes }: PatchInput): PatchResult {
  for (const change of changes) {
    const keyed = change.eventType === 'DELETE' ? change.old : change.new;
    if (!primaryKey.every((column) => column in keyed)) return { kind: 'refetch' };
  }
  const keyOf = (row: Row) => JSON.stringify(primaryKey.map((column) => row[column] ?? null));
  const needed = [...primaryKey, ...query.orderColumns];
  const selected = query.project;
  const keepsKeyAndOrder = (projected: Row, full: Row) => needed.every((column) => column in projected && projected[column] === full[column]);
  // The index is edited in place: a refetch result makes the caller drop it (it may hold part of the batch).
  const byKey = index && index.rows === source ? index.byKey : new Map(source.map((row) => [keyOf(row), row]));

  let rows: Row[] = source as Row[];
  const writable = () => (rows === source ? (rows = source.slice()) : rows);
  const find = (row: Row, key: string): number => {
    let position = lowerBound(rows, row, query.compare);
    for (; position < rows.length && query.compare(rows[position]!, row) === 0; position++) if (keyOf(rows[position]!) === key) return position;
    return -1;
  };
  const limit = query.window.limit;
  /** The window holds `limit` rows: rows beyond it may exist in the database. */
  const isFull = () => limit !== null && rows.length >= limit;
  let delta = 0;
  let changed = false;
  for (const change of changes) {
    // The stored rows lack the key or the order columns (not selected, or renamed): can't place rows.
    if (change.eventType !== 'DELETE' && !keepsKeyAndOrder(selected(change.new), change.new)) return { kind: 'refetch' };
    // A row left a full window: one from beyond it (unknown here) may have to come in.
    let gap = false;
    const oldKey = keyOf(change.eventType === 'INSERT' ? change.new : change.old);
    const existing = byKey.get(oldKey);
    if (existing !== undefined) {
      const position = find(existing, oldKey);
      if (position < 0) return { kind: 'refetch' }; // the index and the rows disagree: start over
      gap = isFull();
      writable().splice(position, 1);
      byKey.delete(oldKey);
      delta--;
      changed = true;
    }
    if (change.eventType === 'DELETE' || !query.matches(change.new)) {
      if (gap) return { kind: 'refetch' };
      continue;
    }
    const row = selected(change.new);
    const newKey = keyOf(row);
    let position = lowerBound(rows, row, query.compare);
    while (position < rows.length && query.compare(rows[position]!, row) === 0 && keyOf(rows[position]!) < newKey) position++;
    if (limit !== null && position >= rows.length) {
      // After every row held: with a gap an unknown row may come first; in a full window it is beyond it.
      if (gap) return { kind: 'refetch' };
      if (isFull()) continue;
    }
    writable().splice(position, 0, freezeDeep(row));
    byKey.set(newKey, row);
    delta++;
    changed = true;
    if (limit !== null && rows.length > limit) byKey.delete(keyOf(rows.pop()!)); // pushed out of the window
  }
  // Frozen like everything in the store: Immer then takes the array as is, instead of walking every
  // row of it looking for drafts to finalize (the rows kept from the cache are frozen already).
  return changed ? { kind: 'patched', rows: Object.freeze(rows) as Row[], delta, index: { rows, byKey } } : { kind: 'unchanged', index: { rows: source, byKey } };
}

/** Whether `change` can alter the result of `query` (for entries that are refetched, not patched). */
export function touches(query: CompiledQuery | undefined, change: RealtimeChange): boolean {
  if (!query) return true;
  // A DELETE's old row may have been in the result; an UPDATE's row may have entered or left it.
  if (change.eventType !== 'INSERT') return true;
  return query.matches(change.new);
}

/** The first position in `rows` (sorted by `order`) whose row does not sort before `row`. */
function lowerBound(rows: readonly Row[], row: Row, order: (a: Row, b: Row) => number): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (order(rows[middle]!, row) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Freezes `value` and everything in it (as Immer would when the value enters the store). */
export function freezeDeep<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freezeDeep(child);
  }
  return value;
}
