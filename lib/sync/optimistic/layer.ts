/**
 * The optimistic layer, pure: pending writes re-applied, in order, on top of server state.
 *
 * A pending write is plain data (its request, and for inserts and upserts the rows as shown, with
 * the keys this client gave them). Re-applying it reads the rows this client knows of the table
 * (every entry's rows and spares, merged by key), turns the write into row changes against them
 * (`writeChanges`: an update sets its values on the known rows its filters match, a delete removes
 * them, an insert adds its rows, an upsert inserts or merges by key), and patches each entry with
 * those changes exactly as a live entry is patched from the server's (patch.ts: filters, order and
 * windows). The next write sees the rows as the previous one left them. Where the client can't
 * decide (a write's filters it can't evaluate exactly, an entry that only a fetch can tell), the
 * answer says so and the caller leaves that entry as the server has it.
 */
import { compileRequest, type ColumnTypes, type EvaluateOptions, type CompiledQuery } from '../../postgrest/evaluate/index.js';
import type { PostgrestRequest } from '../../postgrest/request/types.js';
import type { RealtimeChange } from '../changes.js';
import { patchRows, type Row } from '../patch.js';

/** An optimistic write as the layer re-applies it (plain data; the pending-writes slice holds it). */
export interface LayerWrite {
  request: PostgrestRequest;
  /** Inserts and upserts: the rows as shown, keys filled (given, generated, or temporary). */
  rows?: readonly Row[];
}

/** What a write does to the known rows: row changes, or why the client can't tell. */
export type WriteEffect = { kind: 'changes'; changes: RealtimeChange[] } | { kind: 'undecidable'; reason: string };

/** One entry of the table under the layer: its compiled request and its server rows. */
export interface LayerEntry {
  query: CompiledQuery;
  /** The entry's rows as the server gave them (never mutated). */
  rows: readonly Row[];
  /** Windows: the known rows past the cached ones, and how many of them are kept (patch.ts). */
  spares?: readonly Row[];
  spareRows?: number;
  complete?: boolean;
}

export interface LayerOptions {
  primaryKey: readonly string[];
  columns?: ColumnTypes;
  evaluate?: EvaluateOptions;
}

/** The key of `row` as one comparable string. */
export function rowKey(row: Row, primaryKey: readonly string[]): string {
  return JSON.stringify(primaryKey.map((column) => row[column] ?? null));
}

/**
 * The rows this client knows of a table, by key: every entry's rows and spares, merged column by
 * column where entries select different columns. Built from one key index per array, cached while
 * the array lives (arrays in the store never change; a change makes a new one), so a write on a big
 * cache costs lookups, not a copy of every row.
 */
export interface KnownRows {
  get(key: string): Row | undefined;
  has(key: string): boolean;
  /** Every known row once (a scan: for filters that don't name the key). */
  values(): Iterable<Row>;
}

const indexes = new WeakMap<readonly Row[], { primaryKey: string; byKey: Map<string, Row> }>();

/** The key index of `rows` (cached per array and key). */
export function keyIndexOf(rows: readonly Row[], primaryKey: readonly string[]): ReadonlyMap<string, Row> {
  const name = primaryKey.join(',');
  const cached = indexes.get(rows);
  if (cached && cached.primaryKey === name) return cached.byKey;
  const byKey = new Map<string, Row>();
  for (const row of rows) if (primaryKey.every((column) => column in row)) byKey.set(rowKey(row, primaryKey), row);
  indexes.set(rows, { primaryKey: name, byKey });
  return byKey;
}

/** One index of rows and spares (cached per pair of arrays). */
const pairIndexes = new WeakMap<readonly Row[], WeakMap<readonly Row[], ReadonlyMap<string, Row>>>();
function knownIndex(rows: readonly Row[], spares: readonly Row[], primaryKey: readonly string[]): ReadonlyMap<string, Row> {
  let bySpares = pairIndexes.get(rows);
  if (!bySpares) pairIndexes.set(rows, (bySpares = new WeakMap()));
  let index = bySpares.get(spares);
  if (!index) bySpares.set(spares, (index = new Map([...keyIndexOf(rows, primaryKey), ...keyIndexOf(spares, primaryKey)])));
  return index;
}

export function knownRows(entries: ReadonlyArray<Pick<LayerEntry, 'rows' | 'spares'>>, primaryKey: readonly string[]): KnownRows {
  const lists = entries.flatMap((entry) => (entry.spares && entry.spares.length > 0 ? [entry.rows, entry.spares] : [entry.rows])).map((rows) => keyIndexOf(rows, primaryKey));
  const get = (key: string): Row | undefined => {
    let found: Row | undefined;
    for (const byKey of lists) {
      const row = byKey.get(key);
      if (row) found = found && found !== row ? { ...found, ...row } : row;
    }
    return found;
  };
  return {
    get,
    has: (key) => lists.some((byKey) => byKey.has(key)),
    *values() {
      const seen = new Set<string>();
      for (const byKey of lists) {
        for (const key of byKey.keys()) {
          if (seen.has(key)) continue;
          seen.add(key);
          yield get(key)!;
        }
      }
    },
  };
}

