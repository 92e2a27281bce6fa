/**
 * Phoenix presence on the wire: what `presence_state` and `presence_diff` carry. The server's
 * tracker builds them; the client merges them (lib/sync/phoenix/presence.ts).
 */

export interface PresenceMeta {
  /** The server's id of this track (a new one for every track, also of the same key). */
  phx_ref: string;
  /** In a join that replaces an earlier track of the same key: that track's `phx_ref`. */
  phx_ref_prev?: string;
  [field: string]: unknown;
}
export interface PresenceEntry {
  metas: PresenceMeta[];
}
/** Presence key → the metas of everyone tracked under it (a `presence_state` payload). */
export type PresenceState = Record<string, PresenceEntry>;
/** A `presence_diff` payload. */
export interface PresenceDiff {
  joins: PresenceState;
  leaves: PresenceState;
}
