/**
 * The outbox: every write the api sends takes its turn here (lib/api/writeContract.ts), so one that
 * can't reach PostgREST is queued in the store instead of failing, and queued writes are sent again
 * one at a time, in the order they were made, with bounded exponential backoff and full jitter.
 *
 * - A write is sent at once unless it would overtake: while the app is offline, PostgREST is known
 *   unreachable, or queued writes wait, it queues behind them.
 * - A failure that may pass (network, time-out, 5xx, 408, 429) queues it again; a final answer ends
 *   it (a write that had been queued and fails for good stays, `failed`, until retried or discarded).
 * - Sent again, an insert whose rows carry their keys (a uuid made by the client, a key given, or a
 *   configured idempotency column this handler fills in) asks PostgREST to ignore a duplicate key and
 *   reads back the rows it then skipped: a lost response never makes a second row.
 * - A write whose base query is gone (the outbox came back from storage) is replayed through the
 *   api's `write` endpoint; an optimistic one keeps its layer (its pending write).
 * - Which requests reach PostgREST at all (`restReachable`) is learnt from writes and reads alike;
 *   while it is false and no queued write finds out, the read that failed is tried again (backoff).
 *
 * Nothing here is stored outside actions' results but what can't be: the promises of base queries
 * waiting for their turn, and the timer of the next attempt.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { OPTIMISTIC_WRITE_SETTLING, OPTIMISTIC_WRITE_STARTING, RUNNING_WRITE, type OptimisticStart, type WriteResult } from '../../api/liveContract.js';
import { isUnreachable, WRITE_DONE, WRITE_WAITING, type WriteDone, type WriteGo, type WriteTurn, type WriteWaiting } from '../../api/writeContract.js';
import type { PostgrestError, PostgrestRequest } from '../../postgrest/request/types.js';
import { backoffDelay, backoffPolicy, type BackoffPolicy } from '../phoenix/backoff.js';
import { newUuid } from '../ids.js';
import { restoresOutbox, type OutboxItem } from '../slice.js';
import { primaryKeyOf } from '../../api/tags.js';
import { inBackground } from '../phoenix/socketOptions.js';
import type { HandlerContext, SyncHandler } from './types.js';

/** What `createSyncMiddleware({ outbox })` takes. */
export interface OutboxOptions {
  /** Delays between sends of a queued write: full jitter up to min · factor^(n−1), capped. Default 1 s ×2 up to 30 s. */
  retry?: Partial<BackoffPolicy>;
  /**
   * Per table, a column (unique, e.g. `client_id uuid unique`) the outbox fills with a new uuid in
   * every inserted row that lacks it, so an insert sent again after a lost response is recognised
   * (tables with a uuid primary key need none when their writes are `.optimistic()`: the key is made
   * on the client).
   */
  idempotencyKeys?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * A write still answered with 408, 429, 502, 503 or 504 after this many sends fails (kept as
   * `failed`), so the writes behind it go on. Network errors and time-outs never make it fail.
   * Default 10.
   */
  maxAttempts?: number;
}

export const DEFAULT_OUTBOX_RETRY: BackoffPolicy = { minDelayMs: 1000, maxDelayMs: 30_000, factor: 2 };
/** Sends of a write answered with 408 / 429 / 502–504 every time before it fails (network failures don't count: offline may last). */
export const DEFAULT_MAX_ATTEMPTS = 10;

export interface OutboxHandlerOptions {
  api?: unknown;
  outbox?: OutboxOptions | false;
  primaryKeys?: Readonly<Record<string, string | readonly string[]>>;
  random?: () => number;
}

const REHYDRATE = 'persist/REHYDRATE';

/** An error for a write the app discarded. */
function discarded(id: string): PostgrestError {
  return { status: 'INVALID_REQUEST', code: 'DISCARDED', message: `the write ${id} was discarded from the outbox before it reached PostgREST`, details: null, hint: null };
}

const columnsOf = (value: string | readonly string[]): readonly string[] => (typeof value === 'string' ? [value] : value);

