import { jest } from '@jest/globals';
import { configureStore } from '@reduxjs/toolkit';
import { createPostgrestApi } from '../../../lib/api';
import { createQueryClient } from '../../../lib/api/queryClient';
import { QUERY_DATA_SET, QUERY_INVALIDATED } from '../../../lib/api/queryClient/contract';
import { from } from '../../../lib/postgrest';
import { actionRecorder } from '../../support/store';
import { fakePostgrest, type FakePost } from './fakePostgrest';

function setup(options: { retry?: false } = { retry: false }) {
  const server = fakePostgrest();
  const api = createPostgrestApi({ url: 'http://postgrest.test', fetchFn: server.fetchFn, ...options });
  const { middleware, actions } = actionRecorder();
  const store = configureStore({ reducer: { [api.reducerPath]: api.reducer }, middleware: (d) => d().concat(api.middleware, middleware) });
  const client = createQueryClient({ api, store });
  const posts = client.prepare(['posts'], (c) => c.from<FakePost>('posts').select('*').order('id'));
  const subscribe = () => store.dispatch(api.endpoints.keyed.initiate(posts.arg));
  return { server, api, store, actions, client, posts, subscribe };
}

const types = (actions: Array<{ type: string }>, type: string) => actions.filter((a) => a.type === type).length;

test('a key names one RTK entry: its key and request are in originalArgs, getQueryData reads it, the state stays serializable', async () => {
  const { client, store, subscribe, posts } = setup();
  const sub = subscribe();
  await sub;
  expect(posts.queryCacheKey).toBe('keyed(["posts"])');
  const entry = store.getState().postgrestApi.queries[posts.queryCacheKey]!;
  expect(entry.originalArgs).toEqual({ queryKey: ['posts'], request: expect.objectContaining({ relation: 'posts', method: 'GET' }) });
  expect(client.getQueryData(['posts'])).toEqual([{ id: 1, title: 'one' }, { id: 2, title: 'two' }]);
  expect(client.getQueryState(['posts'])).toMatchObject({ status: 'success', fetchStatus: 'idle', dataUpdateCount: 1, errorUpdateCount: 0, isInvalidated: false });
  // The folded records sit beside RTK's state, and RTK never warned about them.
  expect(store.getState().postgrestApi).toHaveProperty('queryClient');
  sub.unsubscribe();
});

test('createQueryClient is one client per api and store, and names a wrong argument', () => {
  const { client, api, store } = setup();
  expect(createQueryClient({ api, store })).toBe(client);
  expect(() => createQueryClient({ api: {} as never, store })).toThrow(/api made by createPostgrestApi/);
  expect(() => createQueryClient({ api, store: {} as never })).toThrow(/Redux store/);
  const other = configureStore({ reducer: { x: () => 1 } });
  expect(() => createQueryClient({ api, store: other as never })).toThrow(/no "postgrestApi" state/);
});

test('setQueryData on a fetched entry is one dataSet action; the updater gets the shown data; undefined is a no-op', async () => {
  const { client, actions, subscribe } = setup();
  const sub = subscribe();
  await sub;
  const before = types(actions, QUERY_DATA_SET);
  client.setQueryData<FakePost[]>(['posts'], (old = []) => [...old, { id: 3, title: 'three' }]);
  expect(types(actions, QUERY_DATA_SET)).toBe(before + 1);
  expect(client.getQueryData<FakePost[]>(['posts'])!.map((p) => p.id)).toEqual([1, 2, 3]);
  expect(client.setQueryData(['posts'], () => undefined)).toBeUndefined();
  expect(types(actions, QUERY_DATA_SET)).toBe(before + 1);
  expect(client.getQueryData<FakePost[]>(['posts'])).toHaveLength(3);
  sub.unsubscribe();
});

test('setQueryData on an unknown key makes a request-less entry; refetching it does nothing', async () => {
  const { client, server } = setup();
  client.setQueryData(['app-status'], { mode: 'degraded' });
  expect(client.getQueryData(['app-status'])).toEqual({ mode: 'degraded' });
  expect(client.getQueryState(['app-status'])).toMatchObject({ status: 'success' });
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  await client.refetchQueries(['app-status']);
  warn.mockRestore();
  expect(server.requests).toEqual([]);
  expect(client.getQueryData(['app-status'])).toEqual({ mode: 'degraded' });
});

