/**
 * Phoenix presence merge as pure functions (phoenix.js `presence.js`): `syncState` applies a full
 * `presence_state`, `syncDiff` a `presence_diff`; neither mutates its arguments (phoenix's own
 * versions mutate theirs). `PresenceSession` adds phoenix's buffering of diffs that arrive before
 * the state of the current join.
 */

import type { PresenceDiff, PresenceEntry, PresenceMeta, PresenceState } from '../../protocol/presence.js';

export type { PresenceDiff, PresenceEntry, PresenceMeta, PresenceState } from '../../protocol/presence.js';

/** The joins and leaves that turn `current` into `next` (what phoenix's syncState computes). */
export function stateDiff(current: PresenceState, next: PresenceState): PresenceDiff {
  const joins: PresenceState = {};
  const leaves: PresenceState = {};
  for (const key of Object.keys(current)) {
    if (!has(next, key)) leaves[key] = clone(current[key]!);
  }
  for (const key of Object.keys(next)) {
    const incoming = next[key]!;
    const present = has(current, key) ? current[key] : undefined;
    if (!present) {
      joins[key] = clone(incoming);
      continue;
    }
    const nextRefs = new Set(incoming.metas.map((m) => m.phx_ref));
    const presentRefs = new Set(present.metas.map((m) => m.phx_ref));
    const joined = incoming.metas.filter((m) => !presentRefs.has(m.phx_ref));
    const left = present.metas.filter((m) => !nextRefs.has(m.phx_ref));
    if (joined.length > 0) joins[key] = { ...clone(incoming), metas: clone(joined) };
    if (left.length > 0) leaves[key] = { ...clone(present), metas: clone(left) };
  }
  return { joins, leaves };
}

/** The state after a full `presence_state` replaces `current`. */
export function syncState(current: PresenceState, next: PresenceState): PresenceState {
  return syncDiff(current, stateDiff(current, next));
}

/** The state after `diff`: joined metas are appended after the key's other metas, left metas removed, empty keys dropped. */
export function syncDiff(current: PresenceState, diff: PresenceDiff): PresenceState {
  const state: PresenceState = { ...current };
  for (const key of Object.keys(diff.joins)) {
    const joined = clone(diff.joins[key]!);
    const present = has(state, key) ? state[key] : undefined;
    if (present) {
      const joinedRefs = new Set(joined.metas.map((m) => m.phx_ref));
      joined.metas = [...present.metas.filter((m) => !joinedRefs.has(m.phx_ref)), ...joined.metas];
    }
    state[key] = joined;
  }
  for (const key of Object.keys(diff.leaves)) {
    const present = has(state, key) ? state[key] : undefined;
    if (!present) continue;
    const leftRefs = new Set(diff.leaves[key]!.metas.map((m) => m.phx_ref));
    const metas = present.metas.filter((m) => !leftRefs.has(m.phx_ref));
    if (metas.length === 0) delete state[key];
    else state[key] = { ...present, metas };
  }
  return state;
}

/** One entry per presence key, in key order: `chooser(key, entry)` or the entry itself. */
export function list<T = PresenceEntry>(state: PresenceState, chooser?: (key: string, entry: PresenceEntry) => T): T[] {
  return Object.keys(state).map((key) => (chooser ? chooser(key, state[key]!) : (state[key] as T)));
}

/** A channel's presence across joins: diffs for a join whose state has not arrived yet are buffered. */
export interface PresenceSession {
  readonly state: PresenceState;
  /** join_ref of the last applied `presence_state`; null before any. */
  readonly joinRef: string | null;
  readonly pending: readonly PresenceDiff[];
}

export const emptyPresenceSession: PresenceSession = { state: {}, joinRef: null, pending: [] };

/** Applies a `presence_state` received under `joinRef`, then the diffs buffered for it. */
export function receivePresenceState(session: PresenceSession, joinRef: string, next: PresenceState): PresenceSession {
  let state = syncState(session.state, next);
  for (const diff of session.pending) state = syncDiff(state, diff);
  return { state, joinRef, pending: [] };
}

/** Applies a `presence_diff`, or buffers it while the current join (`joinRef`) has no state yet. */
export function receivePresenceDiff(session: PresenceSession, joinRef: string | null, diff: PresenceDiff): PresenceSession {
  if (session.joinRef === null || session.joinRef !== joinRef) return { ...session, pending: [...session.pending, diff] };
  return { ...session, state: syncDiff(session.state, diff) };
}

function has(state: PresenceState, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(state, key);
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Key → metas, the flat shape a store mirror can hold (realtime-js's `presenceState()` without the phx_ref rename). */
export function metasByKey(state: PresenceState): Record<string, PresenceMeta[]> {
  return Object.fromEntries(Object.keys(state).map((key) => [key, state[key]!.metas.map((meta) => ({ ...meta }))]));
}
