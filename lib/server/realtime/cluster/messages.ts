/**
 * What the nodes of a cluster tell each other on the bus (bus.ts), as JSON. Every message names its
 * sender (`node`). Binary broadcast payloads travel as base64, since JSON can't carry bytes.
 */
import { isBinaryPayload } from '../codec/messages.js';
import type { PresenceDiff, PresenceState } from '../presence/tracker.js';

/** One room's presence on one node: [room key, state]. */
export type RoomPresence = [room: string, state: PresenceState];

export type ClusterMessage =
  /** A client's broadcast, already sent to the sender's node's channels. */
  | { kind: 'broadcast'; node: string; topic: string; private: boolean; event: string; payload: unknown; binary?: true }
  /** The sender's presence in `room` changed. */
  | { kind: 'diff'; node: string; room: string; diff: PresenceDiff }
  /** Everything the sender's clients track; `answers`: the node whose hello or want this answers. */
  | { kind: 'state'; node: string; rooms: RoomPresence[]; answers?: string }
  /** The sender joined the bus (or subscribed again): its state; every other node answers with its own. */
  | { kind: 'hello'; node: string; rooms: RoomPresence[] }
  /** The sender lost track of node `of` (it had stopped heartbeating, then spoke again): `of` answers with its state. */
  | { kind: 'want'; node: string; of: string }
  | { kind: 'heartbeat'; node: string }
  /** The sender leaves the cluster (closed): drop what it tracked. */
  | { kind: 'bye'; node: string };

/** The JSON of a message; a binary broadcast payload becomes base64. */
export function encodeClusterMessage(message: ClusterMessage): string {
  if (message.kind === 'broadcast' && isBinaryPayload(message.payload)) {
    const bytes = message.payload instanceof ArrayBuffer ? Buffer.from(message.payload) : Buffer.from(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength);
    return JSON.stringify({ ...message, payload: bytes.toString('base64'), binary: true });
  }
  return JSON.stringify(message);
}

/** The message in `text`, or null when it isn't one (another version's, or not ours). */
export function decodeClusterMessage(text: string): ClusterMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value) || typeof value.node !== 'string') return null;
  const message = value as ClusterMessage;
  switch (message.kind) {
    case 'broadcast':
      if (typeof message.topic !== 'string' || typeof message.private !== 'boolean' || typeof message.event !== 'string') return null;
      if (message.binary === true) {
        if (typeof message.payload !== 'string') return null;
        return { ...message, payload: Buffer.from(message.payload, 'base64') };
      }
      return message;
    case 'diff':
      return typeof message.room === 'string' && isObject(message.diff) && isPresenceState(message.diff.joins) && isPresenceState(message.diff.leaves) ? message : null;
    case 'state':
    case 'hello':
      return Array.isArray(message.rooms) && message.rooms.every((entry) => Array.isArray(entry) && typeof entry[0] === 'string' && isPresenceState(entry[1])) ? message : null;
    case 'want':
      return typeof message.of === 'string' ? message : null;
    case 'heartbeat':
    case 'bye':
      return message;
    default:
      return null;
  }
}

function isPresenceState(value: unknown): value is PresenceState {
  return isObject(value) && Object.values(value).every((entry) => isObject(entry) && Array.isArray(entry.metas) && entry.metas.every((meta: unknown) => isObject(meta) && typeof meta.phx_ref === 'string'));
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
