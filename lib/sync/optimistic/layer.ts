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

/** The rows this client knows of a table, by key: every entry's rows and spares, merged column by column. */
export function knownRows(entries: ReadonlyArray<Pick<LayerEntry, 'rows' | 'spares'>>, primaryKey: readonly string[]): Map<string, Row> {
  const known = new Map<string, Row>();
  for (const entry of entries) {
    for (const row of entry.spares ? [...entry.rows, ...entry.spares] : entry.rows) {
      if (!primaryKey.every((column) => column in row)) continue;
      const key = rowKey(row, primaryKey);
      const before = known.get(key);
      known.set(key, before ? { ...before, ...row } : row);
    }
  }
  return known;
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

function change(request: PostgrestRequest, eventType: RealtimeChange['eventType'], next: Row, old: Row): RealtimeChange {
  return { eventType, schema: request.schema ?? 'public', table: request.relation, commit_timestamp: null, new: next, old, errors: null, ids: [], columns: [], position: null };
}

function keyColumns(row: Row, primaryKey: readonly string[]): Row {
  return Object.fromEntries(primaryKey.map((column) => [column, row[column]]));
}

/** What `write` does to `known` (the table's rows this client knows, by key), as row changes. */
export function writeChanges(write: LayerWrite, known: ReadonlyMap<string, Row>, options: LayerOptions): WriteEffect {
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
          if (!ignore) changes.push(change(request, 'UPDATE', { ...existing, ...row }, keyColumns(existing, primaryKey)));
        } else {
          changes.push(change(request, 'INSERT', row, {}));
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
      for (const row of known.values()) {
        if (!filters.matches(row)) continue;
        changes.push(request.action === 'delete' ? change(request, 'DELETE', {}, keyColumns(row, primaryKey)) : change(request, 'UPDATE', { ...row, ...values }, keyColumns(row, primaryKey)));
      }
      return { kind: 'changes', changes };
    }
    default:
      return { kind: 'undecidable', reason: `${request.action} is not a write` };
  }
}

/** The known rows after `changes`. */
function advance(known: Map<string, Row>, changes: readonly RealtimeChange[], primaryKey: readonly string[]): Map<string, Row> {
  const next = new Map(known);
  for (const item of changes) {
    if (item.eventType !== 'INSERT') next.delete(rowKey(item.old, primaryKey));
    if (item.eventType !== 'DELETE') next.set(rowKey(item.new, primaryKey), item.new);
  }
  return next;
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
      const patched = patchRows({
        query: item.entry.query,
        primaryKey,
        rows: item.rows,
        index: undefined,
        changes: effect.changes,
        spares: item.spares,
        spareRows: item.entry.spareRows ?? 0,
        ...(item.complete !== undefined && { complete: item.complete }),
      });
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
