/**
 * Live entries under RLS against the real stack: a row an UPDATE takes out of the user's view
 * leaves the live entry (the server's LEAVE), so the entry stays equal to a fresh PostgREST query as
 * that user, without a refetch.
 */
import { configureStore } from '@reduxjs/toolkit';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../../lib/api/index.js';
import { from } from '../../lib/postgrest/index.js';
import { postgrestBaseQuery } from '../../lib/postgrest/http/baseQuery.js';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { eventually } from '../support/eventually.js';
import { closeSql, sql, testStack } from '../support/stack.js';

const cleanups: Array<() => void> = [];
afterAll(async () => {
  for (const cleanup of cleanups) cleanup();
  await closeSql();
});

describe('live entries under row level security', () => {
  it('drop a row an UPDATE hands to another user, and stay equal to a fresh query as their user, without a refetch', async () => {
    const stack = testStack();
    const [alice, bob] = [randomUUID(), randomUUID()];
    await sql('insert into authors (id, name) values ($1, $2), ($3, $4)', [alice, `alice-${alice}`, bob, `bob-${bob}`]);
    const token = stack.signToken({ sub: alice });
    const api = createPostgrestApi({ url: stack.postgrestUrl, apiKey: stack.anonKey, getToken: () => token });
    const sync = createSyncMiddleware({ api, url: stack.realtimeUrl, apiKey: stack.anonKey, getToken: () => token, WebSocket: WebSocket as never, onWarning: () => undefined });
    const store = configureStore({
      reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
      middleware: (getDefault) => getDefault().concat(api.middleware, sync.middleware),
    });
    cleanups.push(() => store.dispatch(sync.actions.disconnect()));
    const tag = `vis-${alice}`;
    const request = from('posts').select('id,title,author_id,published').like('title', `${tag}%`).order('id');
    store.dispatch(api.endpoints.live.initiate(request.toRequest()) as never);
    const read = () => api.endpoints.live.select(request.toRequest())(store.getState() as never).data as Array<{ id: number }> | undefined;
    const fresh = async () =>
      ((await postgrestBaseQuery({ url: stack.postgrestUrl, apiKey: stack.anonKey, getToken: () => token })(request.toRequest(), { signal: new AbortController().signal } as never, {})) as { data?: unknown }).data;
    expect(await eventually(() => Array.isArray(read()), 15_000)).toBe(true);

    const [kept, handed] = (await sql<{ id: number }>(
      `insert into posts (author_id, title, published) values ($1, $2, false), ($1, $3, false) returning id`,
      [alice, `${tag} kept`, `${tag} handed`],
    )).map((row) => Number(row.id));
    expect(await eventually(() => read()?.length === 2, 15_000)).toBe(true);
    const requestsBefore = store.getState()[api.reducerPath].queries;
    await sql('update posts set author_id = $2 where id = $1', [handed, bob]);
    await sql(`update posts set title = $2 where id = $1`, [kept, `${tag} kept, renamed`]);
    expect(await eventually(async () => JSON.stringify(read()) === JSON.stringify(await fresh()), 15_000)).toBe(true);
    expect(read()!.map((row) => row.id)).toEqual([kept]);
    // Patched from the changes, not refetched: the entry's fetch is still the one it started with.
    expect(store.getState()[api.reducerPath].queries).toEqual(expect.objectContaining(Object.fromEntries(Object.entries(requestsBefore).map(([key, value]) => [key, expect.objectContaining({ requestId: value!.requestId })]))));
  });
});
