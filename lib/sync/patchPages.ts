/**
 * Applying row changes to a live infinite entry's `{ pages, pageParams }` (keyset pages): the pure
 * part, as patch.ts is for plain lists.
 *
 * Keyset pages are contiguous ranges of one list ordered by a unique cursor, so every loaded row
 * has its place in the concatenation of the pages and a changed row is placed (or removed) by
 * binary search, first over the pages, then inside one. A row whose place is before the first
 * loaded row or after the last one (as they were before the change) is outside what is loaded
 * when the endpoint's page params say more pages can be fetched there (`hasPrevious` / `hasNext`):
 * it is left to that fetch (whose cursor is the first / last loaded row's, so it brings the row
 * exactly once). Where no more pages can be fetched, the loaded pages are the whole list at that
 * end and the row goes in the first or last page, unless the first page's own param leaves it out
 * (`{ after: v }` and the row's cursor is not past v); a last page read backwards from a cursor
 * (`{ before }`) with no next page is refetched instead. Page sizes drift with patching; the next page param stays right because it is read
 * from the last loaded row. A change after which the end (or start) no longer looks open while it
 * was (the last page became short or empty: the endpoint would report no next page although
 * unloaded rows follow) needs a refetch.
 *
 * Only the pages a change touches are copied (then frozen, with the new `pages` array and data
 * object: the cache takes them as they are); untouched pages keep their identity.
 */
import type { InfiniteData } from '../api/pages.js';
import type { CompiledQuery } from '../postgrest/evaluate/index.js';
import type { RealtimeChange } from './changes.js';
import { freezeDeep, lowerBound, rowShape, type KeyIndex, type Row } from './patch.js';

export interface PagesInput {
  /** The whole list's query (its filters, its order by the cursor, its select list); exact. */
  query: CompiledQuery;
  primaryKey: readonly string[];
  /** The cached pages (never mutated). */
  data: InfiniteData;
  /** The index of the previous batch; rebuilt when it was built for other data (a fetch replaced it). */
  index: KeyIndex | undefined;
  changes: readonly RealtimeChange[];
  /** Whether rows after the last loaded one will come with fetchNextPage. */
  hasNext: (data: InfiniteData) => boolean;
  /** Whether rows before the first loaded one will come with fetchPreviousPage. */
  hasPrevious: (data: InfiniteData) => boolean;
  /** What the first page's param leaves out before it, and the last page's after it (PagedList `bounds`). */
  bounds: { start?: Row; end?: Row };
}

/** Where the loaded rows begin and end: page indexes (-1 when no row is loaded) and rows. */
interface Ends {
  first: number;
  last: number;
  firstRow?: Row;
  lastRow?: Row;
}

export type PagesResult =
  | { kind: 'unchanged'; index: KeyIndex }
  | { kind: 'patched'; data: InfiniteData; index: KeyIndex }
  /** Only a fetch can tell (a page end stopped looking open, a change lacks the key or order columns ...). */
  | { kind: 'refetch' };