/**
 * A key index read through to a cached one: what patchRows adds and removes stays here, so the
 * cached index (shared by every layer over the same rows) is never edited and never copied.
 */
class OverlayIndex extends Map<string, Row> {
  private readonly removed = new Set<string>();
  /** How many overlays lie under this one (kept short: see `indexAfter`). */
  readonly depth: number;
  constructor(private readonly base: ReadonlyMap<string, Row>) {
    super();
    this.depth = base instanceof OverlayIndex ? base.depth + 1 : 1;
  }
  override *keys(): MapIterator<string> {
    for (const key of this.base.keys()) if (!this.removed.has(key) && !super.has(key)) yield key;
    yield* super.keys();
  }
  override get(key: string): Row | undefined {
    if (super.has(key)) return super.get(key);
    return this.removed.has(key) ? undefined : this.base.get(key);
  }
  override has(key: string): boolean {
    return super.has(key) || (!this.removed.has(key) && this.base.has(key));
  }
  override set(key: string, value: Row): this {
    this.removed.delete(key);
    return super.set(key, value);
  }
  override delete(key: string): boolean {
    const had = this.has(key);
    super.delete(key);
    this.removed.add(key);
    return had;
  }
}

/** `known` with `changes` on top (the rows as a write left them, for the next one). */
function advance(known: KnownRows, changes: readonly RealtimeChange[], primaryKey: readonly string[]): KnownRows {
  if (changes.length === 0) return known;
  const overlay = new Map<string, Row | null>();
  for (const item of changes) {
    if (item.eventType !== 'INSERT') overlay.set(rowKey(item.old, primaryKey), null);
    if (item.eventType !== 'DELETE') overlay.set(rowKey(item.new, primaryKey), item.new);
  }
  const get = (key: string) => (overlay.has(key) ? (overlay.get(key) ?? undefined) : known.get(key));
  return {
    get,
    has: (key) => (overlay.has(key) ? overlay.get(key) !== null : known.has(key)),
    *values() {
      for (const row of known.values()) {
        const key = rowKey(row, primaryKey);
        if (!overlay.has(key)) yield row;
      }
      for (const row of overlay.values()) if (row) yield row;
    },
  };
}

/**
 * The key a write's filters pin, when they name every key column with `eq` (the usual update of one
 * row): found by lookup instead of a scan. The filters are still checked on the row found.
 */
function pinnedKeys(request: PostgrestRequest, primaryKey: readonly string[]): string[] | undefined {
  const values: string[] = [];
  for (const column of primaryKey) {
    const pair = request.query.find(([key, value]) => key === column && value.startsWith('eq.'));
    if (!pair) return undefined;
    values.push(pair[1].slice(3));
  }
  // The JSON value is a number or a string; try both readings (the filters decide on the row).
  const numeric = values.every((value) => /^-?\d+(\.\d+)?$/.test(value));
  const keys = [JSON.stringify(values.map((value) => value.replace(/^"(.*)"$/, '$1')))];
  if (numeric) keys.push(JSON.stringify(values.map(Number)));
  return keys;
}

/** Query keys of a write that are not filters. */
const NOT_FILTERS = new Set(['select', 'columns', 'on_conflict', 'order', 'limit', 'offset']);

/** The write's filters as a read PostgREST would answer with the rows they select. */
export function writeFilters(request: PostgrestRequest, options: LayerOptions): CompiledQuery {
  const read: PostgrestRequest = {
    action: 'select',
    method: 'GET',
    relation: request.relation,
    ...(request.schema !== undefined && { schema: request.schema }),
    query: request.query.filter(([key]) => !NOT_FILTERS.has(key)),
    headers: {},
    result: 'many',
  };
  return compileRequest(read, options.columns, options.evaluate);
}

/** A row change of `request`'s table, as the layer and a commit feed it to patch.ts. */
export function rowChange(request: PostgrestRequest, eventType: RealtimeChange['eventType'], next: Row, old: Row): RealtimeChange {
  return { eventType, schema: request.schema ?? 'public', table: request.relation, commit_timestamp: null, new: next, old, errors: null, ids: [], columns: [], position: null };
}

/** The key columns of `row`. */
export function keyColumns(row: Row, primaryKey: readonly string[]): Row {
  return Object.fromEntries(primaryKey.map((column) => [column, row[column]]));
}

