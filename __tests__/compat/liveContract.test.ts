/**
 * The api ↔ sync contract (lib/api/liveContract.ts, lib/api/postgrestModule.ts) against every
 * Redux Toolkit the package supports: Jest runs this file twice, as project `rtk-newest` (the
 * installed @reduxjs/toolkit) and as `rtk-oldest` (@reduxjs/toolkit mapped to the `rtk-oldest`
 * alias, the peerDependency's minimum; see jest.config.js). Fake realtime socket, in-memory
 * PostgREST, RTK's serializability and immutability checks on.
 */
import { findNonSerializableValue } from '@reduxjs/toolkit';
import { createApi } from '@reduxjs/toolkit/query';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createPostgrestApi } from '../../lib/api';
import { from } from '../../lib/postgrest';
import { createSyncMiddleware } from '../../lib/sync';
import { syncStore } from '../support/store';
import { FakeSocket, memoryPostgrest, tick, until } from '../sync/support/fakeRealtime';

const TOPIC = 'realtime:live:public.notes';
const rtkPackage = (globalThis as { __RTK_PACKAGE__?: string }).__RTK_PACKAGE__ ?? '@reduxjs/toolkit';
const root = process.cwd(); // Jest runs from the repository's root
const versionOf = (name: string) => (JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function makeStore(keepUnusedDataFor?: number) {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = [{ id: 1, title: 'a' }];
  const api = createPostgrestApi({ url: 'http://postgrest.invalid', fetchFn: postgrest.fetchFn, ...(keepUnusedDataFor !== undefined && { keepUnusedDataFor }) });
  const sync = createSyncMiddleware({ api, url: 'ws://realtime.invalid/realtime/v1', WebSocket: FakeSocket as never, vsn: '1.0.0', environment: false, onWarning: () => {} });
  const { store, actions } = syncStore(api, sync, cleanups);
  return { api, sync, store, actions, postgrest };
}

test('runs against the Redux Toolkit its project names (the oldest is the peerDependency minimum)', () => {
  const peer = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies['@reduxjs/toolkit']!;
  // The RTK actually loaded: infinite queries came in 2.6.
  let infiniteQueries = false;
  createApi({ baseQuery: async () => ({ data: null }), endpoints: (build) => ((infiniteQueries = 'infiniteQuery' in build), {}) });
  if (rtkPackage === 'rtk-oldest') {
    expect(`^${versionOf('rtk-oldest')}`).toBe(peer);
    expect(infiniteQueries).toBe(false);
  } else {
    expect(versionOf('@reduxjs/toolkit')).toMatch(/^2\./);
    expect(infiniteQueries).toBe(true);
  }
});

test('a builder chain passed to initiate reaches actions and state as a plain request, one cache entry with the request', async () => {
  const { api, store, actions } = makeStore();
  const builder = from('notes').select('id,title').order('id');
  const first = store.dispatch(api.endpoints.read.initiate(builder as never));
  const second = store.dispatch(api.endpoints.read.initiate(builder.toRequest() as never));
  expect(await until(() => api.endpoints.read.select(builder.toRequest() as never)(store.getState() as never).status === 'fulfilled')).toBe(true);
  expect(Object.keys((store.getState() as { postgrestApi: { queries: object } }).postgrestApi.queries)).toHaveLength(1);
  for (const action of actions) expect(findNonSerializableValue(action)).toBe(false);
  expect(findNonSerializableValue(store.getState())).toBe(false);
  first.unsubscribe();
  second.unsubscribe();
});

test('a burst of changes touching two live entries patches both in one action, with no per-entry api action', async () => {
  const { api, sync, store, actions } = makeStore();
  const requests = [from('notes').select('id,title').order('id').toRequest(), from('notes').select('id').order('id', { ascending: false }).toRequest()];
  const subscriptions = requests.map((request) => store.dispatch(api.endpoints.live.initiate(request as never)));
  const data = (index: number) => api.endpoints.live.select(requests[index] as never)(store.getState() as never).data;
  expect(await until(() => data(0) !== undefined && data(1) !== undefined)).toBe(true);
  expect(await until(() => sync.selectors.selectChannel(store.getState(), 'live:public.notes')?.changesLive === true)).toBe(true);
  const before = actions.length;
  FakeSocket.last.change(TOPIC, 'notes', 'INSERT', { id: 2, title: 'b' }, 2);
  FakeSocket.last.change(TOPIC, 'notes', 'UPDATE', { id: 1, title: 'a2' }, 3);
  expect(await until(() => (data(0) as unknown[]).length === 2)).toBe(true);
  expect(data(0)).toEqual([{ id: 1, title: 'a2' }, { id: 2, title: 'b' }]);
  expect(data(1)).toEqual([{ id: 2 }, { id: 1 }]);
  const after = actions.slice(before);
  const applied = after.filter((action) => action.type === `${sync.reducerPath}/changesApplied`);
  expect(applied).toHaveLength(1);
  expect((applied[0]!.payload as { entries: unknown[] }).entries).toHaveLength(2);
  expect(after.filter((action) => action.type.startsWith(`${api.reducerPath}/`))).toEqual([]);
  for (const action of after) expect(findNonSerializableValue(action)).toBe(false);
  // The entries keep what a fetch gave them besides the data.
  expect(api.endpoints.live.select(requests[0] as never)(store.getState() as never).status).toBe('fulfilled');
  subscriptions.forEach((subscription) => subscription.unsubscribe());
});

test('a live entry whose last subscriber left is still patched, and removed keepUnusedDataFor after, while changes keep coming', async () => {
  const { api, sync, store } = makeStore(1);
  const request = from('notes').select('id,title').order('id').toRequest();
  const subscription = store.dispatch(api.endpoints.live.initiate(request as never));
  const entry = () => api.endpoints.live.select(request as never)(store.getState() as never);
  expect(await until(() => entry().status === 'fulfilled')).toBe(true);
  expect(await until(() => sync.selectors.selectChannel(store.getState(), 'live:public.notes')?.changesLive === true)).toBe(true);
  const left = Date.now();
  subscription.unsubscribe();
  // RTK mirrors subscriptions into its state within half a second.
  while (Date.now() - left < 600) await tick();
  FakeSocket.last.change(TOPIC, 'notes', 'UPDATE', { id: 1, title: 'patched' }, 2);
  expect(await until(() => (entry().data as Array<{ title: string }> | undefined)?.[0]?.title === 'patched')).toBe(true);
  let seq = 3;
  while (entry().status !== 'uninitialized' && Date.now() - left < 2500) {
    FakeSocket.last.change(TOPIC, 'notes', 'UPDATE', { id: 1, title: `t${seq}` }, seq);
    seq += 1;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(entry().status).toBe('uninitialized');
  expect(Date.now() - left).toBeLessThan(2000);
});
