/**
 * The `postgres_changes` message payload: what the server builds for each subscriber
 * (lib/server/realtime/changes) and the client reads (lib/sync/changes.ts). Supabase's shape
 * (docs/realtime-protocol.md §2.4) plus our `position` and LEAVE
 * (docs/realtime-protocol-extensions.md). Browser-safe: types and constants only.
 */

/** Event types a subscriber hears: a row change, or our LEAVE (the row left what it may see). */
export type PostgresChangeType = 'INSERT' | 'UPDATE' | 'DELETE' | 'LEAVE';

/** One column of the changed table, as Supabase lists it. */
export interface PostgresChangeColumn {
  name: string;
  /** pg_type.typname of the column's declared type (`int4`, `_text`, a domain's or enum's own name). */
  type: string;
}

/** `payload.data`. Key presence follows Supabase: INSERT has `record`, UPDATE both, DELETE and LEAVE `old_record`. */
export interface PostgresChangeData {
  schema: string;
  table: string;
  /** UTC, milliseconds (`2026-11-24T10:00:00.123Z`); null when the row is withheld. */
  commit_timestamp: string | null;
  type: PostgresChangeType;
  /** Only the columns the subscriber may read; empty when withheld. */
  columns: PostgresChangeColumn[];
  record?: Record<string, unknown>;
  old_record?: Record<string, unknown>;
  /** Null, or Supabase's errors (`Error 400: ...`, `Error 401: Unauthorized`, `Error 413: Payload Too Large`). */
  errors: string[] | null;
}

/** The whole payload of a `postgres_changes` message. */
export interface PostgresChangesPayload {
  /** Ids of the channel's bindings this change matched. */
  ids: number[];
  data: PostgresChangeData;
  /** Our extension: the change's stream position (`resume_after` takes it). */
  position?: string;
}

/** Supabase's error for a subscriber whose role may not SELECT the table's key (its data is withheld). */
export const UNAUTHORIZED_ERROR = 'Error 401: Unauthorized';
/** Supabase's error for a row over `max_record_bytes`; only small values are kept then. */
export const PAYLOAD_TOO_LARGE_ERROR = 'Error 413: Payload Too Large';
/** Supabase's error for a change of a table without a primary key (its row is withheld). */
export const NO_PRIMARY_KEY_ERROR = 'Error 400: Bad Request, no primary key';
