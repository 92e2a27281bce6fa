/**
 * Incoming `postgres_changes` payloads, read defensively into plain change objects.
 *
 * A `LEAVE` (our server's signal, sent only to channels whose join asked with `leave_events`: an
 * UPDATE took the row out of what the subscriber may SELECT) becomes a DELETE of `old_record`'s key
 * marked `leave`: to a live entry it is exactly that, so nothing downstream learns a new event type.
 * Listeners keep Supabase's semantics and never get one (handlers/changes.ts keeps them out).
 */

import type { PostgresChangeColumn, PostgresChangeData, PostgresChangeType } from '../protocol/postgresChanges.js';

const CHANGE_TYPES: ReadonlySet<PostgresChangeType> = new Set(['INSERT', 'UPDATE', 'DELETE', 'LEAVE']);

/** A change as realtime-js hands it to `postgres_changes` callbacks, plus the stream position. */
export interface RealtimeChange {
  eventType: 'INSERT' | 'UPDATE' | 'DELETE';
  schema: string;
  table: string;
  commit_timestamp: string | null;
  new: Record<string, unknown>;
  old: Record<string, unknown>;
  errors: string[] | null;
  /** Binding ids of the channel this change matched. */
  ids: number[];
  /** The table's columns and their types (`int4`, `timestamptz` ...), as the server lists them. */
  columns: PostgresChangeColumn[];
  position: string | null;
  /** A LEAVE signal read as a DELETE of its key (only live entries see these). */
  leave?: true;
}

/**
 * A `postgres_changes` payload (lib/protocol's `PostgresChangesPayload`, as the server builds it) as
 * a RealtimeChange; null when malformed. Read field by field: the payload comes off the network.
 */
export function toChange(body: Record<string, unknown>): RealtimeChange | null {
  const data = body.data as Partial<Record<keyof PostgresChangeData, unknown>> | undefined;
  const ids = body.ids;
  if (!data || typeof data !== 'object' || !Array.isArray(ids)) return null;
  const type = data.type;
  if (!CHANGE_TYPES.has(type as PostgresChangeType)) return null;
  if (typeof data.schema !== 'string' || typeof data.table !== 'string') return null;
  return {
    eventType: type === 'LEAVE' ? 'DELETE' : (type as RealtimeChange['eventType']),
    schema: data.schema,
    table: data.table,
    commit_timestamp: typeof data.commit_timestamp === 'string' ? data.commit_timestamp : null,
    new: (data.record as Record<string, unknown> | undefined) ?? {},
    old: (data.old_record as Record<string, unknown> | undefined) ?? {},
    errors: Array.isArray(data.errors) ? (data.errors as string[]) : null,
    ids: ids.filter((id): id is number => typeof id === 'number'),
    columns: Array.isArray(data.columns) ? (data.columns as PostgresChangeColumn[]) : [],
    position: typeof body.position === 'string' ? body.position : null,
    ...(type === 'LEAVE' && { leave: true as const }),
  };
}