/** Patches the pages of a keyset-paged list whose query is exact. */
export function patchPages({ query, primaryKey, data: source, index, changes, hasNext, hasPrevious, bounds }: PagesInput): PagesResult {
  const shape = rowShape(query, primaryKey);
  if (!shape.keyed(changes) || source.pages.length === 0) return { kind: 'refetch' };
  const { keyOf } = shape;
  // The index (of every loaded row) is edited in place: a refetch result makes the caller drop it.
  const byKey = index && index.rows === source ? index.byKey : new Map(source.pages.flatMap((page) => page.map((row) => [keyOf(row as Row), row as Row] as const)));
  let pages = source.pages as ReadonlyArray<readonly Row[]>;
  let data: InfiniteData = source;
  /** Pages copied for this batch (writable). */
  const copied = new Set<number>();
  const writable = (at: number): Row[] => {
    if (pages === source.pages) {
      pages = source.pages.slice() as Row[][];
      data = { pages: pages as unknown[][], pageParams: source.pageParams };
    }
    if (!copied.has(at)) {
      (pages as Row[][])[at] = pages[at]!.slice();
      copied.add(at);
    }
    return pages[at] as Row[];
  };
  /** Whether `a` sorts before `b` (the key breaks ties, as in plain lists). */
  const before = (a: Row, b: Row): boolean => {
    const order = query.compare(a, b);
    return order !== 0 ? order < 0 : keyOf(a) < keyOf(b);
  };
  /**
   * The first non-empty page whose last row does not sort before `row` (where `row` belongs), or
   * -1 when every loaded row sorts before it. Empty pages are stepped over.
   */
  const pageOf = (row: Row): number => {
    let low = 0;
    let high = pages.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      let probe = middle;
      while (probe < high && pages[probe]!.length === 0) probe++;
      if (probe === high) high = middle;
      else if (before(pages[probe]![pages[probe]!.length - 1]!, row)) low = probe + 1;
      else high = middle;
    }
    while (low < pages.length && pages[low]!.length === 0) low++;
    return low < pages.length ? low : -1;
  };
  /** The first and the last non-empty page, and their first and last row. */
  const loaded = (): Ends => {
    let first = 0;
    while (first < pages.length && pages[first]!.length === 0) first++;
    if (first === pages.length) return { first: -1, last: -1 };
    let last = pages.length - 1;
    while (pages[last]!.length === 0) last--;
    return { first, last, firstRow: pages[first]![0]!, lastRow: pages[last]![pages[last]!.length - 1]! };
  };
  /** The position of `row` in its page: the first one whose row does not sort before it. */
  const positionIn = (page: readonly Row[], row: Row): number => {
    let position = lowerBound(page, row, query.compare);
    while (position < page.length && query.compare(page[position]!, row) === 0 && keyOf(page[position]!) < keyOf(row)) position++;
    return position;
  };

  /**
   * Where `row` goes, given the first and last non-empty pages before the change (-1: none): undefined
   * when it is outside the loaded range and a fetch of more pages will bring it.
   */
  const placeOf = (row: Row, { first, last, firstRow, lastRow }: Ends): { at: number; position: number } | 'refetch' | undefined => {
    // Left out by the first page's `{ after }`: neither these pages nor a refetch of them show it.
    const leftOut = bounds.start !== undefined && query.compare(row, bounds.start) <= 0;
    if (firstRow === undefined || lastRow === undefined || before(lastRow, row)) {
      // After every loaded row: the next page's; with none, the last page's. A last page's
      // `{ before }` leaves later rows out, but RTK refetches the pages after the first one by
      // getNextPageParam, which may take them in: only a fetch can say.
      if (openEnd || leftOut) return undefined;
      return bounds.end ? 'refetch' : { at: pages.length - 1, position: pages[pages.length - 1]!.length };
    }
    // Before every loaded row: the previous page's; with none, the first page's.
    if (before(row, firstRow)) return openStart || leftOut ? undefined : { at: first, position: 0 };
    // Within the loaded range (after a removal it may sort after every row left: the end of the last one).
    let at = pageOf(row);
    if (at < 0) at = last;
    return { at, position: positionIn(pages[at]!, row) };
  };

  let openEnd = hasNext(data);
  let openStart = hasPrevious(data);
  let changed = false;
  for (const change of changes) {
    const row = change.eventType === 'DELETE' ? undefined : query.project(change.new);
    if (row && !shape.keepsKeyAndOrder(row, change.new)) return { kind: 'refetch' };
    // The loaded range as it was before this change (a row updated in place at its end stays in it).
    const ends = loaded();
    const oldKey = keyOf(change.eventType === 'INSERT' ? change.new : change.old);
    const existing = byKey.get(oldKey);
    if (existing !== undefined) {
      const at = pageOf(existing);
      const position = at < 0 ? -1 : positionIn(pages[at]!, existing);
      if (position < 0 || pages[at]![position] !== existing) return { kind: 'refetch' }; // the index and the pages disagree: start over
      writable(at).splice(position, 1);
      byKey.delete(oldKey);
      changed = true;
    }
    const place = row && query.matches(change.new) ? placeOf(row, ends) : undefined;
    if (place === 'refetch') return { kind: 'refetch' };
    if (place) {
      writable(place.at).splice(place.position, 0, freezeDeep(row!));
      byKey.set(keyOf(row!), row!);
      changed = true;
    }
    // An end that was open must stay so: the rows past it are not loaded.
    const nowEnd = hasNext(data);
    const nowStart = hasPrevious(data);
    if ((openEnd && !nowEnd) || (openStart && !nowStart)) return { kind: 'refetch' };
    openEnd = nowEnd;
    openStart = nowStart;
  }
  if (!changed) return { kind: 'unchanged', index: { rows: source, byKey } };
  for (const at of copied) Object.freeze(pages[at]);
  const frozen = Object.freeze({ pages: Object.freeze(pages as unknown[][]) as unknown[][], pageParams: source.pageParams });
  return { kind: 'patched', data: frozen, index: { rows: frozen, byKey } };
}