/** A HEAD of `write`'s table: the cheapest request that says whether PostgREST answers. */
function headOf(write: PostgrestRequest): PostgrestRequest {
  return { action: 'select', method: 'HEAD', relation: write.relation, ...(write.schema !== undefined && { schema: write.schema }), query: [['select', '*'], ['limit', '1']], headers: {}, result: 'many' };
}

/** Nothing without an api, or with `outbox: false`. */
export function outboxHandler(context: HandlerContext, options: OutboxHandlerOptions): SyncHandler | undefined {
  if (!options.api || options.outbox === false) return undefined;
  const api = options.api as { reducerPath: string; endpoints: Record<string, { initiate(arg: unknown, options?: object): unknown }> };
  const apiPath = api.reducerPath;
  const { actions } = context;
  const config = options.outbox ?? {};
  const policy = backoffPolicy(config.retry, DEFAULT_OUTBOX_RETRY, 'createSyncMiddleware: outbox.retry');
  const random = options.random ?? Math.random;
  const fulfilledType = `${apiPath}/executeQuery/fulfilled`;
  const rejectedType = `${apiPath}/executeQuery/rejected`;

  /** Base queries waiting for their write's turn, by outbox id. */
  const waiting = new Map<string, (go: WriteGo) => void>();
  /** Writes replayed through the `write` endpoint (no base query of theirs was waiting), by their request. */
  const resuming = new Map<string, string>();
  /** Replayed optimistic writes (their pending write's id), by request: their announcement answers with that write's plan. */
  const resumingWrites = new Map<string, string>();
  /** Writes that waited in the line (queued, or restored from storage): a final error leaves them `failed`, in view. */
  const queuedOnce = new Set<string>();
  let timer: unknown = null;
  const warnedTables = new Set<string>();

  const outbox = (): readonly OutboxItem[] => context.mirror().outbox;
  const itemOf = (id: string) => outbox().find((item) => item.id === id);
  /**
   * The writes this instance sends: those its base queries made, and those it took up from storage.
   * Items that only came with replayed actions (a recorded session dispatched into another store)
   * are shown, never sent.
   */
  const owned = new Set<string>();
  /** When this instance started: a pending write applied before was restored from storage. */
  const startedAt = context.now();
  const queuedHere = (item: OutboxItem) => item.status === 'queued' && owned.has(item.id);
  /** One of this instance's writes is being sent: the next one waits for its answer (writes go out one at a time, in order). */
  const sending = () => outbox().some((item) => item.status === 'sending' && owned.has(item.id));
  /** A write made now goes behind these: every write of this instance not answered yet. */
  const lineWaiting = () => outbox().some((item) => item.status !== 'failed' && owned.has(item.id));
  const maxAttempts = config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;

  function keysOf(request: PostgrestRequest): readonly string[] {
    const configured = config.idempotencyKeys?.[request.relation];
    return configured !== undefined ? columnsOf(configured) : primaryKeyOf(options.primaryKeys, request.relation, request.relation);
  }

  const rowsOf = (request: PostgrestRequest) => (Array.isArray(request.body) ? request.body : [request.body]) as Array<Record<string, unknown>>;

  /** An insert with its idempotency column filled in every row (a new uuid where a row lacks it). */
  function withIdempotencyKeys(request: PostgrestRequest): PostgrestRequest {
    const columns = config.idempotencyKeys?.[request.relation];
    if (columns === undefined || request.action !== 'insert' || request.body === null || typeof request.body !== 'object') return request;
    const list = columnsOf(columns);
    const rows = rowsOf(request).map((row) => (list.every((column) => column in row) ? row : { ...row, ...Object.fromEntries(list.filter((column) => !(column in row)).map((column) => [column, newUuid()])) }));
    return { ...request, body: Array.isArray(request.body) ? rows : rows[0] };
  }

  /**
   * The form of `request` that may be sent twice: an insert whose rows all carry their keys asks
   * PostgREST to skip a row whose key exists (`on_conflict` + `resolution=ignore-duplicates`); the
   * base query reads those back. Anything else as it is (updates and deletes by key set values:
   * sending them again changes nothing more).
   */
  function replayForm(request: PostgrestRequest): PostgrestRequest {
    if (request.action !== 'insert' || request.body === null || typeof request.body !== 'object') return request;
    const prefer = request.headers.Prefer ?? '';
    if (/resolution=/.test(prefer)) return request;
    const keys = keysOf(request);
    if (keys.length === 0 || !rowsOf(request).every((row) => row !== null && typeof row === 'object' && keys.every((column) => column in row && row[column] !== null))) {
      if (!warnedTables.has(request.relation)) {
        warnedTables.add(request.relation);
        context.warn(`[rtk-postgrest sync] an insert into ${request.relation} is sent again without its key (${keys.join(', ')}): if the first send landed and only its answer was lost, the row is inserted twice. Give the table a uuid key (made on the client by .optimistic()) or configure outbox.idempotencyKeys.`);
      }
      return request;
    }
    return {
      ...request,
      query: [...request.query.filter(([name]) => name !== 'on_conflict'), ['on_conflict', keys.join(',')]],
      headers: { ...request.headers, Prefer: [prefer, 'resolution=ignore-duplicates'].filter(Boolean).join(',') },
    };
  }

  /** The key columns a replayed insert reads back (it skipped rows that exist), if it is one. */
  function completeOf(request: PostgrestRequest): string[] | undefined {
    if (request.action !== 'insert' || !/resolution=ignore-duplicates/.test(request.headers.Prefer ?? '')) return undefined;
    const conflict = request.query.find(([name]) => name === 'on_conflict');
    return conflict ? conflict[1].split(',') : undefined;
  }

  const go = (item: OutboxItem): WriteGo => {
    const complete = completeOf(item.request);
    return { send: item.request, ...(complete && { complete }), ...(item.attempts > 1 && { attempt: item.attempts }) };
  };

  function reachable(value: boolean, error?: string): void {
    if (value) stopProbing();
    if (context.mirror().connection.restReachable === value) return;
    context.dispatch(actions.restReachability({ reachable: value, ...(error !== undefined && { error }), at: context.now() }));
  }

  /**
   * While PostgREST can't be reached and no queued write is there to find out, it is asked again
   * with the outbox's backoff (the app may not ask again: the status would stay `offline`): the read
   * that failed, or a HEAD of the table a write failed on (no rows, any answer will do); any answer
   * ends it.
   */
  let probe: { endpoint: string; arg: unknown; attempt: number; timer: unknown } | null = null;
  function startProbing(endpoint: string, arg: unknown): void {
    if (probe) {
      probe.endpoint = endpoint;
      probe.arg = arg;
      return;
    }
    probe = { endpoint, arg, attempt: 0, timer: null };
    scheduleProbe();
  }
  function scheduleProbe(): void {
    if (!probe) return;
    if (probe.timer !== null) context.timers.clearTimeout(probe.timer);
    probe.attempt += 1;
    probe.timer = inBackground(context.timers.setTimeout(probeNow, backoffDelay(policy, probe.attempt, random)));
  }
  function probeNow(): void {
    if (!probe) return;
    if (probe.timer !== null) context.timers.clearTimeout(probe.timer);
    probe.timer = null;
    const { endpoint, arg } = probe;
    scheduleProbe();
    // A queued write of this instance finds out itself; offline, nothing is tried.
    if (!context.mirror().connection.online || lineWaiting()) return;
    const initiate = (api.endpoints as Record<string, { initiate(arg: unknown, options?: object): unknown } | undefined>)[endpoint]?.initiate;
    if (initiate) context.dispatch(initiate(arg, { subscribe: false, forceRefetch: true }) as UnknownAction);
  }
  function stopProbing(): void {
    if (probe?.timer != null) context.timers.clearTimeout(probe.timer);
    probe = null;
  }

  /** A turn that comes when `pump` says so. */
  function wait(id: string): WriteTurn {
    return { outboxId: id, next: new Promise<WriteGo>((resolve) => waiting.set(id, resolve)) };
  }

  function waitingFor(payload: WriteWaiting): WriteTurn {
    if (payload.outboxId === undefined) {
      // A replay through the `write` endpoint: its item is being sent already.
      const key = JSON.stringify(payload.request);
      const resumed = resuming.get(key);
      if (resumed !== undefined) {
        resuming.delete(key);
        const item = itemOf(resumed);
        if (item) return { outboxId: resumed, next: go(item) };
      }
      const id = newUuid();
      const request = withIdempotencyKeys(payload.request);
      const { online, restReachable } = context.mirror().connection;
      const behind = !online || !restReachable || lineWaiting();
      owned.add(id);
      const item: OutboxItem = { id, request, endpoint: payload.endpoint, ...(payload.writeId !== undefined && { writeId: payload.writeId }), status: behind ? 'queued' : 'sending', attempts: behind ? 0 : 1, at: context.now() };
      context.dispatch(actions.outboxAdded({ item }));
      if (!behind) return { outboxId: id, next: { send: request } };
      queuedOnce.add(id);
      const turn = wait(id);
      pump();
      return turn;
    }
    const id = payload.outboxId;
    const item = itemOf(id);
    if (payload.failure === undefined) {
      // The next request of the same write (an optimistic write's second send after a conflict): it
      // keeps its place, and is what a replay sends from now on; it was never sent before.
      if (item && item.request !== payload.request) context.dispatch(actions.outboxSending({ id, request: payload.request }));
      return { outboxId: id, next: { send: payload.request } };
    }
    // The last send failed in a way that may pass: queued again, in its place, after a backoff.
    const error = payload.failure.error;
    if (isUnreachable(error)) reachable(false, error?.message);
    else if (error !== undefined) reachable(true);
    if (!item) return { outboxId: id, next: { result: payload.failure } };
    if (error !== undefined && typeof error.status === 'number' && item.attempts >= maxAttempts) {
      // Answered with 408 / 429 / 502–504 every time: it fails, and the writes behind it go on.
      context.dispatch(actions.outboxFailed({ id, error }));
      pump();
      return { outboxId: id, next: { result: payload.failure } };
    }
    queuedOnce.add(id);
    const delay = backoffDelay(policy, Math.max(1, item.attempts), random);
    const request = replayForm(payload.request);
    context.dispatch(actions.outboxQueued({ id, ...(error !== undefined && { error }), nextAttemptAt: context.now() + delay, ...(request !== item.request && { request }) }));
    const turn = wait(id);
    pump();
    return turn;
  }

  function done({ outboxId: id, result }: WriteDone): void {
    reachable(true);
    const item = itemOf(id);
    if (item && item.status !== 'failed') {
      // A write that was queued and fails for good stays visible (nobody may be waiting for it any more).
      if (result.error !== undefined && queuedOnce.has(id)) context.dispatch(actions.outboxFailed({ id, error: result.error }));
      else context.dispatch(actions.outboxDelivered({ id }));
    }
    queuedOnce.delete(id);
    if (!itemOf(id)) owned.delete(id);
    pump();
  }

  /** Sends the first queued write when it is due (one at a time, in order); else waits for it. */
  function pump(): void {
    if (timer !== null) {
      context.timers.clearTimeout(timer);
      timer = null;
    }
    if (sending() || !context.mirror().connection.online) return;
    const head = outbox().find(queuedHere);
    if (!head) return;
    const wait = (head.nextAttemptAt ?? 0) - context.now();
    if (wait > 0) {
      timer = inBackground(
        context.timers.setTimeout(() => {
          timer = null;
          pump();
        }, wait),
      );
      return;
    }
    context.dispatch(actions.outboxSending({ id: head.id }));
    const resolve = waiting.get(head.id);
    if (resolve) {
      waiting.delete(head.id);
      resolve(go(itemOf(head.id) ?? head));
      return;
    }
    resume(head);
  }

  /** Replays a write nobody waits for through the api's `write` endpoint. */
  function resume(item: OutboxItem): void {
    const pendingWrite = item.writeId !== undefined && context.mirror().writes.some((write) => write.id === item.writeId && write.status === 'pending');
    // An optimistic write keeps its layer (its pending write answers); one rolled back goes as a plain write.
    const request = pendingWrite ? item.request : withoutOptimistic(item.request);
    resuming.set(JSON.stringify(request), item.id);
    if (pendingWrite) resumingWrites.set(JSON.stringify(request), item.writeId!);
    const stuck = (why: string) => {
      // Its base query ended (it always ends a write it sent), yet the write is still being sent:
      // the base query never asked for its turn. The line must not wait for it.
      if (itemOf(item.id)?.status !== 'sending' || waiting.has(item.id)) return;
      resuming.delete(JSON.stringify(request));
      resumingWrites.delete(JSON.stringify(request));
      context.warn(`[rtk-postgrest sync] replaying the queued write ${item.id} failed: ${why}`);
      context.dispatch(actions.outboxFailed({ id: item.id, error: { status: 'INVALID_REQUEST', code: 'REPLAY_FAILED', message: `the queued write could not be replayed: ${why}`, details: null, hint: null } }));
      pump();
    };
    try {
      const running = context.dispatch(api.endpoints.write!.initiate(request, { track: false }) as unknown as UnknownAction);
      void Promise.resolve(running).then(
        () => stuck('its request was not sent'),
        (error: unknown) => stuck((error as Error)?.message ?? String(error)),
      );
    } catch (error) {
      stuck((error as Error)?.message ?? String(error));
    }
  }

  /** Takes up the writes of a restored outbox (their base queries are gone). */
  function adopt(): void {
    // A pending optimistic write restored without its outbox entry can't be sent (its request as sent
    // is in the outbox): its layer goes, and the server's rows show what is true.
    const carried = new Set(outbox().map((item) => item.writeId).filter((id) => id !== undefined));
    for (const write of context.mirror().writes) {
      if (write.status !== 'pending' || carried.has(write.id) || write.at >= startedAt) continue;
      const error: PostgrestError = { status: 'INVALID_REQUEST', code: 'NOT_IN_OUTBOX', message: `the optimistic write ${write.id} was restored without its outbox entry, so it can't be sent: persist the sync slice's "outbox" with its "writes"`, details: null, hint: null };
      context.warn(`[rtk-postgrest sync] ${error.message}`);
      context.dispatch({ type: OPTIMISTIC_WRITE_SETTLING, payload: { api: apiPath, id: write.id, result: { error } } });
    }
    for (const item of outbox()) {
      // Writes of this instance are in its hands already (sent, waiting, or answered soon).
      if (item.status === 'failed' || owned.has(item.id)) continue;
      owned.add(item.id);
      queuedOnce.add(item.id);
      // Its send may have landed before the page went: sent again in the form that can't apply twice.
      if (item.status === 'sending') context.dispatch(actions.outboxQueued({ id: item.id, nextAttemptAt: context.now(), request: replayForm(item.request) }));
    }
    pump();
  }

  function retry(id: string): void {
    const item = itemOf(id);
    if (!item) return context.warn(`[rtk-postgrest sync] retryWrite: no write ${JSON.stringify(id)} in the outbox`);
    if (item.status === 'sending') return;
    owned.add(id);
    queuedOnce.add(id);
    context.dispatch(actions.outboxQueued({ id, nextAttemptAt: context.now(), ...(item.status === 'failed' && { request: withoutOptimistic(item.request) }) }));
    pump();
  }

  function discard(id: string): void {
    const item = itemOf(id);
    if (!item) return context.warn(`[rtk-postgrest sync] discardWrite: no write ${JSON.stringify(id)} in the outbox`);
    if (item.status === 'sending') return context.warn(`[rtk-postgrest sync] discardWrite: the write ${JSON.stringify(id)} is being sent; it can't be discarded now`);
    queuedOnce.delete(id);
    owned.delete(id);
    context.dispatch(actions.outboxDiscarded({ id }));
    // The queued write was what would find out when PostgREST answers again: now a HEAD of its table does.
    if (!context.mirror().connection.restReachable && !lineWaiting()) startProbing('read', headOf(item.request));
    const result: WriteResult = { error: discarded(id) };
    const resolve = waiting.get(id);
    waiting.delete(id);
    if (resolve) resolve({ result });
    else if (item.writeId !== undefined && context.mirror().writes.some((write) => write.id === item.writeId && write.status === 'pending')) {
      // Nobody waits for it (restored from storage): its layer is rolled back as its base query would have.
      context.dispatch({ type: OPTIMISTIC_WRITE_SETTLING, payload: { api: apiPath, id: item.writeId, result } });
    }
    pump();
  }

  return {
    onAnyAction(action) {
      const type = action.type;
      if (type === WRITE_WAITING || type === WRITE_DONE) {
        // Only a write that really runs here (a replayed action has lost its running-write function).
        if (typeof (action.meta as { arg?: Record<string, unknown> } | undefined)?.arg?.[RUNNING_WRITE] !== 'function') return undefined;
        if (type === WRITE_DONE) {
          const payload = action.payload as WriteDone | undefined;
          if (payload?.api === apiPath) done(payload);
          return undefined;
        }
        const payload = action.payload as WriteWaiting | undefined;
        return payload?.api === apiPath ? waitingFor(payload) : undefined;
      }
      if (type === OPTIMISTIC_WRITE_STARTING && resumingWrites.size > 0) {
        const payload = action.payload as OptimisticStart | undefined;
        if (payload?.api !== apiPath || typeof (action.meta as { arg?: Record<string, unknown> } | undefined)?.arg?.[RUNNING_WRITE] !== 'function') return undefined;
        const key = JSON.stringify(payload.request);
        const writeId = resumingWrites.get(key);
        if (writeId === undefined) return undefined;
        resumingWrites.delete(key);
        // The replay of a pending optimistic write: its layer is shown already.
        return { id: writeId, send: payload.request };
      }
      if (type === fulfilledType) reachable(true);
      else if (type === rejectedType) {
        const error = action.payload as PostgrestError | undefined;
        if (error && typeof error === 'object' && 'status' in error) {
          reachable(!isUnreachable(error), error.message);
          const arg = (action.meta as { arg?: { endpointName?: unknown; originalArgs?: unknown } } | undefined)?.arg;
          if (isUnreachable(error) && typeof arg?.endpointName === 'string') startProbing(arg.endpointName, arg.originalArgs);
        }
      } else if (type === REHYDRATE && restoresOutbox(action.payload)) adopt();
      else if (actions.environmentChanged.match(action)) {
        if (action.payload.online) {
          // Back online: the read that found PostgREST unreachable is tried at once.
          if (probe) {
            probe.attempt = 0;
            probeNow();
          }
          // The first queued write goes now, not after its backoff.
          const head = outbox().find(queuedHere);
          if (head && (head.nextAttemptAt ?? 0) > context.now()) context.dispatch(actions.outboxQueued({ id: head.id, nextAttemptAt: context.now() }));
          pump();
        }
      }
      return undefined;
    },
    onAction(action) {
      if (actions.retryWrite.match(action)) retry(action.payload.id);
      else if (actions.discardWrite.match(action)) discard(action.payload.id);
      else if (actions.resumeOutbox.match(action)) adopt();
      return undefined;
    },
  };
}

/** The request without `.optimistic()` (a write whose layer is gone is sent as a plain one). */
function withoutOptimistic(request: PostgrestRequest): PostgrestRequest {
  if (request.optimistic === undefined) return request;
  const { optimistic: _omitted, ...rest } = request;
  return rest;
}
