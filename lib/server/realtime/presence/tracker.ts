/**
 * Server-side presence with Phoenix semantics (what `@supabase/realtime-js` merges with phoenix's
 * `Presence.syncState` / `syncDiff`): one presence per channel join (connection + topic) and key,
 * `presence_state` snapshots grouped by key as `{ metas: [...] }`, and `presence_diff`s of joins and
 * leaves. Pure: no I/O, no timers; the channel layer broadcasts what each mutation returns.
 */
import { randomBytes } from 'node:crypto';

// The wire shapes (presence_state / presence_diff payloads) are the Phoenix layer's, shared with the client.
import type { PresenceDiff, PresenceMeta, PresenceState } from '../../../protocol/presence.js';

export type { PresenceDiff, PresenceEntry, PresenceMeta, PresenceState } from '../../../protocol/presence.js';

export type PresenceErrorCode =
  | 'PRESENCE_PAYLOAD_NOT_MAP'
  | 'PRESENCE_PAYLOAD_NOT_JSON'
  | 'PRESENCE_PAYLOAD_TOO_LARGE'
  | 'PRESENCE_CONNECTION_BUDGET_EXCEEDED'
  | 'PRESENCE_BAD_ARGUMENT'
  | 'PRESENCE_BAD_OPTION';

/**
 * Why a presence call was refused. For the two client-caused codes the message is Supabase's own
 * text, so the channel layer can forward it: NOT_MAP as the reply's `reason`, TOO_LARGE as the
 * shutdown message (Supabase closes the channel on it). CONNECTION_BUDGET_EXCEEDED is ours: its
 * message names the server option, since the operator is the one who can change it.
 */
export class PresenceError extends Error {
  override readonly name = 'PresenceError';
  constructor(
    readonly code: PresenceErrorCode,
    message: string,
    /**
     * For PRESENCE_PAYLOAD_TOO_LARGE: the payload's JSON size and the limit; for
     * PRESENCE_CONNECTION_BUDGET_EXCEEDED: what the connection's presences would take and the budget. In bytes.
     */
    readonly details: { bytes?: number; limit?: number } = {},
  ) {
    super(message);
  }
}

export interface PresenceTrackerOptions {
  /** Largest tracked payload, in bytes of its JSON (UTF-8). Default 256 KiB. */
  maxPayloadBytes?: number;
  /**
   * Largest sum of the JSON sizes of every presence one connection tracks, over all its topics and
   * keys. Default 1 MiB. The payload limit alone bounds one call, not a socket tracking in 1,000 rooms.
   */
  maxBytesPerConnection?: number;
  /** Makes `phx_ref`s; inject a deterministic one in tests. Must never repeat. */
  generateRef?: () => string;
}

/** A change of one topic's presence, to broadcast as `presence_diff` on that topic. */
export interface TopicPresenceDiff {
  topic: string;
  diff: PresenceDiff;
}

export interface PresenceTracker {
  /** Tracks (or updates) the presence of `connectionId`'s join of `topic` under `key`. Null: nothing changed. */
  track(topic: string, connectionId: string, key: string, payload: unknown): PresenceDiff | null;
  /** Untracks one key of that join, or all its keys when `key` is omitted. Null: nothing was tracked. */
  untrack(topic: string, connectionId: string, key?: string): PresenceDiff | null;
  /** The socket closed: every presence of the connection leaves, one diff per affected topic. */
  untrackConnection(connectionId: string): TopicPresenceDiff[];
  /** The `presence_state` snapshot of a topic (a fresh object; metas are frozen and shared). */
  state(topic: string): PresenceState;
  /** The topics anyone is tracked in. */
  topics(): string[];
  /** The bytes `connectionId`'s presences take against `maxBytesPerConnection` (0 once it tracks nothing). */
  bytesOf(connectionId: string): number;
}

/** Default payload limit: Supabase's smallest plan allows 256 KB messages. */
export const DEFAULT_MAX_PRESENCE_PAYLOAD_BYTES = 256 * 1024;
/**
 * Default per-connection budget: four presences of the largest default payload, or thousands of the
 * usual few hundred bytes (a user id, a name, a status), which is more channels with presence than
 * a client joins; and one socket can no longer hold 1,000 rooms × 256 KiB (260 MB) of the server.
 */
export const DEFAULT_MAX_PRESENCE_BYTES_PER_CONNECTION = 1024 * 1024;

/** Supabase's reply reason for a non-object payload. */
export const PAYLOAD_NOT_MAP_MESSAGE = 'Presence track payload must be a map';
/** Supabase's shutdown message for an oversized payload. */
export const PAYLOAD_TOO_LARGE_MESSAGE = 'Track message size exceeded';

// The server owns these fields of a meta; a client sending them must not forge or confuse refs.
const RESERVED_FIELDS = ['phx_ref', 'phx_ref_prev'] as const;

interface Tracked {
  readonly payload: Readonly<Record<string, unknown>>;
  readonly meta: PresenceMeta;
  /** The payload's JSON size, as counted against the connection's budget. */
  readonly bytes: number;
}