test('batch and setQueriesData make one action for many entries', async () => {
  const { client, actions, store, api } = setup();
  const one = client.prepare(['post', 1], (c) => c.from('posts').select('*').eq('id', 1).single());
  const two = client.prepare(['post', 2], (c) => c.from('posts').select('*').eq('id', 2).single());
  await Promise.all([store.dispatch(api.endpoints.keyed.initiate(one.arg)), store.dispatch(api.endpoints.keyed.initiate(two.arg))]);
  const before = types(actions, QUERY_DATA_SET);
  const changed = client.setQueriesData<FakePost>(['post'], (old) => old && { ...old, title: old.title.toUpperCase() });
  expect(changed.map(([key]) => key)).toEqual([['post', 1], ['post', 2]]);
  expect(types(actions, QUERY_DATA_SET)).toBe(before + 1);
  client.getQueryCache().batch(() => {
    client.setQueryData(['post', 1], { id: 1, title: 'a' });
    client.setQueryData(['post', 2], { id: 2, title: 'b' });
    client.setQueryData(['post', 1], (old: FakePost | undefined) => ({ ...old!, title: `${old!.title}!` }));
  });
  expect(types(actions, QUERY_DATA_SET)).toBe(before + 2);
  expect(client.getQueryData(['post', 1])).toEqual({ id: 1, title: 'a!' });
  expect(client.getQueryData(['post', 2])).toEqual({ id: 2, title: 'b' });
});

test('invalidateQueries refetches active entries once and only flags inactive ones (they are kept, not removed)', async () => {
  const { client, server, store, api, subscribe, actions } = setup();
  const sub = subscribe();
  await sub;
  const other = client.prepare(['posts', 'two'], (c) => c.from('posts').select('*').eq('id', 2));
  await store.dispatch(api.endpoints.keyed.initiate(other.arg, { subscribe: false }));
  // "Active" asks RTK's middleware for its subscriptions: no wait for the state's mirror (synced every 500 ms).
  server.requests.length = 0;
  await client.invalidateQueries(['posts']);
  expect(types(actions, QUERY_INVALIDATED)).toBe(1);
  // Only the subscribed entry is refetched; the other is flagged stale and kept.
  expect(server.requests).toEqual(['GET /posts?select=*&order=id.asc']);
  expect(client.getQueryState(['posts', 'two'])).toMatchObject({ isInvalidated: true, isStale: true, status: 'success' });
  expect(client.getQueryState(['posts'])).toMatchObject({ isInvalidated: false, dataUpdateCount: 2 });
  server.requests.length = 0;
  await client.invalidateQueries({ queryKey: ['posts'], refetchType: 'all' });
  expect(server.requests.sort()).toEqual(['GET /posts?select=*&id=eq.2', 'GET /posts?select=*&order=id.asc']);
  server.requests.length = 0;
  await client.invalidateQueries(['posts'], { refetchType: 'none' });
  expect(server.requests).toEqual([]);
  expect(client.getQueryState(['posts'])).toMatchObject({ isInvalidated: true });
  sub.unsubscribe();
});

test('refetchQueries resolves after the new data is in the state', async () => {
  const { client, server, subscribe } = setup();
  const sub = subscribe();
  await sub;
  server.rows[0]!.title = 'changed';
  await client.refetchQueries(['posts']);
  expect(client.getQueryData<FakePost[]>(['posts'])![0]!.title).toBe('changed');
  sub.unsubscribe();
});

