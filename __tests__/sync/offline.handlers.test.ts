/**
 * The outbox and degraded-mode handlers alone, against a fake context and fake timers. The outbox,
 * with a fake api: the turn each
 * write gets, the order of the line, the backoff drawn from the policy, what a restored outbox
 * becomes (replayed through the api's `write` endpoint, inserts in the form that can't apply twice,
 * optimistic writes keeping their layer), and retry / discard / a replay that never ran. Degraded
 * mode: when the countdown starts and ends (a flapping socket counts as down), and the polling.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { OPTIMISTIC_WRITE_SETTLING, optimisticStarting, type WriteResult } from '../../lib/api/liveContract.js';
import { WRITE_WAITING, writeDone, writeWaiting, type WriteGo, type WriteTurn } from '../../lib/api/writeContract.js';
import { from } from '../../lib/postgrest/index.js';
import type { PostgrestRequest } from '../../lib/postgrest/request/types.js';
import { outboxHandler } from '../../lib/sync/handlers/outbox.js';
import { degradedHandler } from '../../lib/sync/handlers/degraded.js';
import type { HandlerContext } from '../../lib/sync/handlers/types.js';
import { createSyncActions, createSyncSlice, initialSyncState, type OutboxItem, type SyncState } from '../../lib/sync/slice.js';

const actions = createSyncActions('sync', 'test');
const { reducer } = createSyncSlice('sync', actions);
const fetchError = { error: { status: 'FETCH_ERROR' as const, code: null, message: 'Request to PostgREST failed: socket hang up', details: null, hint: null } };

function harness(state: SyncState = initialSyncState) {
  const dispatched: UnknownAction[] = [];
  const warnings: string[] = [];
  const timers = new Map<number, { callback: () => void; ms: number }>();
  let nextTimer = 0;
  let clock = 1_000;
  const initiated: Array<{ request: PostgrestRequest; options: unknown; settle: () => void }> = [];
  const api = {
    reducerPath: 'api',
    endpoints: {
      write: {
        initiate: (request: PostgrestRequest, options: unknown) => {
          let settle!: () => void;
          const running = new Promise<void>((resolve) => (settle = resolve));
          initiated.push({ request, options, settle });
          return { type: 'fake/initiate', running };
        },
      },
    },
  };
  let handler: ReturnType<typeof outboxHandler>;
  const context: HandlerContext = {
    actions,
    dispatch: (action) => {
      if ((action as { type?: string }).type === 'fake/read') return action;
      if ((action as { type?: string }).type === 'fake/initiate') return (action as unknown as { running: Promise<void> }).running;
      dispatched.push(action);
      state = reducer(state, action);
      return handler!.onAnyAction?.(action, action) ?? (actions.retryWrite.match(action) || actions.discardWrite.match(action) || actions.resumeOutbox.match(action) ? handler!.onAction?.(action, state) : action);
    },
    getState: () => ({ sync: state }),
    mirror: () => state,
    ensureSocket: () => undefined as never,
    flushChanges: () => undefined,
    changesReceived: () => undefined,
    socket: () => undefined,
    listeners: () => new Set(),
    safely: (run) => run(),
    notConnected: () => Promise.resolve({ status: 'error', response: null }),
    warn: (message) => warnings.push(message),
    now: () => clock,
    timers: { setTimeout: (callback, ms) => (timers.set(++nextTimer, { callback, ms }), nextTimer), clearTimeout: (handle) => void timers.delete(handle as number) },
  };
  handler = outboxHandler(context, { api, outbox: { retry: { minDelayMs: 100, maxDelayMs: 1000, factor: 2 } }, random: () => 0.5 });
  return {
    api,
    handler: handler!,
    dispatch: context.dispatch,
    state: () => state,
    dispatched,
    warnings,
    initiated,
    timers,
    advance(ms: number) {
      clock += ms;
      for (const [handle, timer] of [...timers]) {
        timers.delete(handle);
        timer.callback();
      }
    },
    /** A base query asking for its write's turn. */
    waiting(request: PostgrestRequest, extra: Record<string, unknown> = {}) {
      return context.dispatch(writeWaiting({ api: 'api', endpoint: 'write', request, ...extra }) as UnknownAction) as WriteTurn;
    },
    done(outboxId: string, result: WriteResult) {
      context.dispatch(writeDone({ api: 'api', outboxId, result }) as UnknownAction);
    },
  };
}