/** One connection's presences: topic → keys (so a closing socket leaves without a scan), and their bytes. */
interface ConnectionPresences {
  readonly topics: Map<string, Set<string>>;
  bytes: number;
}

/** topic → key → connectionId → presence. Map order is join order, which the metas arrays keep. */
type Topics = Map<string, Map<string, Map<string, Tracked>>>;

/** Creates an empty tracker. */
export function createPresenceTracker(options: PresenceTrackerOptions = {}): PresenceTracker {
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PRESENCE_PAYLOAD_BYTES;
  if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes < 2) {
    throw new PresenceError('PRESENCE_BAD_OPTION', `maxPayloadBytes must be an integer >= 2, got ${String(maxPayloadBytes)}`);
  }
  if (options.generateRef !== undefined && typeof options.generateRef !== 'function') {
    throw new PresenceError('PRESENCE_BAD_OPTION', 'generateRef must be a function');
  }
  const maxBytesPerConnection = options.maxBytesPerConnection ?? DEFAULT_MAX_PRESENCE_BYTES_PER_CONNECTION;
  if (!Number.isSafeInteger(maxBytesPerConnection) || maxBytesPerConnection < 1) {
    throw new PresenceError('PRESENCE_BAD_OPTION', `maxBytesPerConnection must be a positive integer, got ${String(maxBytesPerConnection)}`);
  }
  const generateRef = options.generateRef ?? defaultRefGenerator();
  const topics: Topics = new Map();
  // Deleted with the connection's last presence: a closed socket leaves no entry behind.
  const byConnection = new Map<string, ConnectionPresences>();

  function remove(topic: string, connectionId: string, key: string, leaves: PresenceState): void {
    const keys = topics.get(topic);
    const byConn = keys?.get(key);
    const tracked = byConn?.get(connectionId);
    if (!keys || !byConn || !tracked) return;
    byConn.delete(connectionId);
    if (byConn.size === 0) keys.delete(key);
    if (keys.size === 0) topics.delete(topic);
    const connection = byConnection.get(connectionId);
    if (connection) {
      connection.bytes -= tracked.bytes;
      const connKeys = connection.topics.get(topic);
      connKeys?.delete(key);
      if (connKeys?.size === 0) connection.topics.delete(topic);
      if (connection.topics.size === 0) byConnection.delete(connectionId);
    }
    addMeta(leaves, key, tracked.meta);
  }

  return {
    track(topic, connectionId, key, payload) {
      checkName('topic', topic);
      checkName('connectionId', connectionId);
      checkName('key', key);
      const { payload: clean, bytes: payloadBytes } = normalizePayload(payload, maxPayloadBytes);
      // The key and topic are held (and sent in every state) too: a megabyte key must count.
      const bytes = payloadBytes + Buffer.byteLength(key) + Buffer.byteLength(topic);
      let keys = topics.get(topic);
      const previous = keys?.get(key)?.get(connectionId);
      if (previous && jsonEqual(previous.payload, clean)) return null;
      // An update replaces its key's bytes; refused before anything changes, so the earlier presence stays.
      const connectionBytes = (byConnection.get(connectionId)?.bytes ?? 0) - (previous?.bytes ?? 0) + bytes;
      if (connectionBytes > maxBytesPerConnection) {
        throw new PresenceError(
          'PRESENCE_CONNECTION_BUDGET_EXCEEDED',
          `PresenceBudgetExceeded: this connection's presences would take ${connectionBytes} bytes, more than maxPresenceBytesPerConnection (${maxBytesPerConnection})`,
          { bytes: connectionBytes, limit: maxBytesPerConnection },
        );
      }

      const meta: PresenceMeta = Object.freeze(
        previous ? { ...clean, phx_ref: generateRef(), phx_ref_prev: previous.meta.phx_ref } : { ...clean, phx_ref: generateRef() },
      );
      if (!keys) topics.set(topic, (keys = new Map()));
      let byConn = keys.get(key);
      if (!byConn) keys.set(key, (byConn = new Map()));
      // Delete first so an update moves to the end, where phoenix's syncDiff puts a joined meta.
      byConn.delete(connectionId);
      byConn.set(connectionId, { payload: clean, meta, bytes });
      let connection = byConnection.get(connectionId);
      if (!connection) byConnection.set(connectionId, (connection = { topics: new Map(), bytes: 0 }));
      connection.bytes = connectionBytes;
      let connKeys = connection.topics.get(topic);
      if (!connKeys) connection.topics.set(topic, (connKeys = new Set()));
      connKeys.add(key);

      const diff = emptyDiff();
      addMeta(diff.joins, key, meta);
      if (previous) addMeta(diff.leaves, key, previous.meta);
      return diff;
    },

    untrack(topic, connectionId, key) {
      checkName('topic', topic);
      checkName('connectionId', connectionId);
      if (key !== undefined) checkName('key', key);
      const keys = key === undefined ? [...(byConnection.get(connectionId)?.topics.get(topic) ?? [])] : [key];
      const diff = emptyDiff();
      for (const k of keys) remove(topic, connectionId, k, diff.leaves);
      return isEmpty(diff.leaves) ? null : diff;
    },

    untrackConnection(connectionId) {
      checkName('connectionId', connectionId);
      const result: TopicPresenceDiff[] = [];
      for (const [topic, keys] of [...(byConnection.get(connectionId)?.topics ?? [])]) {
        const diff = emptyDiff();
        for (const key of [...keys]) remove(topic, connectionId, key, diff.leaves);
        if (!isEmpty(diff.leaves)) result.push({ topic, diff });
      }
      return result;
    },

    state(topic) {
      checkName('topic', topic);
      const state: PresenceState = record();
      for (const [key, byConn] of topics.get(topic) ?? []) {
        state[key] = { metas: [...byConn.values()].map((t) => t.meta) };
      }
      return state;
    },

    topics() {
      return [...topics.keys()];
    },

    bytesOf(connectionId) {
      checkName('connectionId', connectionId);
      return byConnection.get(connectionId)?.bytes ?? 0;
    },
  };
}

