/**
 * The action sequences of optimistic writes, recorded with redux-mock-store (the design names it for
 * middleware action-sequence tests): the store's state is the real reducers run over the recorded
 * actions, so the middleware sees what a store would show. PostgREST is an in-memory fake (a unit
 * test of the middleware; the real stack runs in optimistic.test.ts and its siblings).
 */
import { combineReducers, type Middleware, type UnknownAction } from '@reduxjs/toolkit';
import mockStoreModule from 'redux-mock-store';
import { thunk } from 'redux-thunk';
import { from } from '../../lib/postgrest/index.js';
import { fakeApiAndSync, memoryPostgrest } from './support/fakeRealtime.js';

// A CommonJS module: under Jest's ESM mode its default export is the module object.
const configureMockStore = (mockStoreModule as unknown as { default?: typeof mockStoreModule }).default ?? mockStoreModule;

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function mockStore(respond: (url: string, method: string) => Promise<Response> | undefined) {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = [{ id: 1, title: 'a', version: 1 }];
  postgrest.respondWith(respond);
  const { api, sync } = fakeApiAndSync(postgrest.fetchFn);
  const reducer = combineReducers({ [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer });
  let recorded: UnknownAction[] = [];
  // The state a store would have after the recorded actions (redux-mock-store keeps them in order).
  const store = configureMockStore<ReturnType<typeof reducer>>([thunk as never, api.middleware as Middleware as never, sync.middleware as never])(() => recorded.reduce(reducer, reducer(undefined, { type: '@@init' })));
  const record = () => (recorded = store.getActions() as UnknownAction[]);
  const dispatch = (action: unknown) => {
    const result = store.dispatch(action as UnknownAction);
    record();
    return result as unknown as { unwrap(): Promise<unknown> } & PromiseLike<unknown>;
  };
  store.subscribe(record);
  return { api, sync, store, dispatch, types: () => (store.getActions() as UnknownAction[]).map((action) => action.type) };
}

/** The optimistic steps and the write's own actions, in order (RTK's internal bookkeeping left out). */
const steps = (types: string[]) => types.filter((type) => /optimistic|executeMutation/i.test(type));

it('a successful write: announced, applied before RTK\'s pending, reported, committed before RTK\'s fulfilled', async () => {
  const { api, dispatch, types } = mockStore((_url, method) => (method === 'POST' ? Promise.resolve(json([{ id: 2, title: 'b', version: 1 }], 201)) : undefined));
  await dispatch(api.endpoints.read.initiate(from('notes').select('*').order('id') as never));
  await dispatch(api.endpoints.write.initiate(from('notes').insert({ title: 'b' }).select().optimistic() as never)).unwrap();
  expect(steps(types())).toEqual([
    'rtkPostgrest/optimisticWriteStarting',
    'sync/optimistic/applied',
    'postgrestApi/executeMutation/pending',
    'rtkPostgrest/optimisticWriteSettling',
    'sync/optimistic/committed',
    'postgrestApi/executeMutation/fulfilled',
  ]);
});

it('a failing write: rolled back before RTK\'s rejected', async () => {
  const { api, dispatch, types } = mockStore((_url, method) => (method === 'POST' ? Promise.resolve(json({ code: '23503', message: 'fk', details: null, hint: null }, 409)) : undefined));
  await dispatch(api.endpoints.read.initiate(from('notes').select('*').order('id') as never));
  await dispatch(api.endpoints.write.initiate(from('notes').insert({ title: 'b' }).optimistic() as never)).unwrap().catch(() => undefined);
  expect(steps(types())).toEqual([
    'rtkPostgrest/optimisticWriteStarting',
    'sync/optimistic/applied',
    'postgrestApi/executeMutation/pending',
    'rtkPostgrest/optimisticWriteSettling',
    'sync/optimistic/rolledBack',
    'postgrestApi/executeMutation/rejected',
  ]);
});

it('a conflict with client-wins: zero rows back, the row read, the conflict settled, sent again, committed', async () => {
  let patches = 0;
  const { api, dispatch, types, store } = mockStore((url, method) => {
    if (method === 'PATCH') return Promise.resolve(json(++patches === 1 ? [] : [{ id: 1, title: 'mine', version: 3 }]));
    if (method === 'GET' && url.includes('id=eq.1')) return Promise.resolve(json([{ id: 1, title: 'theirs', version: 2 }]));
    return undefined;
  });
  await dispatch(api.endpoints.read.initiate(from('notes').select('*').order('id') as never));
  await dispatch(api.endpoints.write.initiate(from('notes').update({ title: 'mine', version: 2 }).eq('id', 1).optimistic({ conflict: { column: 'version', strategy: 'client-wins' } }) as never)).unwrap();
  expect(steps(types())).toEqual([
    'rtkPostgrest/optimisticWriteStarting',
    'sync/optimistic/applied',
    'postgrestApi/executeMutation/pending',
    'rtkPostgrest/optimisticWriteSettling', // zero rows: a read of the row is asked for
    'rtkPostgrest/optimisticWriteSettling', // the row as the server has it
    'sync/optimistic/conflict',
    'rtkPostgrest/optimisticWriteSettling', // the write sent again against version 2
    'sync/optimistic/committed',
    'postgrestApi/executeMutation/fulfilled',
  ]);
  const conflict = (store.getActions() as UnknownAction[]).find((action) => action.type === 'sync/optimistic/conflict')!;
  expect(conflict.payload).toEqual(expect.objectContaining({ conflict: expect.objectContaining({ resolution: 'client', server: { id: 1, title: 'theirs', version: 2 } }), write: expect.objectContaining({ request: expect.objectContaining({ body: { title: 'mine', version: 3 } }) }) }));
});