const insert = (title: string) => from('notes').insert({ id: `id-${title}`, title }).toRequest();
const statuses = (h: ReturnType<typeof harness>) => h.state().outbox.map((item) => [item.status, item.attempts]);

it('a write with nothing ahead of it is sent at once and leaves the outbox when answered', () => {
  const h = harness();
  const turn = h.waiting(insert('a'));
  expect(turn.next).toEqual({ send: insert('a') });
  expect(statuses(h)).toEqual([['sending', 1]]);
  h.done(turn.outboxId, { data: [] });
  expect(h.state().outbox).toEqual([]);
});

it('a passing failure queues the write with backoff; writes made meanwhile wait behind it, in order', async () => {
  const h = harness();
  const first = h.waiting(insert('a'));
  const again = h.waiting(insert('a'), { outboxId: first.outboxId, failure: fetchError });
  // Sent again in the form that can't apply twice (its rows carry their key), after full jitter up to 100 ms.
  expect(h.state().outbox[0]).toEqual(expect.objectContaining({ status: 'queued', attempts: 1, error: fetchError.error, nextAttemptAt: 1_050 }));
  expect(h.state().outbox[0]!.request.headers.Prefer).toBe('return=minimal,resolution=ignore-duplicates');
  expect(h.state().outbox[0]!.request.query).toContainEqual(['on_conflict', 'id']);
  expect(h.state().connection.restReachable).toBe(false);
  expect([...h.timers.values()].map((timer) => timer.ms)).toEqual([50]);
  const second = h.waiting(insert('b'));
  expect(statuses(h)).toEqual([['queued', 1], ['queued', 0]]);
  let secondGo: WriteGo | undefined;
  void Promise.resolve(second.next).then((go) => (secondGo = go));

  h.advance(50);
  const go = await again.next;
  expect(go).toEqual({ send: h.state().outbox[0]!.request, complete: ['id'], attempt: 2 });
  expect(statuses(h)).toEqual([['sending', 2], ['queued', 0]]);
  await Promise.resolve();
  expect(secondGo).toBeUndefined(); // one at a time
  h.done(first.outboxId, { data: [] });
  expect(h.state().connection.restReachable).toBe(true);
  await Promise.resolve();
  expect(secondGo).toEqual({ send: insert('b') });
  expect(statuses(h)).toEqual([['sending', 1]]);
});

it('the next delay grows with the attempts, capped', () => {
  const h = harness();
  const turn = h.waiting(insert('a'));
  const delays: number[] = [];
  for (let attempt = 0; attempt < 6; attempt++) {
    h.waiting(insert('a'), { outboxId: turn.outboxId, failure: fetchError });
    delays.push(h.state().outbox[0]!.nextAttemptAt! - 1_000);
    h.dispatch(actions.outboxSending({ id: turn.outboxId })); // as if its turn came
  }
  expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
});

it('offline, a write is queued without being sent; online, it goes', async () => {
  const h = harness();
  h.dispatch(actions.environmentChanged({ online: false }));
  const turn = h.waiting(insert('a'));
  expect(statuses(h)).toEqual([['queued', 0]]);
  h.advance(10_000);
  expect(statuses(h)).toEqual([['queued', 0]]);
  h.dispatch(actions.environmentChanged({ online: true }));
  expect(await turn.next).toEqual({ send: insert('a') });
});

it('a restored outbox is replayed through the write endpoint: a write in flight when the page went is sent in the form that cannot apply twice', async () => {
  const restored: OutboxItem[] = [
    { id: 'o1', request: insert('a'), endpoint: 'write', status: 'sending', attempts: 1, at: 0 },
    { id: 'o2', request: insert('b'), endpoint: 'write', status: 'queued', attempts: 0, at: 0 },
  ];
  const h = harness({ ...initialSyncState, outbox: restored });
  h.dispatch({ type: 'persist/REHYDRATE', key: 'sync', payload: { outbox: restored } });
  expect(h.initiated).toHaveLength(1);
  const replay = h.initiated[0]!;
  expect(replay.options).toEqual({ track: false });
  expect(replay.request.headers.Prefer).toContain('resolution=ignore-duplicates');
  // Its base query asks for the turn: the item it replays, sent now.
  const turn = h.waiting(replay.request);
  expect(turn.outboxId).toBe('o1');
  // Its second send (the first was in flight when the page went): the base query says so in meta.attempts.
  expect(turn.next).toEqual({ send: replay.request, complete: ['id'], attempt: 2 });
  h.done('o1', { data: [] });
  expect(h.initiated.map((call) => call.request)).toEqual([replay.request, insert('b')]);
  expect(h.state().outbox.map((item) => item.id)).toEqual(['o2']);
});