/**
 * Applies a `presence_diff` to a state the way phoenix's `Presence.syncDiff` does (joins first, a
 * key's surviving metas before its joined ones; then leaves by `phx_ref`, dropping emptied keys).
 * Pure: returns a new state and leaves both arguments untouched.
 */
export function applyDiff(state: PresenceState, diff: PresenceDiff): PresenceState {
  const next: PresenceState = record();
  for (const key of Object.keys(state)) next[key] = { metas: [...state[key]!.metas] };
  for (const key of Object.keys(diff.joins)) {
    const joined = diff.joins[key]!.metas;
    const joinedRefs = new Set(joined.map((m) => m.phx_ref));
    const kept = next[key]?.metas.filter((m) => !joinedRefs.has(m.phx_ref)) ?? [];
    next[key] = { metas: [...kept, ...joined] };
  }
  for (const key of Object.keys(diff.leaves)) {
    const current = next[key];
    if (!current) continue;
    const leftRefs = new Set(diff.leaves[key]!.metas.map((m) => m.phx_ref));
    const metas = current.metas.filter((m) => !leftRefs.has(m.phx_ref));
    if (metas.length === 0) delete next[key];
    else next[key] = { metas };
  }
  return next;
}

/** Validates a track payload and returns a frozen, JSON-normalized copy without reserved fields, and that copy's JSON size. */
function normalizePayload(payload: unknown, maxBytes: number): { payload: Readonly<Record<string, unknown>>; bytes: number } {
  if (!isPlainObject(payload)) throw new PresenceError('PRESENCE_PAYLOAD_NOT_MAP', PAYLOAD_NOT_MAP_MESSAGE);
  let json: string;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    // BigInt or a cycle: cannot come off the wire, but the module's contract is JSON in.
    throw new PresenceError('PRESENCE_PAYLOAD_NOT_JSON', `Presence track payload is not JSON: ${(error as Error).message}`);
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) {
    throw new PresenceError('PRESENCE_PAYLOAD_TOO_LARGE', PAYLOAD_TOO_LARGE_MESSAGE, { bytes, limit: maxBytes });
  }
  // A JSON round trip is what every client will see anyway, and it gives us a private copy to freeze.
  const copy = JSON.parse(json) as Record<string, unknown>;
  let stripped = false;
  for (const field of RESERVED_FIELDS) {
    if (Object.prototype.hasOwnProperty.call(copy, field)) {
      delete copy[field];
      stripped = true;
    }
  }
  // The budget counts what is kept; measuring again is needed only in the rare case something was dropped.
  return { payload: deepFreeze(copy), bytes: stripped ? Buffer.byteLength(JSON.stringify(copy)) : bytes };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkName(what: string, value: unknown): void {
  if (typeof value !== 'string') {
    throw new PresenceError('PRESENCE_BAD_ARGUMENT', `${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  }
}

/** Structural equality of JSON values, ignoring object key order (as Elixir map equality does). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    return a.length === bs.length && a.every((v, i) => jsonEqual(v, bs[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const aKeys = Object.keys(ao);
  if (aKeys.length !== Object.keys(bo).length) return false;
  return aKeys.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && jsonEqual(ao[k], bo[k]));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A prototype-less record, so client-chosen keys like `__proto__` stay ordinary keys. */
function record(): PresenceState {
  return Object.create(null) as PresenceState;
}

/** A diff with no joins and no leaves (prototype-less records). */
export function emptyDiff(): PresenceDiff {
  return { joins: record(), leaves: record() };
}

/** Appends `meta` to `key`'s metas in `into`. */
export function addMeta(into: PresenceState, key: string, meta: PresenceMeta): void {
  (into[key] ??= { metas: [] }).metas.push(meta);
}

function isEmpty(state: PresenceState): boolean {
  return Object.keys(state).length === 0;
}

/**
 * Refs: a random per-tracker prefix plus a counter. The prefix matters: after a server restart a
 * client still holds the old refs, and phoenix's syncState keeps a meta whose ref it already knows,
 * so a reused ref would leave that client with stale presence data.
 */
function defaultRefGenerator(): () => string {
  const prefix = randomBytes(9).toString('base64url');
  let counter = 0;
  return () => `${prefix}${(counter++).toString(36)}`;
}
