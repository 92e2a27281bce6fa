/**
 * The api ↔ sync contract of the outbox: every write the api sends takes a turn from the sync
 * middleware, so a write that can't reach PostgREST is queued in the store instead of failing, and
 * queued writes go out again in order.
 *
 * - Before each send, the base query dispatches WRITE_WAITING (`WriteWaiting`: the request, and
 *   after a failure that may pass, that failure). A sync middleware answers with a `WriteTurn`:
 *   the write's outbox id and what to do next, now or once its turn comes (a promise): send this
 *   request, or resolve with this result (the write was discarded). Without a middleware (the action
 *   comes back as is) the request is sent at once, as before.
 * - After a send whose result is final (data, or an error that will not pass), the base query
 *   dispatches WRITE_DONE: the write leaves the outbox (or stays there as failed).
 * - A queued write whose base query is gone (the page was reloaded and the outbox restored) is
 *   replayed by the middleware through the api's `write` endpoint; it knows its own request when
 *   that base query asks for a turn.
 */
import type { PostgrestError, PostgrestRequest } from '../postgrest/request/types';
import { RUNNING_WRITE, type WriteResult } from './liveContract';

/** Dispatched by the base query before each send of a write (payload WriteWaiting). */
export const WRITE_WAITING = 'rtkPostgrest/writeWaiting';
/** Dispatched by the base query after a send whose result is final (payload WriteDone). */
export const WRITE_DONE = 'rtkPostgrest/writeDone';

export interface WriteWaiting {
  /** The reducerPath of the api whose base query sends it. */
  api: string;
  endpoint: string;
  request: PostgrestRequest;
  /** The write's outbox id, once it has one. */
  outboxId?: string;
  /** The optimistic write (its id) this request belongs to, if any. */
  writeId?: string;
  /** The last attempt's result, a failure that may pass. (With `outboxId` and no failure: the next request of the same write, e.g. a conflict's second send.) */
  failure?: WriteResult;
}

/** What to do when the write's turn comes. */
export type WriteGo =
  /**
   * Send `send`; `complete`: an insert sent again that PostgREST asked to skip existing keys: its key
   * columns, to read back the rows it skipped (it is sent asking for a list, then shaped as `send` asks).
   * `attempt`: which send of the write this is, counting those before a reload (1 when absent).
   */
  | { send: PostgrestRequest; complete?: string[]; attempt?: number }
  /** Don't send: resolve with `result` (the write was discarded). */
  | { result: WriteResult };

/** A sync middleware's answer to WRITE_WAITING. */
export interface WriteTurn {
  outboxId: string;
  next: WriteGo | Promise<WriteGo>;
}

export interface WriteDone {
  api: string;
  outboxId: string;
  result: WriteResult;
}

/** The action asking for a write's turn (the running-write function in `meta.arg` marks it as really running: a replayed one is ignored). */
export function writeWaiting(waiting: WriteWaiting) {
  return { type: WRITE_WAITING, payload: waiting, meta: { arg: { [RUNNING_WRITE]: () => true } } };
}

/** The action saying a write was answered for good (marked like `writeWaiting`'s). */
export function writeDone(done: WriteDone) {
  return { type: WRITE_DONE, payload: done, meta: { arg: { [RUNNING_WRITE]: () => true } } };
}

/** The turn an answer to WRITE_WAITING stands for; undefined when nobody keeps an outbox. */
export function turnOf(answer: unknown): WriteTurn | undefined {
  const turn = answer as Partial<WriteTurn> | undefined;
  return typeof turn === 'object' && turn !== null && typeof turn.outboxId === 'string' && typeof turn.next === 'object' && turn.next !== null ? (turn as WriteTurn) : undefined;
}

/**
 * Failures after which a write is queued and sent again: the network (`FETCH_ERROR`), the time
 * limit (`TIMEOUT_ERROR`), 408, 429, and the gateway answers 502, 503 (PostgREST's own "database
 * unavailable") and 504. A 500 is final: PostgREST answers 500 for database errors that don't pass
 * (a trigger's ASSERT, a failed INTO STRICT), and sending it again would block the writes behind it.
 */
export function isPassingWriteFailure(error: PostgrestError | undefined): boolean {
  const status = error?.status;
  return status === 'FETCH_ERROR' || status === 'TIMEOUT_ERROR' || status === 408 || status === 429 || status === 502 || status === 503 || status === 504;
}

/** Failures that say PostgREST could not be reached at all (no HTTP answer). */
export function isUnreachable(error: PostgrestError | undefined): boolean {
  return error?.status === 'FETCH_ERROR' || error?.status === 'TIMEOUT_ERROR';
}