it('a restored optimistic write keeps its layer: its announcement is answered with its own plan', () => {
  const request = from('notes').insert({ id: 'x', title: 'mine' }).optimistic().toRequest();
  const h = harness({
    ...initialSyncState,
    outbox: [{ id: 'o1', request, endpoint: 'write', writeId: 'w1', status: 'queued', attempts: 1, at: 0 }],
    writes: [{ id: 'w1', table: 'public.notes', request, entries: [], primaryKey: ['id'], keys: [], status: 'pending', error: null, at: 0 }],
  });
  h.dispatch(actions.resumeOutbox());
  expect(h.initiated.map((call) => call.request)).toEqual([request]);
  expect(h.dispatch(optimisticStarting({ api: 'api', endpoint: 'write', request }) as UnknownAction)).toEqual({ id: 'w1', send: request });
});

it('discarding a restored optimistic write rolls its layer back; a queued one in this session answers its caller', async () => {
  const request = from('notes').insert({ id: 'x', title: 'mine' }).optimistic().toRequest();
  const h = harness({
    ...initialSyncState,
    connection: { ...initialSyncState.connection, online: false },
    outbox: [{ id: 'o1', request, endpoint: 'write', writeId: 'w1', status: 'queued', attempts: 1, at: 0 }],
    writes: [{ id: 'w1', table: 'public.notes', request, entries: [], primaryKey: ['id'], keys: [], status: 'pending', error: null, at: 0 }],
  });
  h.dispatch(actions.discardWrite({ id: 'o1' }));
  const settling = h.dispatched.find((action) => action.type === OPTIMISTIC_WRITE_SETTLING);
  expect(settling?.payload).toEqual({ api: 'api', id: 'w1', result: { error: expect.objectContaining({ code: 'DISCARDED' }) } });
  const turn = h.waiting(insert('b'));
  h.dispatch(actions.discardWrite({ id: turn.outboxId }));
  expect(await turn.next).toEqual({ result: { error: expect.objectContaining({ code: 'DISCARDED' }) } });
  expect(h.state().outbox).toEqual([]);
});

it('a queued write that fails for good stays failed; retried, it goes again as a plain write', async () => {
  const request = from('notes').insert({ id: 'x', title: 'bad' }).optimistic().toRequest();
  const h = harness();
  const turn = h.waiting(request, { writeId: 'w1' });
  h.waiting(request, { outboxId: turn.outboxId, failure: fetchError });
  h.advance(100);
  h.done(turn.outboxId, { error: { status: 400, code: '22P02', message: 'invalid input syntax', details: null, hint: null } });
  expect(h.state().outbox[0]).toEqual(expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: '22P02' }) }));
  h.dispatch(actions.retryWrite({ id: turn.outboxId }));
  expect(h.initiated).toHaveLength(1);
  expect(h.initiated[0]!.request.optimistic).toBeUndefined();
  expect(h.state().outbox[0]).toEqual(expect.objectContaining({ status: 'sending', attempts: 3 }));
});

it('a replay whose base query never asks for its turn is marked failed and the line goes on', async () => {
  const h = harness({
    ...initialSyncState,
    outbox: [
      { id: 'o1', request: insert('a'), endpoint: 'write', status: 'queued', attempts: 1, at: 0 },
      { id: 'o2', request: insert('b'), endpoint: 'write', status: 'queued', attempts: 0, at: 0 },
    ],
  });
  h.dispatch(actions.resumeOutbox());
  h.initiated[0]!.settle();
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(h.state().outbox[0]).toEqual(expect.objectContaining({ id: 'o1', status: 'failed', error: expect.objectContaining({ code: 'REPLAY_FAILED' }) }));
  expect(h.initiated.map((call) => call.request)).toEqual([insert('a'), insert('b')]);
  expect(h.warnings).toEqual([expect.stringContaining('replaying the queued write o1 failed')]);
});

