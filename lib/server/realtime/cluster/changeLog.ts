/**
 * The cluster's change log: one Redis Stream that the leader appends what its replication stream
 * delivers to (row changes, DDL messages, statuses) and every node reads. Bounded with `MAXLEN ~`,
 * it is also the resume log of every node: a join resumes from it on any node.
 *
 * ## Entries
 * Fields `k` (kind: `changes`, `message`, `status`), `a` (after: the position the stream was complete
 * after before this entry; empty when unknown), `p` (position: complete after this once the entry is
 * applied; empty for `reconnecting`), `d` (the JSON: ChangeEvent[], a LogicalMessage or a
 * ReplicationStatus). A `live` status (always `resyncNeeded`: a leader's fresh slot, or a gap in its
 * own stream) starts an epoch: nothing before it continues into what follows. Within an epoch each
 * entry's `a` is the previous entry's `p`, so a reader notices entries it never saw (trimmed before
 * it read them, or an append that failed) and resyncs instead of skipping them silently.
 */
import type { Redis } from 'ioredis';
import { isStreamPosition, type ResumeResult, type StreamPosition } from '../replication/resumeLog.js';
import type { ChangeEvent, LogicalMessage, ReplicationStatus } from '../replication/types.js';

export type LogEntry =
  | { kind: 'changes'; after: StreamPosition | undefined; position: StreamPosition; events: ChangeEvent[] }
  | { kind: 'message'; after: StreamPosition | undefined; position: StreamPosition | undefined; message: LogicalMessage }
  | { kind: 'status'; after: StreamPosition | undefined; position: StreamPosition | undefined; status: ReplicationStatus };

/** Raised by an append from a node that no longer holds the leader lock. */
export const NOT_LEADER = 'NOTLEADER';

// Fenced: only the lock's holder appends (leaderLock.ts). MAXLEN ~ trims whole macro nodes, cheaply.
const APPEND = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return redis.error_reply('${NOT_LEADER} this node no longer holds the leader lock') end
return redis.call('xadd', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'k', ARGV[3], 'a', ARGV[4], 'p', ARGV[5], 'd', ARGV[6])`;

/** Entries read per round trip when scanning back for a resume. */
const PAGE = 100;

export interface ChangeLogKeys {
  /** The leader lock's key (the fence). */
  lock: string;
  /** The Redis Stream's key. */
  stream: string;
}

/** Appends `entry` if `token` still holds the lock; resolves with its stream id. Rejects with NOT_LEADER otherwise. */
export async function appendEntry(redis: Redis, keys: ChangeLogKeys, token: string, maxEntries: number, entry: LogEntry): Promise<string> {
  const data = entry.kind === 'changes' ? entry.events : entry.kind === 'message' ? entry.message : entry.status;
  const id = await redis.eval(APPEND, 2, keys.lock, keys.stream, token, String(maxEntries), entry.kind, entry.after ?? '', entry.position ?? '', JSON.stringify(data));
  return String(id);
}

/** Whether an append failed because this node is no longer the leader. */
export const isNotLeader = (error: unknown) => error instanceof Error && error.message.startsWith(NOT_LEADER);

/** An entry from its flat field list (`[k, v, k, v, ...]`). */
export function decodeEntry(fields: readonly string[]): LogEntry {
  const field: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) field[fields[i]!] = fields[i + 1]!;
  const after = isStreamPosition(field.a) ? field.a : undefined;
  const position = isStreamPosition(field.p) ? field.p : undefined;
  const data = JSON.parse(field.d ?? 'null') as unknown;
  switch (field.k) {
    case 'changes':
      if (!position) throw new Error(`change log entry without a position: ${JSON.stringify(field.p)}`);
      return { kind: 'changes', after, position, events: data as ChangeEvent[] };
    case 'message':
      return { kind: 'message', after, position, message: data as LogicalMessage };
    case 'status':
      return { kind: 'status', after, position, status: data as ReplicationStatus };
    default:
      throw new Error(`change log entry of unknown kind ${JSON.stringify(field.k)}`);
  }
}

/** The newest entry's id and entry, if the stream holds any. */
export async function newestEntry(redis: Redis, keys: ChangeLogKeys): Promise<{ id: string; entry: LogEntry } | undefined> {
  const [last] = await redis.xrevrange(keys.stream, '+', '-', 'COUNT', 1);
  return last ? { id: last[0], entry: decodeEntry(last[1]) } : undefined;
}

/**
 * The changes strictly after `position` and up to `upTo` (what this node has dispatched), if the
 * stream still holds all of them: scanned back from the newest entry until one that ends at or
 * before `position`, or the epoch's start. Costs one round trip per PAGE entries after `position`.
 */
export async function readSince(redis: Redis, keys: ChangeLogKeys, position: unknown, upTo: StreamPosition | undefined): Promise<ResumeResult<ChangeEvent>> {
  if (!isStreamPosition(position)) return { ok: false, reason: 'malformed' };
  if (upTo === undefined) return { ok: false, reason: 'too_old' };
  // Beyond what this node dispatched: it can't tell what lies between (resumes wait for it to catch up first).
  if (position > upTo) return { ok: false, reason: 'unknown_future' };
  const batches: ChangeEvent[][] = [];
  const done = (): ResumeResult<ChangeEvent> => {
    const entries: ChangeEvent[] = [];
    for (let i = batches.length - 1; i >= 0; i--) {
      for (const event of batches[i]!) if (event.position > position && event.position <= upTo) entries.push(event);
    }
    return { ok: true, entries };
  };
  let end = '+';
  for (;;) {
    const page = await redis.xrevrange(keys.stream, end, '-', 'COUNT', PAGE);
    if (page.length === 0) return { ok: false, reason: 'too_old' }; // trimmed before the boundary was found
    for (const [, fields] of page) {
      const entry = decodeEntry(fields);
      if (entry.kind === 'status') {
        // An epoch's start this node has not reached yet is not its boundary.
        if (entry.status.state !== 'live' || entry.position === undefined || entry.position > upTo) continue;
        return position >= entry.position ? done() : { ok: false, reason: 'too_old' };
      }
      if (entry.kind === 'changes') {
        if (entry.position <= position) return done();
        batches.push(entry.events);
      }
      if (entry.after !== undefined && entry.after <= position) return done();
    }
    end = `(${page[page.length - 1]![0]}`;
  }
}
