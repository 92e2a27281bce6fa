/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The infinite query hook RTK's React module generates for a `build.liveInfiniteQuery` endpoint,
 * with the sync middleware, against the real stack: rows written with SQL enter the loaded pages in
 * order while mounted (no refetch), and fetchNextPage brings the rows past them. Owns `live_pages`
 * rows of its own list (ids from 7 000 000 000).
 */
import { configureStore, type Middleware } from '@reduxjs/toolkit';
import { act, render, screen, waitFor } from '@testing-library/react';
import { randomUUID } from 'node:crypto';
import { Provider } from 'react-redux';
import { WebSocket } from 'ws';
import { keysetPages, type KeysetPageParam } from '../../lib/api';
import { from } from '../../lib/postgrest';
import { createPostgrestApi } from '../../lib/react';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { closeSql, sql, testStack } from '../support/stack';

interface Row {
  id: number;
  list: string;
  rank: number;
  title: string;
}

const list = randomUUID();
const base = 7_000_000_000 + (process.pid % 100_000) * 100;
const cleanups: Array<() => void> = [];
afterAll(async () => {
  for (const cleanup of cleanups) cleanup();
  await closeSql();
});

it('useFeedInfiniteQuery on a live endpoint shows inserted rows in their page without a refetch; fetchNextPage brings the rest', async () => {
  const stack = testStack();
  await sql('insert into live_pages (id, list, rank) select $1::bigint + r, $2, r from unnest($3::int[]) as r', [base, list, [10, 20, 30, 40, 50]]);
  const api = createPostgrestApi({
    url: stack.postgrestUrl,
    apiKey: stack.anonKey,
    endpoints: (build) => ({
      feed: build.liveInfiniteQuery<Row[], string, KeysetPageParam>({
        ...keysetPages<Row, string>({ request: (l) => from<Row>('live_pages').select('id,rank').eq('list', l), pageSize: 3, cursor: 'rank' }),
      }),
    }),
  });
  const sync = createSyncMiddleware({ api, url: stack.realtimeUrl, apiKey: stack.anonKey, WebSocket: WebSocket as never, environment: false, onWarning: () => undefined });
  let fetches = 0;
  const counter: Middleware = () => (next) => (action) => {
    if ((action as { type: string }).type === `${api.reducerPath}/executeQuery/pending`) fetches++;
    return next(action);
  };
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
    middleware: (getDefault) => getDefault().concat(api.middleware, sync.middleware, counter),
  });
  cleanups.push(() => store.dispatch(sync.actions.disconnect()));
  let next: (() => unknown) | undefined;
  function Feed() {
    const { data, hasNextPage, fetchNextPage } = api.useFeedInfiniteQuery(list);
    next = fetchNextPage;
    return <p data-testid="feed">{`${(data?.pages ?? []).map((page) => page.map((row) => row.rank).join(',')).join('|')}${hasNextPage ? ' …' : ''}`}</p>;
  }
  const { unmount } = render(<Provider store={store}><Feed /></Provider>);
  const shows = (text: string) => waitFor(() => expect(screen.getByTestId('feed').textContent).toBe(text), { timeout: 15_000 });
  await shows('10,20,30 …');
  await sql('insert into live_pages (id, list, rank) values ($1, $2, 15)', [base + 15, list]);
  await shows('10,15,20,30 …');
  expect(fetches).toBe(1);
  await act(async () => { await next!(); });
  await shows('10,15,20,30|40,50');
  expect(fetches).toBe(2);
  unmount();
}, 30_000);
