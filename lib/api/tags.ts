import { splitTopLevel } from '../postgrest/builder/split';
import type { PostgrestRequest } from '../postgrest/request/types';

/**
 * Automatic cache tags. A read provides:
 * - `{ type: table, id: 'LIST' }`: the read's row set can change when rows are inserted or deleted;
 * - `{ type: table, id: 'LIST:<column>' }` for each column it filters or orders on: an update that
 *   sets that column can move rows in or out of it, or reorder it;
 * - `{ type: table, id: 'ANY' }` when any update can change it in ways rows tags don't show (rows
 *   without their primary key, or/and trees, an unordered limit);
 * - `{ type: table, id: <primary key> }` for each returned row;
 * - `{ type: embedded, id: 'EMBED' }` for each embedded resource;
 * - `{ type: 'RPC', id: fn }` for function calls.
 * A read kept live by a sync middleware provides only `{ type: table, id: 'LIVE' }` and its EMBED
 * tags (`liveTags`).
 * A write invalidates what it can change: the rows it touched, LIST for inserts and deletes, the
 * updated columns' LIST:<column> and ANY for updates, EMBED and RPC always; and the whole table when
 * it cannot tell which rows it touched.
 */
export type PrimaryKeys = Record<string, string | readonly string[]>;

export interface Tag {
  type: string;
  id?: string | number;
}

/** Every read provides this; a write through a function (rpc) may change anything, so it invalidates it. */
const ALL: Tag = { type: 'POSTGREST', id: 'ALL' };

/** Tag type for a relation: the table name, schema-qualified outside `public`. */
export function tagType(request: Pick<PostgrestRequest, 'schema' | 'relation'>, relation = request.relation): string {
  return request.schema && request.schema !== 'public' ? `${request.schema}.${relation}` : relation;
}

/** The primary key columns of a table (default `id`). */
export function primaryKeyOf(primaryKeys: PrimaryKeys | undefined, type: string, relation: string): readonly string[] {
  const pk = primaryKeys?.[type] ?? primaryKeys?.[relation] ?? 'id';
  return typeof pk === 'string' ? [pk] : pk;
}

const MODIFIER_KEYS = new Set(['select', 'order', 'limit', 'offset', 'on_conflict', 'columns']);
const LOGIC_KEYS = new Set(['or', 'and', 'not.or', 'not.and']);

