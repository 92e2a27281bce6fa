/**
 * Live entries at their edges, found in review: failed fetches, superseded fetches, two apis with a
 * sync middleware each, an api without one, writes while the changes are not live, function calls
 * and embedded tables. A unit test of the sync middleware: fake realtime socket, in-memory PostgREST.
 */
import { configureStore } from '@reduxjs/toolkit';
import { from, rpc } from '../../lib/postgrest';
import { FakeSocket, fakeApiAndSync, fakeStore, memoryPostgrest, startLive, tick, until } from './support/fakeRealtime';

const TOPIC = 'realtime:live:public.notes';
const request = from('notes').select('id,title').order('id').toRequest();

afterEach(() => {
  FakeSocket.autoSubscribe = true;
});

/** A GET answer the test releases: with the rows as they were when the request arrived, or a failure. */
function heldGet(postgrest: ReturnType<typeof memoryPostgrest>) {
  const held: { release?: (status?: number) => void } = {};
  postgrest.respondWith((_url, method) => {
    if (method !== 'GET') return undefined;
    const snapshot = JSON.stringify(postgrest.tables.notes ?? []);
    return new Promise<Response>((resolve) => {
      held.release = (status = 200) =>
        resolve(new Response(status === 200 ? snapshot : '{"message":"unavailable"}', { status, headers: { 'content-type': 'application/json' } }));
    });
  });
  return held;
}

async function liveEntry(postgrest: ReturnType<typeof memoryPostgrest>) {
  const made = fakeStore(postgrest.fetchFn);
  return { ...made, ...(await startLive(made, request)) };
}

test('a refetch that fails keeps the changes that arrived during it', async () => {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = [{ id: 1, title: 'a' }];
  const { api, store, select, socket, done } = await liveEntry(postgrest);
  const held = heldGet(postgrest);
  const refetch = store.dispatch(api.endpoints.live.initiate(request as never, { forceRefetch: true, subscribe: false } as never));
  expect(await until(() => held.release !== undefined)).toBe(true);
  postgrest.tables.notes!.push({ id: 2, title: 'b' });
  socket.change(TOPIC, 'notes', 'INSERT', { id: 2, title: 'b' }, 1);
  await tick();
  held.release!(503);
  await (refetch as unknown as Promise<unknown>);
  postgrest.respondWith(undefined);
  postgrest.tables.notes!.push({ id: 3, title: 'c' });
  socket.change(TOPIC, 'notes', 'INSERT', { id: 3, title: 'c' }, 2);
  expect(await until(() => JSON.stringify(select().data) === JSON.stringify(postgrest.tables.notes))).toBe(true);
  done();
});

test('an entry whose fetch failed for a passing reason is fetched again on its table\'s next change; a refused request is not', async () => {
  for (const [status, retried] of [[503, true], [400, false]] as const) {
    const postgrest = memoryPostgrest();
    postgrest.tables.notes = [];
    postgrest.respondWith((_url, method) => (method === 'GET' ? Promise.resolve(new Response('{"message":"no"}', { status, headers: { 'content-type': 'application/json' } })) : undefined));
    const { api, sync, store } = fakeStore(postgrest.fetchFn);
    const subscription = store.dispatch(api.endpoints.live.initiate(request as never));
    const select = () => api.endpoints.live.select(request as never)(store.getState() as never);
    expect(await until(() => select().status === 'rejected')).toBe(true);
    postgrest.respondWith(undefined);
    const before = postgrest.gets();
    postgrest.tables.notes.push({ id: 1, title: 'a' });
    FakeSocket.last.change(TOPIC, 'notes', 'INSERT', { id: 1, title: 'a' }, 1);
    FakeSocket.last.change(TOPIC, 'notes', 'UPDATE', { id: 1, title: 'b' }, 2);
    await tick();
    await tick();
    expect({ status, refetches: postgrest.gets() - before }).toEqual({ status, refetches: retried ? 1 : 0 });
    subscription.unsubscribe();
    store.dispatch(sync.actions.disconnect());
  }
});

test('a refetch asked while a fetch is running (RTK skips it) does not end that fetch: changes during it are kept', async () => {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = [{ id: 1, title: 'a' }];
  const { api, store, select, socket, actions, done } = await liveEntry(postgrest);
  const held = heldGet(postgrest);
  const running = store.dispatch(api.endpoints.live.initiate(request as never, { forceRefetch: true, subscribe: false } as never));
  expect(await until(() => held.release !== undefined)).toBe(true);
  // Rejected by RTK's condition (one is pending): no request, but a rejected action for the entry.
  store.dispatch(api.endpoints.live.initiate(request as never, { forceRefetch: true, subscribe: false } as never)); // settles with the running one
  await tick();
  expect(actions.filter((action) => action.type === `${api.reducerPath}/executeQuery/rejected` && (action.meta as { condition?: boolean }).condition === true)).toHaveLength(1);
  expect(postgrest.gets()).toBe(2);
  postgrest.tables.notes!.push({ id: 2, title: 'b' });
  socket.change(TOPIC, 'notes', 'INSERT', { id: 2, title: 'b' }, 1); // after the running fetch's snapshot
  await tick();
  held.release!();
  await (running as unknown as Promise<unknown>);
  postgrest.respondWith(undefined);
  expect(await until(() => JSON.stringify(select().data) === JSON.stringify(postgrest.tables.notes))).toBe(true);
  expect(postgrest.gets()).toBe(2);
  done();
});