test('errors count in query.state; a success resets the failure count but not errorUpdateCount', async () => {
  const { client, server, subscribe } = setup();
  const sub = subscribe();
  await sub;
  server.failNext(400);
  await client.refetchQueries(['posts']);
  server.failNext(400);
  await client.refetchQueries(['posts']);
  let state = client.getQueryState(['posts'])!;
  expect(state).toMatchObject({ status: 'error', errorUpdateCount: 2, fetchFailureCount: 2, dataUpdateCount: 1 });
  expect(state.error).toMatchObject({ status: 400, message: 'failed with 400' });
  expect(state.data).toHaveLength(2); // the last data stays, as in TanStack
  expect(state.errorUpdatedAt).toBeGreaterThan(0);
  const errors = client.getQueryCache().findAll({ predicate: (q) => q.state.status === 'error' });
  expect(errors.map((q) => q.queryKey)).toEqual([['posts']]);
  await client.refetchQueries(['posts']);
  state = client.getQueryState(['posts'])!;
  expect(state).toMatchObject({ status: 'success', errorUpdateCount: 2, fetchFailureCount: 0, dataUpdateCount: 2, error: null });
  await expect(client.refetchQueries(['posts'], { throwOnError: true })).resolves.toBeUndefined();
  server.failNext(400);
  await expect(client.refetchQueries(['posts'], { throwOnError: true })).rejects.toMatchObject({ status: 400 });
  sub.unsubscribe();
});

test('cancelQueries aborts a fetch in flight and reverts: no error, the earlier data, idle', async () => {
  const { client, server, subscribe } = setup();
  const sub = subscribe();
  await sub;
  const release = server.hold();
  const refetching = client.refetchQueries(['posts']);
  await new Promise((r) => setTimeout(r, 0));
  expect(client.isFetching(['posts'])).toBe(1);
  await client.cancelQueries(['posts']);
  release();
  await refetching;
  const state = client.getQueryState(['posts'])!;
  expect(state).toMatchObject({ status: 'success', fetchStatus: 'idle', error: null, errorUpdateCount: 0 });
  expect(state.data).toHaveLength(2);
  expect(client.isFetching()).toBe(0);
  sub.unsubscribe();
});

test('removeQueries removes entries nobody uses and keeps (with a warning) those in use', async () => {
  const { client, store, api, subscribe } = setup();
  const sub = subscribe();
  await sub;
  client.setQueryData(['temporary-data'], [1, 2]);
  // In use at once: RTK's own subscription count, not the state's mirror (synced every 500 ms).
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  client.removeQueries(['temporary-data']);
  client.removeQueries(['posts']);
  warn.mockRestore();
  expect(client.getQueryData(['temporary-data'])).toBeUndefined();
  expect(client.getQueryData(['posts'])).toHaveLength(2);
  expect((store.getState().postgrestApi as unknown as { queryClient: object }).queryClient).not.toHaveProperty('keyed(["temporary-data"])');
  sub.unsubscribe();
  void api;
});

test('a function that returns no builder runs at fetch time; its throw is an error with the message; fetchQuery honours staleTime', async () => {
  const { client, server } = setup();
  let calls = 0;
  const user = await client.fetchQuery({ queryKey: ['user'], queryFn: async () => ({ name: `ann${++calls}` }) });
  // The first call (made to see what the function returns) is dropped; the fetch calls it again.
  expect(user).toEqual({ name: 'ann2' });
  expect(await client.fetchQuery({ queryKey: ['user'], queryFn: async () => ({ name: 'x' }), staleTime: 60_000 })).toEqual({ name: 'ann2' });
  await expect(client.fetchQuery({ queryKey: ['broken'], queryFn: () => Promise.reject(new Error('boom')), retry: false })).rejects.toMatchObject({ status: 'FUNCTION_ERROR', message: 'boom' });
  // A function may also return a builder later (a promise of one): it is fetched through the api.
  const rows = await client.fetchQuery<FakePost[]>({ queryKey: ['later'], queryFn: async () => Promise.resolve({ toRequest: () => from('posts').select('id').toRequest() }) as never });
  expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
  expect(server.requests).toContain('GET /posts?select=id');
});

