/**
 * Applying row changes to one cached result: the pure part of live entries (live.ts decides what
 * to follow and when; this decides what the rows become, or that only a refetch can tell).
 *
 * Rows stay in the request's order with the primary key breaking ties (PostgREST's own order among
 * equal rows is unspecified), found by binary search; a key → row index outlives the batch. The
 * result is a plain copy edited with native splices, made on the first change that touches the
 * entry (most batches touch few entries), then frozen: the cache takes it as one root replace.
 *
 * A top-N window (limit N, no offset) is patched on its known prefix: the cached rows and the spare
 * rows fetched past them (kept outside the store), together the exact first rows of the whole
 * result, all of it when `complete`. A row whose place is after every known row is dropped unless
 * complete; the prefix is trimmed to N + spareRows; the cached rows are its first N. Only a prefix
 * shorter than N that is not complete needs a refetch.
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
  /** Windows: the known rows past the cached ones (never mutated); default none. */
  spares?: readonly Row[];
  /** Windows: how many spare rows to keep at most; default 0. */
  spareRows?: number;
  /**
   * Windows: the cached rows and spares are every row of the result (the fetch returned fewer rows
   * than it asked for); default: fewer cached rows than the limit, and no spares.
   */
  complete?: boolean;
}

/** What a window's known prefix became (also for unchanged cached rows: the spares may have changed). */
export interface KnownRows {
  /** The spare rows past the cached ones (the input's by identity when they did not change). */
  spares: readonly Row[];
  complete: boolean;
}

export type PatchResult =
  /** Nothing in the result changed. */
  | ({ kind: 'unchanged'; index: KeyIndex } & KnownRows)
  /** The new rows, and how many rows the result gained (negative: lost) — for exact counts. */
  | ({ kind: 'patched'; rows: Row[]; delta: number; index: KeyIndex } & KnownRows)
  /** Only a fetch can tell (a window's known rows fell short of it, a change lacks the key or order columns ...). */
  | { kind: 'refetch' };

/** Patches a result that `query` can evaluate exactly (`query.exact`, a list, no offset). */
export function patchRows({ query, primaryKey, rows: source, index, changes, spares = [], spareRows = 0, complete: given }: PatchInput): PatchResult {
  const { keyOf, keyed, keepsKeyAndOrder } = rowShape(query, primaryKey);
  if (!keyed(changes)) return { kind: 'refetch' };
  const selected = query.project;
  const limit = query.window.limit;
  // The index (of every known row) is edited in place: a refetch result makes the caller drop it (it may hold part of the batch).
  const byKey = index && index.rows === source ? index.byKey : new Map([...source, ...spares].map((row) => [keyOf(row), row]));
  /** Every row of the result is known (rows after the last known one may not exist otherwise). */
  let complete = limit === null || (given ?? (spares.length === 0 && source.length < limit));
  /** The most rows known: a window's N and its spares. */
  const capacity = limit === null ? Infinity : limit + Math.max(0, spareRows);
  /** Cached rows come first in the known ones; at or past `visible` a position is a spare's. */
  const visible = limit === null ? Infinity : limit;

  let rows: Row[] = (spares.length === 0 ? source : source.concat(spares)) as Row[];
  const writable = () => (rows === source ? (rows = source.slice()) : rows);
  const find = (row: Row, key: string): number => {
    let position = lowerBound(rows, row, query.compare);
    for (; position < rows.length && query.compare(rows[position]!, row) === 0; position++) if (keyOf(rows[position]!) === key) return position;
    return -1;
  };
  let delta = 0;
  /** The cached rows (the first `visible` known ones) changed. */
  let changed = false;
  /** The known rows changed. */
  let touched = false;
  for (const change of changes) {
    // The stored rows lack the key or the order columns (not selected, or renamed): can't place rows.
    if (change.eventType !== 'DELETE' && !keepsKeyAndOrder(selected(change.new), change.new)) return { kind: 'refetch' };
    const oldKey = keyOf(change.eventType === 'INSERT' ? change.new : change.old);
    const existing = byKey.get(oldKey);
    if (existing !== undefined) {
      const position = find(existing, oldKey);
      if (position < 0) return { kind: 'refetch' }; // the index and the rows disagree: start over
      writable().splice(position, 1);
      byKey.delete(oldKey);
      delta--;
      touched = true;
      if (position < visible) changed = true;
    }
    if (change.eventType === 'DELETE' || !query.matches(change.new)) continue;
    const row = selected(change.new);
    const newKey = keyOf(row);
    let position = lowerBound(rows, row, query.compare);
    while (position < rows.length && query.compare(rows[position]!, row) === 0 && keyOf(rows[position]!) < newKey) position++;
    // After every known row: beyond what we know unless that is the whole result.
    if (position >= rows.length && !complete) continue;
    writable().splice(position, 0, freezeDeep(row));
    byKey.set(newKey, row);
    delta++;
    touched = true;
    if (position < visible) changed = true;
    if (rows.length > capacity) {
      byKey.delete(keyOf(rows.pop()!)); // pushed out of what we keep
      complete = false;
    }
  }
  // The known rows fell short of the window: only a fetch can tell the rest.
  if (!complete && rows.length < visible) return { kind: 'refetch' };
  const shown = limit === null || rows.length <= visible ? rows : rows.slice(0, visible);
  const known: KnownRows = { spares: touched ? (limit === null ? [] : rows.slice(visible)) : spares, complete };
  if (limit !== null) delta = 0; // counts are refetched with windows: only an unwindowed result's delta is read
  // Frozen like everything in the store: Immer then takes the array as is, instead of walking every
  // row of it looking for drafts to finalize (the rows kept from the cache are frozen already).
  return changed
    ? { kind: 'patched', rows: Object.freeze(shown) as Row[], delta, index: { rows: shown, byKey }, ...known }
    : { kind: 'unchanged', index: { rows: source, byKey }, ...known };
}

/** How rows of a result are keyed and placed: what plain lists (patchRows) and pages (patchPages.ts) share. */
export function rowShape(query: CompiledQuery, primaryKey: readonly string[]) {
  const needed = [...primaryKey, ...query.orderColumns];
  return {
    /** A row's primary key as a string. */
    keyOf: (row: Row): string => JSON.stringify(primaryKey.map((column) => row[column] ?? null)),
    /** Every change carries its row's key (a DELETE in its old row). */
    keyed: (changes: readonly RealtimeChange[]): boolean => changes.every((change) => primaryKey.every((column) => column in (change.eventType === 'DELETE' ? change.old : change.new))),
    /** The projected row keeps the key and order columns as they are (else it can't be placed among stored rows). */
    keepsKeyAndOrder: (projected: Row, full: Row): boolean => needed.every((column) => column in projected && projected[column] === full[column]),
  };
}

/** Whether `change` can alter the result of `query` (for entries that are refetched, not patched). */
export function touches(query: CompiledQuery | undefined, change: RealtimeChange): boolean {
  if (!query) return true;
  // A DELETE's old row may have been in the result; an UPDATE's row may have entered or left it.
  if (change.eventType !== 'INSERT') return true;
  return query.matches(change.new);
}

/** The first position in `rows` (sorted by `order`) whose row does not sort before `row`. */
export function lowerBound(rows: readonly Row[], row: Row, order: (a: Row, b: Row) => number): number {
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
