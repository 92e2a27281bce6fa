/**
 * The `data` of a postgres_changes message (protocol notes §2.4, §2.8) for one subscriber: only the
 * columns its role may SELECT, an old row only as far as it could read it, Supabase's withheld forms
 * (400, 401) and its 413 for oversized rows, and our LEAVE (docs/realtime-protocol-extensions.md).
 */
import { PAYLOAD_TOO_LARGE_ERROR, UNAUTHORIZED_ERROR, type PostgresChangeData, type PostgresChangeType } from '../../../protocol/postgresChanges.js';
import type { ChangeEvent } from '../replication/index.js';

export { PAYLOAD_TOO_LARGE_ERROR, UNAUTHORIZED_ERROR };

/** The event type a subscriber hears: the change's own, or LEAVE (the new row is hidden from it). */
export type DeliveredType = ChangeEvent['type'] | 'LEAVE';
const SMALL_VALUE_BYTES = 64;

/** What a subscriber may see of one change. */
export interface Visible {
  type: DeliveredType;
  /** Columns of the new row (and of `columns`) it may read. */
  columns: readonly string[];
  /** Columns of the old row it may read: all of `columns` when it could read the old row, else the key's. */
  oldColumns: readonly string[];
}

/** `data` as JSON text; over `maxRecordBytes`, Supabase's 413 form (small values only). */
export function dataJson(event: ChangeEvent, visible: Visible, maxRecordBytes: number): string {
  const data = changeData(event, visible);
  const text = JSON.stringify(data);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: measure only when it could be over.
  if (text.length * 3 <= maxRecordBytes || Buffer.byteLength(text) <= maxRecordBytes) return text;
  const small = (row: unknown) => {
    if (row === undefined) return undefined;
    const kept: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row as Record<string, unknown>)) {
      if (Buffer.byteLength(JSON.stringify(value) ?? '') <= SMALL_VALUE_BYTES) put(kept, name, value);
    }
    return kept;
  };
  const record = small(data.record);
  const oldRecord = small(data.old_record);
  const errors = [...((data.errors as string[] | null) ?? []), PAYLOAD_TOO_LARGE_ERROR];
  return JSON.stringify({ ...data, ...(record && { record }), ...(oldRecord && { old_record: oldRecord }), errors });
}

/** A change with its row withheld and `error` (Supabase's shape for 400/401, §2.4). */
export function withheldJson(event: ChangeEvent, error: string): string {
  const data: Record<string, unknown> = { schema: event.schema, table: event.table, commit_timestamp: null, type: event.type, columns: [] };
  if (event.record) data.record = {};
  if (event.oldRecord) data.old_record = {};
  data.errors = [error];
  return JSON.stringify(data);
}

/** Supabase's `data`, limited to what `visible` allows. */
function changeData(event: ChangeEvent, visible: Visible): PostgresChangeData {
  const withheld = event.errors !== null;
  const allowed = new Set(visible.columns);
  // `errors` is set last, where Supabase puts it.
  const data = {
    schema: event.schema,
    table: event.table,
    commit_timestamp: withheld ? null : event.commitTimestamp,
    type: visible.type as PostgresChangeType,
    columns: withheld ? [] : event.columns.filter((column) => allowed.has(column.name)),
  } as PostgresChangeData;
  if (event.record && visible.type !== 'LEAVE') data.record = withheld ? {} : pick(event.record, allowed);
  if (event.oldRecord) data.old_record = withheld ? {} : pick(event.oldRecord, new Set(visible.oldColumns));
  data.errors = event.errors;
  return data;
}

function pick(row: Readonly<Record<string, unknown>>, allowed: ReadonlySet<string>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of Object.keys(row)) if (allowed.has(name)) put(picked, name, row[name]);
  return picked;
}

/** `target[name] = value`, also for `__proto__`, which an assignment would take as the prototype. */
function put(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}
