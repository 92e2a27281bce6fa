/**
 * Live entries against the real stack: while writers insert, update and delete, each live entry
 * ends deep-equal to a fresh PostgREST query of the same request; exact entries are patched without
 * refetching, windows and other entries the client can't patch exactly are refetched.
 */
import { findNonSerializableValue } from '@reduxjs/toolkit';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../../lib/api/index.js';
import { from } from '../../lib/postgrest/index.js';
import { postgrestBaseQuery } from '../../lib/postgrest/http/baseQuery.js';
import type { PostgrestRequest } from '../../lib/postgrest/request/types.js';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { closeSql, sql, testStack } from '../support/stack.js';
import { eventually as eventuallyWithin } from '../support/eventually.js';
import { syncStore } from '../support/store.js';

const cleanups: Array<() => void> = [];
afterAll(async () => {
  for (const cleanup of cleanups) cleanup();
  await closeSql();
});

function makeStore(WebSocketImpl: unknown = WebSocket) {
  const stack = testStack();
  const api = createPostgrestApi({
    url: stack.postgrestUrl,
    apiKey: stack.anonKey,
    endpoints: (build) => ({
      notesByRoom: build.query<unknown, string>({ query: (room) => from('sync_notes').select('id,rank').eq('room', room).order('rank').order('id') }),
      liveNotesByRoom: build.liveQuery<unknown, string>({ query: (room) => from('sync_notes').select('id,rank').eq('room', room).order('rank').order('id') }),
    }),
  });
  const sync = createSyncMiddleware({
    api,
    liveEndpoints: ['notesByRoom'],
    url: stack.realtimeUrl,
    apiKey: stack.anonKey,
    WebSocket: WebSocketImpl as never,
    heartbeatIntervalMs: 1000,
    onWarning: () => undefined,
  });
  const { store, actions: recorded } = syncStore(api, sync, cleanups);
  return { api, sync, store, recorded };
}

/** What a fresh read of `request` returns through the base query: rows, or `{ rows, count }` with a count. */
async function fresh(request: { toRequest(): PostgrestRequest }): Promise<unknown> {
  const stack = testStack();
  const result = await postgrestBaseQuery({ url: stack.postgrestUrl, apiKey: stack.anonKey })(request.toRequest(), { signal: new AbortController().signal } as never, {});
  return (result as { data?: unknown }).data;
}

/** The stack's realtime server under the whole suite's load: allow more than the default. */
const eventually = (check: () => Promise<boolean> | boolean, ms = 15_000) => eventuallyWithin(check, ms);

let roomCounter = 0;