test('two apis with a sync middleware each: both wait for their own subscription before fetching', async () => {
  FakeSocket.autoSubscribe = false;
  const [postgrestA, postgrestB] = [memoryPostgrest(), memoryPostgrest()];
  postgrestB.tables.notes = [];
  const a = fakeApiAndSync(postgrestA.fetchFn, { api: 'a', sync: 'syncA' });
  const b = fakeApiAndSync(postgrestB.fetchFn, { api: 'b', sync: 'syncB' });
  const store = configureStore({
    reducer: { a: a.api.reducer, b: b.api.reducer, syncA: a.sync.reducer, syncB: b.sync.reducer },
    middleware: ((getDefault: () => { concat: (...middleware: unknown[]) => unknown }) => getDefault().concat(a.api.middleware, b.api.middleware, a.sync.middleware, b.sync.middleware)) as never,
  });
  const subscription = store.dispatch(b.api.endpoints.live.initiate(request as never));
  const select = () => b.api.endpoints.live.select(request as never)(store.getState() as never);
  const socket = await (async () => {
    await until(() => FakeSocket.last?.joins.has(TOPIC) === true);
    return FakeSocket.last;
  })();
  await tick();
  expect(postgrestB.gets()).toBe(0); // gated
  postgrestB.tables.notes.push({ id: 1, title: 'before live' }); // no change will be sent for it
  socket.subscribed(TOPIC);
  expect(await until(() => select().status === 'fulfilled')).toBe(true);
  expect(select().data).toEqual([{ id: 1, title: 'before live' }]);
  subscription.unsubscribe();
  store.dispatch(b.sync.actions.disconnect());
});

test('a sync middleware does not answer for another api: that api\'s entries keep their tags and writes refetch them', async () => {
  const [postgrestA, postgrestB] = [memoryPostgrest(), memoryPostgrest()];
  postgrestA.tables.notes = [{ id: 1, title: 'A' }];
  postgrestB.tables.notes = [{ id: 1, title: 'B' }];
  const a = fakeApiAndSync(postgrestA.fetchFn, { api: 'a', sync: 'syncA' });
  const b = fakeApiAndSync(postgrestB.fetchFn, { api: 'b' }); // its sync middleware is not in the store
  const store = configureStore({
    reducer: { a: a.api.reducer, b: b.api.reducer, syncA: a.sync.reducer },
    middleware: ((getDefault: () => { concat: (...middleware: unknown[]) => unknown }) => getDefault().concat(a.api.middleware, b.api.middleware, a.sync.middleware)) as never,
  });
  const subscriptionA = store.dispatch(a.api.endpoints.live.initiate(request as never));
  expect(await until(() => a.api.endpoints.live.select(request as never)(store.getState() as never).status === 'fulfilled')).toBe(true);
  const subscriptionB = store.dispatch(b.api.endpoints.live.initiate(request as never));
  const selectB = () => b.api.endpoints.live.select(request as never)(store.getState() as never);
  expect(await until(() => selectB().status === 'fulfilled')).toBe(true);
  await store.dispatch(b.api.endpoints.write.initiate(from('notes').insert({ id: 2, title: 'B2' }).toRequest() as never) as never);
  expect(await until(() => JSON.stringify(selectB().data) === JSON.stringify(postgrestB.tables.notes))).toBe(true);
  subscriptionA.unsubscribe();
  subscriptionB.unsubscribe();
  store.dispatch(a.sync.actions.disconnect());
});

test('while its changes are not live (disconnected), a write through the api refetches the live entry', async () => {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = [{ id: 1, title: 'a' }];
  const { api, sync, store, select, done } = await liveEntry(postgrest);
  store.dispatch(sync.actions.disconnect());
  await tick();
  const before = postgrest.gets();
  await store.dispatch(api.endpoints.write.initiate(from('notes').insert({ id: 2, title: 'b' }).toRequest() as never) as never);
  expect(await until(() => JSON.stringify(select().data) === JSON.stringify(postgrest.tables.notes))).toBe(true);
  expect(postgrest.gets()).toBe(before + 1);
  done();
});

test('a function call refetches a live entry that embeds other tables (their changes are not followed); not one that embeds none', async () => {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = [{ id: 1, title: 'a' }];
  const { api, sync, store } = fakeStore(postgrest.fetchFn);
  const embedding = from('notes').select('id,title,author:authors(name)').order('id').toRequest();
  const subscriptions = [embedding, request].map((arg) => store.dispatch(api.endpoints.live.initiate(arg as never)));
  const fetched = (arg: unknown) => postgrest.requests.filter((r) => r.method === 'GET' && r.url.includes('author') === (arg === embedding)).length;
  expect(await until(() => [embedding, request].every((arg) => api.endpoints.live.select(arg as never)(store.getState() as never).status === 'fulfilled'))).toBe(true);
  expect([fetched(embedding), fetched(request)]).toEqual([1, 1]);
  await store.dispatch(api.endpoints.write.initiate(rpc('rename_author', { id: 1 }).toRequest() as never) as never);
  expect(await until(() => fetched(embedding) === 2)).toBe(true);
  await tick();
  expect(fetched(request)).toBe(1);
  subscriptions.forEach((subscription) => subscription.unsubscribe());
  store.dispatch(sync.actions.disconnect());
});