it('an insert without its key is sent again as it is, with a warning (once per table)', () => {
  const h = harness();
  const request = from('logs').insert({ title: 'keyless' }).toRequest();
  const turn = h.waiting(request);
  h.waiting(request, { outboxId: turn.outboxId, failure: fetchError });
  h.waiting(request, { outboxId: turn.outboxId, failure: fetchError });
  expect(h.state().outbox[0]!.request).toEqual(request);
  expect(h.warnings).toEqual([expect.stringContaining('an insert into logs is sent again without its key (id)')]);
});

describe('degraded mode', () => {
  function degraded() {
    let state = initialSyncState;
    const dispatched: UnknownAction[] = [];
    const timers = new Map<number, { callback: () => void; ms: number }>();
    let next = 0;
    let polls = 0;
    const context = {
      actions,
      dispatch: (action: UnknownAction) => {
        dispatched.push(action);
        state = reducer(state, action);
        return action;
      },
      mirror: () => state,
      safely: (run: () => void) => run(),
      now: () => 5_000,
      timers: { setTimeout: (callback: () => void, ms: number) => (timers.set(++next, { callback, ms }), next), clearTimeout: (handle: unknown) => void timers.delete(handle as number) },
    } as unknown as HandlerContext;
    const handler = degradedHandler(context, { degradedAfterMs: 1000, pollIntervalMs: 300, poll: () => void (polls += 1), apiPath: 'api' });
    const status = (value: 'connecting' | 'open' | 'reconnecting' | 'closed') => {
      context.dispatch(actions.connectionChanged({ status: value, at: 5_000 }));
      handler.onSocketEvent!({ type: 'status', status: value });
    };
    const fire = (ms: number) => {
      for (const [handle, timer] of [...timers]) if (timer.ms === ms) (timers.delete(handle), timer.callback());
    };
    const setOnline = (online: boolean) => context.dispatch(actions.environmentChanged({ online }));
    return { status, fire, setOnline, state: () => state, polls: () => polls, pending: () => [...timers.values()].map((timer) => timer.ms).sort((a, b) => a - b), handler, dispatched };
  }

  it('a socket down for degradedAfterMs is degraded and polls at once and then every interval; stable again, it stops', () => {
    const d = degraded();
    d.status('connecting');
    d.status('open');
    d.fire(500);
    expect(d.pending()).toEqual([]); // open and stable: nothing counts down
    d.status('reconnecting');
    expect(d.pending()).toEqual([1000]);
    d.fire(1000);
    expect(d.state().connection.degradedSince).toBe(5_000);
    expect(d.polls()).toBe(1);
    d.fire(300);
    d.fire(300);
    expect(d.polls()).toBe(3);
    // A poll's result advances lastSyncTime (once per round, not per entry).
    d.handler.onAnyAction!({ type: 'api/executeQuery/fulfilled' }, undefined);
    d.handler.onAnyAction!({ type: 'api/executeQuery/fulfilled' }, undefined);
    expect(d.state().connection.lastSyncTime).toBe(5_000);
    expect(d.dispatched.filter((action) => action.type === 'sync/polled')).toHaveLength(1);
    d.status('open');
    expect(d.state().connection.degradedSince).toBe(5_000); // not before it stayed open
    d.fire(500);
    expect(d.state().connection.degradedSince).toBeNull();
    expect(d.pending()).toEqual([]);
  });

  it('a flapping socket (open, then dropped before it stayed open) becomes degraded all the same', () => {
    const d = degraded();
    d.status('reconnecting');
    for (let i = 0; i < 3; i++) {
      d.status('open');
      d.status('reconnecting');
    }
    expect(d.pending()).toEqual([1000]);
    d.fire(1000);
    expect(d.state().connection.degradedSince).not.toBeNull();
  });

  it('the countdown running out while the socket is open but not yet stable still degrades', () => {
    const d = degraded();
    d.status('reconnecting');
    d.status('open');
    expect(d.pending()).toEqual([500, 1000]);
    d.fire(1000);
    expect(d.state().connection.degradedSince).not.toBeNull();
    d.fire(500); // then it stayed open
    expect(d.state().connection.degradedSince).toBeNull();
  });

  it('while offline the poll rounds are skipped (they could only fail) and the beat goes on; online, they poll again', () => {
    const d = degraded();
    d.status('reconnecting');
    d.fire(1000);
    expect(d.polls()).toBe(1);
    d.setOnline(false);
    d.fire(300);
    d.fire(300);
    expect(d.polls()).toBe(1);
    expect(d.pending()).toEqual([300]);
    d.setOnline(true);
    d.fire(300);
    expect(d.polls()).toBe(2);
  });

  it('disconnect (the app no longer wants the socket) is never degraded', () => {
    const d = degraded();
    d.status('reconnecting');
    d.status('closed');
    expect(d.pending()).toEqual([]);
    expect(d.state().connection.degradedSince).toBeNull();
  });
});