test('db: awaiting a chain runs it through the api (reads and writes), and a failure rejects with the PostgrestError', async () => {
  const { client, server, store, actions } = setup();
  const row = await client.db.from('posts').select('*').eq('id', 2).single();
  expect(row).toEqual({ id: 2, title: 'two' });
  const made = await client.db.from('posts').insert({ title: 'three' }).select().single();
  expect(made).toMatchObject({ title: 'three' });
  expect(actions.some((a) => a.type === 'postgrestApi/executeMutation/fulfilled')).toBe(true);
  // A one-off write's result isn't kept in the store.
  expect(Object.keys(store.getState().postgrestApi.mutations)).toEqual([]);
  server.failNext(400);
  await expect(client.db.from('posts').select('*')).rejects.toMatchObject({ status: 400, message: 'failed with 400' });
  // Not awaited, a chain is our plain builder.
  expect(client.db.from('posts').select('*').toRequest()).toEqual(from('posts').select('*').toRequest());
});

test('isMutating counts writes in flight', async () => {
  const { client, server } = setup();
  const release = server.hold();
  const writing = client.db.from('posts').update({ title: 'x' }).eq('id', 1);
  const done = Promise.resolve(writing);
  await new Promise((r) => setTimeout(r, 0));
  expect(client.isMutating()).toBe(1);
  release();
  await done;
  expect(client.isMutating()).toBe(0);
});

test('refetching an entry already fetching cancels that fetch and fetches again (TanStack cancelRefetch); cancelRefetch: false joins it', async () => {
  const { client, server, subscribe } = setup();
  const sub = subscribe();
  await sub;
  let release = server.hold();
  const first = client.refetchQueries(['posts']);
  await new Promise((r) => setTimeout(r, 0));
  server.requests.length = 0;
  const second = client.invalidateQueries(['posts'], { cancelRefetch: false });
  release();
  await Promise.all([first, second]);
  expect(server.requests).toEqual([]); // joined the running fetch
  release = server.hold();
  const third = client.refetchQueries(['posts']);
  await new Promise((r) => setTimeout(r, 0));
  server.rows[0]!.title = 'after the change';
  const fourth = client.invalidateQueries(['posts']);
  await new Promise((r) => setTimeout(r, 0));
  release();
  await Promise.all([third, fourth]);
  expect(server.requests).toHaveLength(2); // the first was cancelled, a new one made
  expect(client.getQueryData<FakePost[]>(['posts'])![0]!.title).toBe('after the change');
  expect(client.getQueryState(['posts'])).toMatchObject({ status: 'success', errorUpdateCount: 0 });
  sub.unsubscribe();
});

test('the api carries the builders (typed by createPostgrestApi<Database>()): api.from makes the same request as from', () => {
  const { api } = setup();
  const typed = api as unknown as { from: typeof from; rpc: (fn: string, args?: object) => { toRequest(): unknown } };
  expect(typed.from('posts').select('id').eq('id', 1).toRequest()).toEqual(from('posts').select('id').eq('id', 1).toRequest());
  expect(typed.rpc('add_numbers', { a: 1, b: 2 }).toRequest()).toMatchObject({ action: 'rpc', relation: 'add_numbers' });
});

test('replaying the recorded actions into a fresh store rebuilds the same cache and records, and fetches nothing', async () => {
  const { client, server, subscribe, actions, store } = setup();
  const sub = subscribe();
  await sub;
  client.setQueryData(['app-status'], { mode: 'ok' });
  server.failNext(400);
  await client.refetchQueries(['posts']);
  await client.invalidateQueries(['posts'], { refetchType: 'none' });
  client.setQueryData<FakePost[]>(['posts'], (old = []) => [...old, { id: 9, title: 'set' }]);
  sub.unsubscribe();
  const replay = setup();
  const before = replay.server.requests.length;
  for (const action of actions) if (!action.type.includes('internalSubscriptions') && !action.type.includes('middlewareRegistered')) replay.store.dispatch(action);
  await new Promise((r) => setTimeout(r, 50));
  expect(replay.server.requests.length).toBe(before);
  const apiState = (s: typeof store) => {
    const { queries, queryClient } = s.getState().postgrestApi as unknown as { queries: object; queryClient: object };
    return { queries, queryClient };
  };
  expect(apiState(replay.store)).toEqual(apiState(store));
  expect(replay.client.getQueryState(['posts'])).toMatchObject({ isInvalidated: true, errorUpdateCount: 1, data: [{ id: 1, title: 'one' }, { id: 2, title: 'two' }, { id: 9, title: 'set' }] });
});
