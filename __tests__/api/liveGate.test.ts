/**
 * The live endpoints' base query and the sync middleware's gate answer (LIVE_FETCH_STARTING): a
 * plain `true` marks the result live; `{ live: true, spareRows }` fetches a top-N window with more
 * rows, caches exactly N and hands the rest over in meta (meta.request stays the request asked for).
 */
import { configureStore, type Middleware } from '@reduxjs/toolkit';
import { createPostgrestApi } from '../../lib/api/index.js';
import { LIVE_FETCH_STARTING } from '../../lib/api/liveContract.js';
import { from } from '../../lib/postgrest/index.js';

const table = Array.from({ length: 10 }, (_, id) => ({ id }));

function setup(answer: unknown) {
  const urls: string[] = [];
  const fetchFn = (async (input: RequestInfo | URL) => {
    const url = new URL(String(input));
    urls.push(url.search);
    const limit = url.searchParams.get('limit');
    const rows = limit === null ? table : table.slice(0, Number(limit));
    return new Response(JSON.stringify(rows), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const api = createPostgrestApi({ url: 'http://postgrest.invalid', fetchFn });
  const gate: Middleware = () => (next) => (action) => ((action as { type?: unknown }).type === LIVE_FETCH_STARTING ? Promise.resolve(answer) : next(action));
  const fulfilled: Array<{ meta: { baseQueryMeta: Record<string, unknown> } }> = [];
  const recorder: Middleware = () => (next) => (action) => {
    if ((action as { type: string }).type.endsWith('/executeQuery/fulfilled')) fulfilled.push(action as never);
    return next(action);
  };
  const store = configureStore({ reducer: { [api.reducerPath]: api.reducer }, middleware: (getDefault) => getDefault().concat(gate, api.middleware, recorder) });
  return { api, store, urls, fulfilled };
}

it('a plain true gate answer still marks the result live, fetched as asked', async () => {
  const { api, store, urls, fulfilled } = setup(true);
  const request = from('t').select('id').order('id').limit(3);
  const result = await store.dispatch(api.endpoints.live.initiate(request as never));
  expect(result.data).toEqual(table.slice(0, 3));
  expect(urls[0]).toContain('limit=3');
  expect(fulfilled[0]!.meta.baseQueryMeta).toMatchObject({ live: true });
  expect(fulfilled[0]!.meta.baseQueryMeta.spares).toBeUndefined();
});

it('{ live, spareRows } fetches N + spareRows rows, caches N, and puts the rest in meta', async () => {
  const { api, store, urls, fulfilled } = setup({ live: true, spareRows: 4 });
  const request = from('t').select('id').order('id').limit(3);
  const result = await store.dispatch(api.endpoints.live.initiate(request as never));
  expect(result.data).toEqual(table.slice(0, 3));
  expect(urls[0]).toContain('limit=7');
  expect(fulfilled[0]!.meta.baseQueryMeta).toMatchObject({ live: true, spares: table.slice(3, 7), spareRows: 4, complete: false, request: request.toRequest() });
});

it('knows the result is complete when the fetch returns fewer rows than it asked for', async () => {
  const { api, store, fulfilled } = setup({ live: true, spareRows: 5 });
  const result = await store.dispatch(api.endpoints.live.initiate(from('t').select('id').order('id').limit(8) as never));
  expect(result.data).toEqual(table.slice(0, 8));
  expect(fulfilled[0]!.meta.baseQueryMeta).toMatchObject({ spares: table.slice(8), complete: true });
});

it('asks for no spares on offsets or counted windows', async () => {
  const { api, store, urls, fulfilled } = setup({ live: true, spareRows: 4 });
  await store.dispatch(api.endpoints.live.initiate(from('t').select('id').order('id').range(2, 4) as never));
  await store.dispatch(api.endpoints.live.initiate(from('t').select('id', { count: 'exact' }).order('id').limit(3) as never));
  expect(urls[0]).toContain('limit=3');
  expect(urls[1]).toContain('limit=3');
  for (const action of fulfilled) expect(action.meta.baseQueryMeta.spares).toBeUndefined();
});
