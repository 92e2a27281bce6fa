/**
 * The presence the other nodes of a cluster hold, per room and node: what a node adds to its own
 * tracker's `presence_state`. Pure (no I/O, no timers); every change returns what it changed, as the
 * `presence_diff` this node's clients need. Metas are keyed by `phx_ref`, unique cluster-wide (each
 * tracker's refs have a random prefix), so applying the same join or leave twice changes nothing.
 */
import { addMeta, emptyDiff, type PresenceDiff, type PresenceMeta, type PresenceState } from '../presence/tracker.js';
import type { RoomPresence } from './messages.js';

/** A change of one room's presence. */
export interface RoomDiff {
  room: string;
  diff: PresenceDiff;
}

export interface RemotePresence {
  /** `node`'s diff of `room`; returns what changed here (null: nothing). */
  apply(node: string, room: string, diff: PresenceDiff): PresenceDiff | null;
  /** `node`'s whole state, replacing what it held; returns each changed room's diff. */
  replace(node: string, rooms: readonly RoomPresence[]): RoomDiff[];
  /** `node` is gone: all its metas leave. */
  drop(node: string): RoomDiff[];
  /** Adds every other node's metas of `room` to `state` (after the local ones of each key). */
  addTo(room: string, state: PresenceState): void;
}

/** key → phx_ref → meta, of one node in one room. */
type NodeRoom = Map<string, Map<string, PresenceMeta>>;

/** Creates an empty mirror. */
export function createRemotePresence(): RemotePresence {
  const rooms = new Map<string, Map<string, NodeRoom>>();
  // So dropping a node visits only its rooms.
  const roomsOf = new Map<string, Set<string>>();

  function nodeRoom(node: string, room: string): NodeRoom {
    let nodes = rooms.get(room);
    if (!nodes) rooms.set(room, (nodes = new Map()));
    let held = nodes.get(node);
    if (!held) {
      nodes.set(node, (held = new Map()));
      let owned = roomsOf.get(node);
      if (!owned) roomsOf.set(node, (owned = new Set()));
      owned.add(room);
    }
    return held;
  }

  /** Forgets empty keys, and the node's room once it holds nothing there. */
  function prune(node: string, room: string, held: NodeRoom): void {
    for (const [key, metas] of held) if (metas.size === 0) held.delete(key);
    if (held.size > 0) return;
    const nodes = rooms.get(room);
    nodes?.delete(node);
    if (nodes?.size === 0) rooms.delete(room);
    const owned = roomsOf.get(node);
    owned?.delete(room);
    if (owned?.size === 0) roomsOf.delete(node);
  }

  function apply(node: string, room: string, diff: PresenceDiff): PresenceDiff | null {
    const held = nodeRoom(node, room);
    const changed = emptyDiff();
    let any = false;
    // Joins first, then leaves, as phoenix's syncDiff: an update's diff joins the new meta and leaves the old.
    for (const [key, entry] of Object.entries(diff.joins)) {
      let metas = held.get(key);
      if (!metas) held.set(key, (metas = new Map()));
      for (const meta of entry.metas) {
        if (metas.has(meta.phx_ref)) continue;
        metas.set(meta.phx_ref, meta);
        addMeta(changed.joins, key, meta);
        any = true;
      }
    }
    for (const [key, entry] of Object.entries(diff.leaves)) {
      const metas = held.get(key);
      if (!metas) continue;
      for (const meta of entry.metas) {
        const known = metas.get(meta.phx_ref);
        if (!known) continue;
        metas.delete(meta.phx_ref);
        addMeta(changed.leaves, key, known);
        any = true;
      }
    }
    prune(node, room, held);
    return any ? changed : null;
  }

  function replace(node: string, next: readonly RoomPresence[]): RoomDiff[] {
    const nextRooms = new Map(next);
    const result: RoomDiff[] = [];
    for (const room of new Set([...(roomsOf.get(node) ?? []), ...nextRooms.keys()])) {
      const before = rooms.get(room)?.get(node);
      const after = nextRooms.get(room) ?? {};
      // What `after` lacks leaves, what `before` lacks joins: `apply` computes exactly that.
      const diff: PresenceDiff = { joins: after, leaves: emptyDiff().leaves };
      const afterRefs = new Set(Object.values(after).flatMap((entry) => entry.metas.map((meta) => meta.phx_ref)));
      for (const [key, metas] of before ?? []) {
        for (const meta of metas.values()) if (!afterRefs.has(meta.phx_ref)) addMeta(diff.leaves, key, meta);
      }
      const changed = apply(node, room, diff);
      if (changed) result.push({ room, diff: changed });
    }
    return result;
  }

  return {
    apply,
    replace,
    drop: (node) => replace(node, []),
    addTo(room, state) {
      for (const held of rooms.get(room)?.values() ?? []) {
        for (const [key, metas] of held) {
          const entry = (state[key] ??= { metas: [] });
          for (const meta of metas.values()) entry.metas.push(meta);
        }
      }
    },
  };
}