/** Rows of a result, whatever its shape (`rows`, `{ rows, count }`, one row or null). */
export function rowsOf(data: unknown): Record<string, unknown>[] {
  if (data == null) return [];
  if (Array.isArray(data)) return data.filter(isRecord);
  if (isRecord(data) && 'rows' in data && 'count' in data && Object.keys(data).length === 2) return rowsOf(data.rows);
  return isRecord(data) ? [data] : [];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The tag id of one row's primary key, or undefined when the row lacks it. */
export function rowId(row: Record<string, unknown>, pk: readonly string[]): string | undefined {
  const values: string[] = [];
  for (const col of pk) {
    const v = row[col];
    if (v === undefined || v === null) return undefined;
    values.push(typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return pk.length === 1 ? values[0] : JSON.stringify(values);
}

/** The non-empty, trimmed items of a PostgREST list (`a, b(c,d),"e,f"`). */
function listItems(text: string): string[] {
  return splitTopLevel(text)
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** Relation names embedded by a select list: `author:authors!fk(name)` → `authors`. */
export function embeddedRelations(select: string): string[] {
  const out: string[] = [];
  for (const item of listItems(select)) {
    const paren = item.indexOf('(');
    if (paren < 0) continue;
    let name = item.slice(0, paren).replace(/^\.\.\./, '');
    const colon = name.indexOf(':');
    if (colon >= 0 && name[colon + 1] !== ':') name = name.slice(colon + 1);
    name = name.split('!')[0]!.trim();
    if (name) out.push(name);
    out.push(...embeddedRelations(item.slice(paren + 1, item.lastIndexOf(')'))));
  }
  return out;
}

function selectOf(request: PostgrestRequest): string | undefined {
  return request.query.find(([k]) => k === 'select')?.[1];
}

/**
 * Tags of a read a sync middleware keeps live (its fetch started while the table's changes were
 * live): row changes keep it current, so writes don't refetch it. It provides `{ type: table, id:
 * 'LIVE' }` (invalidating the table type still refetches it) and, for embedded resources, whose
 * tables the sync middleware does not follow, EMBED and the tag function calls invalidate.
 */
export function liveTags(request: PostgrestRequest): Tag[] {
  const tags: Tag[] = [{ type: tagType(request), id: 'LIVE' }];
  const select = selectOf(request);
  const embedded = select ? new Set(embeddedRelations(select)) : new Set<string>();
  for (const rel of embedded) tags.push({ type: tagType(request, rel), id: 'EMBED' });
  // A function call may write the embedded tables too (it invalidates ALL, not EMBED).
  if (embedded.size > 0) tags.push(ALL);
  return tags;
}

/** Tags a read provides. */
export function providedTags(request: PostgrestRequest, data: unknown, primaryKeys?: PrimaryKeys): Tag[] {
  if (request.action === 'rpc') return [ALL, { type: 'RPC', id: request.relation }];
  const type = tagType(request);
  const pk = primaryKeyOf(primaryKeys, type, request.relation);
  const rows = rowsOf(data);
  const pinned = idsFromFilters(request, pk, true);
  // A read of one row by its key can't gain rows from inserts once it has its row.
  const tags: Tag[] = pinned?.length === 1 && rows.length === 1 ? [ALL] : [ALL, { type, id: 'LIST' }];
  const columns = new Set<string>();
  let any = false;
  let ordered = false;
  let limited = false;
  for (const [key, value] of request.query) {
    if (key === 'order') {
      ordered = true;
      for (const term of listItems(value)) columns.add(term.split('.')[0]!.replace(/"/g, ''));
    } else if (key === 'limit' || key === 'offset') limited = true;
    else if (LOGIC_KEYS.has(key)) any = true;
    else if (!MODIFIER_KEYS.has(key) && !key.includes('.')) columns.add(key);
  }
  if (limited && !ordered) any = true;
  for (const row of rows) {
    const id = rowId(row, pk);
    if (id === undefined) any = true;
    else tags.push({ type, id });
  }
  for (const col of columns) tags.push({ type, id: `LIST:${col}` });
  if (any) tags.push({ type, id: 'ANY' });
  const select = selectOf(request);
  if (select) for (const rel of new Set(embeddedRelations(select))) tags.push({ type: tagType(request, rel), id: 'EMBED' });
  return tags;
}

/** Primary key ids pinned by `eq` / `in` filters on the key, or undefined when not pinned. */
function idsFromFilters(request: PostgrestRequest, pk: readonly string[], eqOnly = false): string[] | undefined {
  if (pk.length === 1) {
    const entry = request.query.find(([k, v]) => k === pk[0] && (v.startsWith('eq.') || (!eqOnly && v.startsWith('in.('))));
    if (!entry) return undefined;
    const value = entry[1];
    if (value.startsWith('eq.')) return [value.slice(3)];
    return listItems(value.slice(4, -1)).map(unquote);
  }
  const values: string[] = [];
  for (const col of pk) {
    const entry = request.query.find(([k, v]) => k === col && v.startsWith('eq.'));
    if (!entry) return undefined;
    values.push(entry[1].slice(3));
  }
  return [JSON.stringify(values)];
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s;
}

/** Tags a successful write invalidates. */
export function invalidatedTags(request: PostgrestRequest, data: unknown, primaryKeys?: PrimaryKeys): Tag[] {
  if (request.method === 'GET' || request.method === 'HEAD') return [];
  if (request.action === 'rpc') return [ALL];
  const type = tagType(request);
  const pk = primaryKeyOf(primaryKeys, type, request.relation);
  const tags: Tag[] = [{ type: 'RPC' }];
  const ids = new Set<string>();
  for (const row of rowsOf(data)) {
    const id = rowId(row, pk);
    if (id !== undefined) ids.add(id);
  }
  if (request.action === 'insert' || request.action === 'upsert') {
    for (const row of rowsOf(request.body)) {
      const id = rowId(row, pk);
      if (id !== undefined) ids.add(id);
    }
    tags.push({ type, id: 'LIST' });
    if (request.action === 'upsert') tags.push({ type, id: 'ANY' });
  } else {
    const pinned = idsFromFilters(request, pk);
    const returned = /return=representation/.test(request.headers['Prefer'] ?? '');
    const known = returned || pinned !== undefined;
    for (const id of pinned ?? []) ids.add(id);
    if (!known) return [...tags, { type }];
    if (request.action === 'delete') tags.push({ type, id: 'LIST' });
    else {
      tags.push({ type, id: 'ANY' });
      if (isRecord(request.body)) for (const col of Object.keys(request.body)) tags.push({ type, id: `LIST:${col}` });
    }
  }
  for (const id of ids) tags.push({ type, id });
  tags.push({ type, id: 'EMBED' });
  return tags;
}