describe('live entries', () => {
  it.each([1, 2, 3])('end equal to a fresh query after random inserts, updates and deletes (seed %i)', async (seed) => {
    const room = `live-${process.pid}-${++roomCounter}`;
    const base = process.pid * 10_000 + roomCounter * 1000;
    const { api, sync, store, recorded } = makeStore();
    const requests = {
      byRank: from('sync_notes').select('id,room,body,rank').eq('room', room).order('rank', { ascending: true }).order('id'),
      topDesc: from('sync_notes').select('id,rank,body').eq('room', room).gt('rank', 5).order('rank', { ascending: false, nullsFirst: false }).order('id'),
      window: from('sync_notes').select('id,rank').eq('room', room).order('rank').order('id').limit(3),
      orFilter: from('sync_notes').select('id,body').eq('room', room).or('rank.lt.3,body.is.null').order('id'),
      counted: from('sync_notes').select('id,rank', { count: 'exact' }).eq('room', room).gte('rank', 2).order('rank').order('id'),
      // Text order under the database's C.UTF-8 (the server describes the collation): patched, not refetched.
      byBody: from('sync_notes').select('id,body').eq('room', room).order('body', { nullsFirst: true }).order('id'),
      // ilike under C.UTF-8 folds non-ASCII letters too: not exact here, refetched.
      ilike: from('sync_notes').select('id,body').eq('room', room).ilike('body', 'é*').order('id'),
    };
    const subscriptions = Object.values(requests).map((request) => store.dispatch(api.endpoints.live.initiate(request as never)));
    cleanups.push(() => subscriptions.forEach((subscription) => (subscription as { unsubscribe(): void }).unsubscribe()));
    await eventually(() => sync.selectors.selectChannel(store.getState(), 'live:public.sync_notes')?.changesLive === true);

    // A random program of writes against 12 ids.
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), id: fc.integer({ min: 0, max: 11 }), rank: fc.option(fc.integer({ min: 0, max: 10 })), body: fc.option(fc.constantFrom('a', 'B', 'b ', 'é', 'É', 'Zz', '😀', '\uffff')) }),
      fc.record({ kind: fc.constant('update' as const), id: fc.integer({ min: 0, max: 11 }), rank: fc.option(fc.integer({ min: 0, max: 10 })), moveOut: fc.boolean() }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 11 }) }),
    );
    const program = fc.sample(fc.array(operation, { minLength: 30, maxLength: 60 }), { numRuns: 1, seed })[0]!;
    for (const step of program) {
      const id = base + step.id;
      if (step.kind === 'insert') {
        await sql('insert into sync_notes (id, room, rank, body) values ($1, $2, $3, $4) on conflict (id) do update set rank = excluded.rank, body = excluded.body, room = excluded.room', [id, room, step.rank, step.body]);
      } else if (step.kind === 'update') {
        await sql('update sync_notes set rank = $2, room = case when $3 then $4 else room end where id = $1', [id, step.rank, step.moveOut, `${room}-elsewhere`]);
      } else {
        await sql('delete from sync_notes where id = $1', [id]);
      }
    }

    for (const [name, request] of Object.entries(requests)) {
      const current = () => (api.endpoints.live.select(request.toRequest() as never)(store.getState() as never) as { data?: unknown }).data;
      let expected: unknown;
      const converged = await eventually(async () => {
        expected = await fresh(request);
        return JSON.stringify(current()) === JSON.stringify(expected);
      });
      expect({ name, converged, data: current() }).toEqual({ name, converged: true, data: expected });
    }
    // Exact, unwindowed entries were fetched once (after the subscription was live) and then only patched.
    const pendingFor = (request: { toRequest(): unknown }) => {
      const serialized = JSON.stringify(request.toRequest());
      return recorded.filter(
        (action) =>
          action.type === `${api.reducerPath}/executeQuery/pending` &&
          (action.meta as { arg: { endpointName: string; originalArgs: unknown } }).arg.endpointName === 'live' &&
          JSON.stringify((action.meta as { arg: { originalArgs: unknown } }).arg.originalArgs) === serialized,
      ).length;
    };
    expect(pendingFor(requests.byRank)).toBe(1);
    expect(pendingFor(requests.topDesc)).toBe(1);
    expect(pendingFor(requests.counted)).toBe(1);
    expect(pendingFor(requests.byBody)).toBe(1);
    expect(pendingFor(requests.window)).toBeGreaterThanOrEqual(1);
    for (const action of recorded) expect(findNonSerializableValue(action)).toBe(false);
    expect(findNonSerializableValue(store.getState())).toBe(false);
  });

  it.each(['notesByRoom', 'liveNotesByRoom'] as const)('keeps declared endpoint %s (marked live) equal to the database, fetched once after subscribing', async (endpoint) => {
    const room = `declared-${process.pid}-${++roomCounter}`;
    const base = process.pid * 10_000 + 9000 + roomCounter * 10;
    const { api, sync, store, recorded } = makeStore();
    const subscription = store.dispatch(api.endpoints[endpoint].initiate(room));
    cleanups.push(() => subscription.unsubscribe());
    await eventually(() => sync.selectors.selectChannel(store.getState(), 'live:public.sync_notes')?.changesLive === true);
    await sql('insert into sync_notes (id, room, rank) values ($1, $2, 5), ($3, $2, 1)', [base, room, base + 1]);
    await sql('update sync_notes set rank = 9 where id = $1', [base + 1]);
    await sql('insert into sync_notes (id, room, rank) values ($1, $2, 7)', [base + 2, room]);
    await sql('delete from sync_notes where id = $1', [base]);
    const current = () => JSON.stringify(api.endpoints[endpoint].select(room)(store.getState() as never).data);
    const expected = JSON.stringify([{ id: base + 2, rank: 7 }, { id: base + 1, rank: 9 }]);
    expect(await eventually(() => current() === expected)).toBe(true);
    // Subscribe first, then fetch: the one fetch waited for the subscription, so nothing was refetched.
    const pending = recorded.filter((action) => action.type === `${api.reducerPath}/executeQuery/pending` && (action.meta as { arg: { endpointName: string } }).arg.endpointName === endpoint);
    expect(pending).toHaveLength(1);
    const liveAt = recorded.findIndex((action) => action.type === `${sync.reducerPath}/changesLive`);
    const startedAt = recorded.findIndex((action) => action.type === 'rtkPostgrest/liveFetchStarting');
    const fulfilledAt = recorded.findIndex((action) => action.type === `${api.reducerPath}/executeQuery/fulfilled`);
    expect(startedAt).toBeGreaterThanOrEqual(0);
    expect(liveAt).toBeGreaterThan(startedAt);
    expect(fulfilledAt).toBeGreaterThan(liveAt);
  });

  it('a live top-3 window is fetched with spare rows: rows leaving it are replaced from them without a refetch, until they run out', async () => {
    const room = `spares-${process.pid}-${++roomCounter}`;
    const base = process.pid * 10_000 + 9500 + roomCounter * 20;
    const ids = Array.from({ length: 12 }, (_, index) => base + index);
    for (const [index, id] of ids.entries()) await sql('insert into sync_notes (id, room, rank) values ($1, $2, $3)', [id, room, index]);
    const { api, sync, store, recorded } = makeStore();
    const request = from('sync_notes').select('id,rank').eq('room', room).order('rank').order('id').limit(3);
    const subscription = store.dispatch(api.endpoints.live.initiate(request as never));
    cleanups.push(() => (subscription as { unsubscribe(): void }).unsubscribe());
    const current = () => api.endpoints.live.select(request.toRequest() as never)(store.getState() as never).data;
    await eventually(() => sync.selectors.selectChannel(store.getState(), 'live:public.sync_notes')?.changesLive === true && Array.isArray(current()));
    const fetches = () => recorded.filter((action) => action.type === `${api.reducerPath}/executeQuery/pending` && (action.meta as { arg: { endpointName: string } }).arg.endpointName === 'live').length;
    const converges = () =>
      eventually(async () => {
        const expected = await fresh(request);
        return JSON.stringify(current()) === JSON.stringify(expected);
      });
    // The cache holds the 3 rows asked for; the 5 spares (max(5, ceil(3 / 10))) are in the fetch's meta only.
    expect(current()).toEqual(ids.slice(0, 3).map((id, rank) => ({ id, rank })));
    const fulfilled = recorded.filter((action) => action.type === `${api.reducerPath}/executeQuery/fulfilled`);
    expect(fulfilled).toHaveLength(1);
    const meta = (fulfilled[0]!.meta as { baseQueryMeta: { spares: unknown; complete: boolean; request: unknown; live: boolean } }).baseQueryMeta;
    expect(meta).toMatchObject({ spares: ids.slice(3, 8).map((id, rank) => ({ id, rank: rank + 3 })), complete: false, live: true, request: request.toRequest() });
    expect(fetches()).toBe(1);

    // Rows leave the window two at a time (and one moves past it): the spares fill in, nothing is refetched.
    await sql('delete from sync_notes where id = any($1)', [[ids[0], ids[1]]]);
    expect(await converges()).toBe(true);
    await sql('update sync_notes set rank = 100 where id = $1', [ids[2]]);
    expect(await converges()).toBe(true);
    await sql('delete from sync_notes where id = $1', [ids[3]]);
    expect(await converges()).toBe(true);
    expect(current()).toEqual([4, 5, 6].map((index) => ({ id: ids[index], rank: index })));
    expect(fetches()).toBe(1);

    // More rows leave than the spares cover (rows 4-7 held, 3 of them leave, and row 8 is beyond what is known): refetched.
    await sql('delete from sync_notes where id = any($1)', [[ids[4], ids[5], ids[6]]]);
    expect(await converges()).toBe(true);
    expect(await eventually(() => fetches() === 2)).toBe(true);
    expect(current()).toEqual([7, 8, 9].map((index) => ({ id: ids[index], rank: index })));
    // The refetch brought spares again: the next row leaving is replaced from them.
    await sql('delete from sync_notes where id = $1', [ids[7]]);
    expect(await converges()).toBe(true);
    expect(current()).toEqual([8, 9, 10].map((index) => ({ id: ids[index], rank: index })));
    expect(fetches()).toBe(2);
    for (const action of recorded) expect(findNonSerializableValue(action)).toBe(false);
  });

  it('applies a change that touches several entries in one dispatch, with no per-entry patch actions', async () => {
    const room = `batched-${process.pid}-${++roomCounter}`;
    const id = process.pid * 10_000 + 9800 + roomCounter;
    const { api, sync, store, recorded } = makeStore();
    const requests = [
      from('sync_notes').select('id,rank').eq('room', room).order('id'),
      from('sync_notes').select('id,rank,body').eq('room', room).order('rank', { ascending: false }).order('id'),
      from('sync_notes').select('id').eq('room', room).gte('rank', 0).order('id').limit(5),
    ];
    const subscriptions = requests.map((request) => store.dispatch(api.endpoints.live.initiate(request as never)));
    cleanups.push(() => subscriptions.forEach((subscription) => (subscription as { unsubscribe(): void }).unsubscribe()));
    await eventually(() => sync.selectors.selectChannel(store.getState(), 'live:public.sync_notes')?.changesLive === true);
    await eventually(() => requests.every((request) => api.endpoints.live.select(request.toRequest() as never)(store.getState() as never).status === 'fulfilled'));
    const before = recorded.length;
    await sql('insert into sync_notes (id, room, rank, body) values ($1, $2, 3, $3)', [id, room, 'x']);
    const rows = (index: number) => api.endpoints.live.select(requests[index]!.toRequest() as never)(store.getState() as never).data as unknown[] | undefined;
    expect(await eventually(() => [0, 1, 2].every((index) => rows(index)?.length === 1))).toBe(true);
    const after = recorded.slice(before);
    const applied = after.filter((action) => action.type === `${sync.reducerPath}/changesApplied`);
    expect(applied).toHaveLength(1);
    const payload = applied[0]!.payload as { entries: Array<{ queryCacheKey: string; data: unknown }>; positions: Array<{ channel: string }> };
    expect(payload.entries).toHaveLength(3);
    expect(payload.positions.map((position) => position.channel)).toEqual(['live:public.sync_notes']);
    expect(after.filter((action) => action.type.startsWith(`${api.reducerPath}/`))).toEqual([]);
    expect(rows(1)).toEqual([{ id, rank: 3, body: 'x' }]);
  });

  it('a write through the api does not refetch a live entry (its changes arrive anyway), while the same read is refetched', async () => {
    const room = `tags-${process.pid}-${++roomCounter}`;
    const id = process.pid * 10_000 + 9700 + roomCounter;
    const { api, sync, store, recorded } = makeStore();
    const request = from('sync_notes').select('id,room').eq('room', room).order('id');
    const live = store.dispatch(api.endpoints.live.initiate(request as never));
    const read = store.dispatch(api.endpoints.read.initiate(request as never));
    cleanups.push(() => [live, read].forEach((subscription) => (subscription as { unsubscribe(): void }).unsubscribe()));
    await eventually(() => sync.selectors.selectChannel(store.getState(), 'live:public.sync_notes')?.changesLive === true);
    const state = (endpoint: 'live' | 'read') => api.endpoints[endpoint].select(request.toRequest() as never)(store.getState() as never);
    await eventually(() => state('live').status === 'fulfilled' && state('read').status === 'fulfilled');
    const fetches = (endpoint: string) => recorded.filter((action) => action.type === `${api.reducerPath}/executeQuery/pending` && (action.meta as { arg: { endpointName: string } }).arg.endpointName === endpoint).length;
    expect([fetches('live'), fetches('read')]).toEqual([1, 1]);
    await store.dispatch(api.endpoints.write.initiate(from('sync_notes').insert({ id, room }) as never));
    const expected = [{ id, room }];
    expect(await eventually(() => JSON.stringify(state('live').data) === JSON.stringify(expected) && JSON.stringify(state('read').data) === JSON.stringify(expected))).toBe(true);
    expect([fetches('live'), fetches('read')]).toEqual([1, 2]);
    // Invalidating the table itself still refetches it.
    store.dispatch(api.util.invalidateTags(['sync_notes']));
    expect(await eventually(() => fetches('live') === 2)).toBe(true);
  });

  it('replaying the recorded actions of live entries into a fresh store opens no socket and fetches nothing', async () => {
    const room = `replay-${process.pid}-${++roomCounter}`;
    const { api, store, sync, recorded } = makeStore();
    const subscription = store.dispatch(api.endpoints.live.initiate(from('sync_notes').select('id').eq('room', room).order('id') as never));
    cleanups.push(() => (subscription as { unsubscribe(): void }).unsubscribe());
    await eventually(() => sync.selectors.selectChannel(store.getState(), 'live:public.sync_notes')?.changesLive === true);
    await sql('insert into sync_notes (id, room) values ($1, $2)', [process.pid * 10_000 + 9900 + roomCounter, room]);
    const rowsNow = () => api.endpoints.live.select(from('sync_notes').select('id').eq('room', room).order('id').toRequest() as never)(store.getState() as never).data as unknown[] | undefined;
    await eventually(() => rowsNow()?.length === 1);
    let sockets = 0;
    class CountingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets++;
      }
    }
    const replay = makeStore(CountingWebSocket);
    const fetches: string[] = [];
    for (const action of recorded) {
      if (action.type.endsWith('/executeQuery/pending')) fetches.push(action.type);
      replay.store.dispatch(action);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sockets).toBe(0);
    expect(fetches.length).toBeGreaterThan(0); // the recording did hold fetches and live-entry actions
    expect(replay.recorded.filter((action) => action.type.endsWith('/executeQuery/pending'))).toHaveLength(fetches.length); // none added by the replay
    // Time travel shows the same cache: the replayed patches rebuilt the live entry.
    const replayed = api.endpoints.live.select(from('sync_notes').select('id').eq('room', room).order('id').toRequest() as never)(replay.store.getState() as never).data;
    expect(replayed).toEqual(rowsNow());
  });
});