/** What `write` does to `known` (the table's rows this client knows, by key), as row changes. */
export function writeChanges(write: LayerWrite, known: KnownRows, options: LayerOptions): WriteEffect {
  const { request } = write;
  const { primaryKey } = options;
  switch (request.action) {
    case 'insert':
    case 'upsert': {
      const rows = write.rows ?? [];
      if (!rows.every((row) => primaryKey.every((column) => column in row))) return { kind: 'undecidable', reason: 'a row without its primary key' };
      const target = request.query.find(([key]) => key === 'on_conflict')?.[1];
      if (request.action === 'upsert' && target !== undefined && target.split(',').join(',') !== primaryKey.join(',')) {
        return { kind: 'undecidable', reason: `upsert on ${target}, not the primary key` };
      }
      const ignore = request.action === 'upsert' && /resolution=ignore-duplicates/.test(request.headers.Prefer ?? '');
      const changes: RealtimeChange[] = [];
      for (const row of rows) {
        const existing = known.get(rowKey(row, primaryKey));
        if (request.action === 'upsert' && existing) {
          if (!ignore) changes.push(rowChange(request, 'UPDATE', { ...existing, ...row }, keyColumns(existing, primaryKey)));
        } else {
          changes.push(rowChange(request, 'INSERT', row, {}));
        }
      }
      return { kind: 'changes', changes };
    }
    case 'update':
    case 'delete': {
      const filters = writeFilters(request, options);
      if (!filters.exact) return { kind: 'undecidable', reason: `the write's filters: ${filters.reasons.join('; ')}` };
      const values = (request.body ?? {}) as Row;
      const changes: RealtimeChange[] = [];
      const pinned = pinnedKeys(request, primaryKey);
      const candidates = pinned ? pinned.map((key) => known.get(key)).filter((row): row is Row => row !== undefined) : known.values();
      for (const row of candidates) {
        if (!filters.matches(row)) continue;
        changes.push(request.action === 'delete' ? rowChange(request, 'DELETE', {}, keyColumns(row, primaryKey)) : rowChange(request, 'UPDATE', { ...row, ...values }, keyColumns(row, primaryKey)));
      }
      return { kind: 'changes', changes };
    }
    default:
      return { kind: 'undecidable', reason: `${request.action} is not a write` };
  }
}

/**
 * `changes` applied to one entry's rows (patch.ts), with only the changes that can touch it (a row it
 * holds, or one its filters let in) and its cached key index read through; undefined when none can.
 */
export function patchEntry(query: CompiledQuery, rows: readonly Row[], spares: readonly Row[], changes: readonly RealtimeChange[], primaryKey: readonly string[], spareRows = 0, complete?: boolean) {
  const byKey = spares.length > 0 ? knownIndex(rows, spares, primaryKey) : keyIndexOf(rows, primaryKey);
  const relevant = changes.filter((change) => (change.eventType !== 'INSERT' && byKey.has(rowKey(change.old, primaryKey))) || (change.eventType !== 'DELETE' && query.matches(change.new)));
  if (relevant.length === 0) return undefined;
  const overlay = new OverlayIndex(byKey);
  const result = patchRows({ query, primaryKey, rows, index: { rows, byKey: overlay }, changes: relevant, spares, spareRows, ...(complete !== undefined && { complete }) });
  // The new rows' index is this overlay (flattened now and then so lookups stay short): the next
  // layer or commit over them needs no rebuild.
  // (Only without a window: a window's overlay also holds the rows past it.)
  if (result.kind === 'patched' && query.window.limit === null && spares.length === 0) {
    indexes.set(result.rows, { primaryKey: primaryKey.join(','), byKey: overlay.depth > 8 ? new Map([...overlay.keys()].map((key) => [key, overlay.get(key)!])) : overlay });
  }
  return result;
}

/** One entry with the layer on top: its rows, or why the client can't tell them. */
export type LayeredEntry = { kind: 'rows'; rows: readonly Row[] } | { kind: 'undecidable'; reason: string };

/**
 * Every entry of one table with `writes` re-applied in order on top of its server rows. An entry no
 * write touches keeps its rows (by identity); one that a write can't be decided for is undecidable.
 */
export function applyLayer(entries: readonly LayerEntry[], writes: readonly LayerWrite[], options: LayerOptions): LayeredEntry[] {
  const { primaryKey } = options;
  const state = entries.map((entry) => ({ entry, rows: entry.rows, spares: entry.spares ?? [], complete: entry.complete, result: undefined as LayeredEntry | undefined }));
  let known = knownRows(entries, primaryKey);
  for (const write of writes) {
    const effect = writeChanges(write, known, options);
    for (const item of state) {
      if (item.result) continue;
      if (effect.kind === 'undecidable') {
        item.result = effect;
        continue;
      }
      if (!item.entry.query.exact) {
        item.result = { kind: 'undecidable', reason: item.entry.query.reasons.join('; ') };
        continue;
      }
      const patched = patchEntry(item.entry.query, item.rows, item.spares, effect.changes, primaryKey, item.entry.spareRows ?? 0, item.complete);
      if (patched === undefined) continue;
      if (patched.kind === 'refetch') {
        item.result = { kind: 'undecidable', reason: 'only a fetch can tell' };
        continue;
      }
      if (patched.kind === 'patched') item.rows = patched.rows;
      item.spares = patched.spares;
      item.complete = patched.complete;
    }
    if (effect.kind === 'changes') known = advance(known, effect.changes, primaryKey);
  }
  return state.map((item) => item.result ?? { kind: 'rows', rows: item.rows });
}