it('a read that finds PostgREST unreachable is fetched again with backoff until one answers (else the status would stay offline)', () => {
  const h = harness();
  const initiated: unknown[][] = [];
  const read = { status: 'FETCH_ERROR', code: null, message: 'Request to PostgREST failed: connect ECONNREFUSED', details: null, hint: null };
  // The fake api has only `write`: give it a `read` that records its calls.
  (h.api.endpoints as Record<string, unknown>).read = { initiate: (arg: unknown, options: unknown) => (initiated.push([arg, options]), { type: 'fake/read' }) };
  h.dispatch({ type: 'api/executeQuery/rejected', payload: read, meta: { arg: { endpointName: 'read', originalArgs: { relation: 'notes' } } } } as UnknownAction);
  expect(h.state().connection.restReachable).toBe(false);
  expect([...h.timers.values()].map((timer) => timer.ms)).toEqual([50]);
  h.advance(50);
  expect(initiated).toEqual([[{ relation: 'notes' }, { subscribe: false, forceRefetch: true }]]);
  expect([...h.timers.values()].map((timer) => timer.ms)).toEqual([100]); // backing off
  h.dispatch({ type: 'api/executeQuery/fulfilled', payload: [], meta: { arg: { endpointName: 'read' } } } as UnknownAction);
  expect(h.state().connection.restReachable).toBe(true);
  expect(h.timers.size).toBe(0);
});

it('replayed actions send nothing: a WRITE_WAITING without its running-write function is ignored, and writes that only came with replayed actions are never sent', () => {
  const h = harness();
  const request = insert('a');
  expect(h.dispatch({ type: WRITE_WAITING, payload: { api: 'api', endpoint: 'write', request } })).toEqual({ type: WRITE_WAITING, payload: { api: 'api', endpoint: 'write', request } });
  expect(h.state().outbox).toEqual([]);
  // A recorded session: a write queued, then the network back.
  h.dispatch(actions.outboxAdded({ item: { id: 'recorded', request, endpoint: 'write', status: 'queued', attempts: 0, at: 0 } }));
  h.dispatch(actions.environmentChanged({ online: false }));
  h.dispatch(actions.environmentChanged({ online: true }));
  h.advance(60_000);
  expect(h.initiated).toEqual([]);
  expect(h.state().outbox.map((item) => item.status)).toEqual(['queued']);
});

it('a pending optimistic write restored without its outbox entry is rolled back with a clear error (it cannot be sent)', () => {
  const request = from('notes').insert({ id: 'x', title: 'orphan' }).optimistic().toRequest();
  const writes = [{ id: 'w1', table: 'public.notes', request, entries: [], primaryKey: ['id'], keys: [], status: 'pending' as const, error: null, at: 0 }];
  const h = harness();
  h.dispatch({ type: 'persist/REHYDRATE', key: 'sync', payload: { outbox: [], writes } });
  expect(h.dispatched.find((action) => action.type === OPTIMISTIC_WRITE_SETTLING)?.payload).toEqual({ api: 'api', id: 'w1', result: { error: expect.objectContaining({ code: 'NOT_IN_OUTBOX' }) } });
  expect(h.warnings).toEqual([expect.stringContaining('persist the sync slice\'s "outbox" with its "writes"')]);
  expect(h.initiated).toEqual([]);
});
