/**
 * Benchmark of the query client's own cost (issue 14): the facade next to the RTK Query calls it is
 * built on, in one run, with an in-memory PostgREST (no network: what is measured is the client).
 * Prints JSON and writes bench/results/query-client.json. Compare the ratios, not the absolute figures.
 *
 *   npm run bench:query-client
 */
import { configureStore } from '@reduxjs/toolkit';
import { createPostgrestApi } from '../lib/api';
import { createQueryClient } from '../lib/api/queryClient';
import { normalizeArg } from '../lib/api/postgrestModule';
import { from } from '../lib/postgrest';
import { machine, run, timeIt, writeResult } from './support/results';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1000);
const ROWS = 1000;

function memoryFetch(rows: unknown[]): typeof fetch {
  const body = JSON.stringify(rows);
  return (async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'content-range': `0-${rows.length - 1}/*` } })) as typeof fetch;
}

async function main() {
  const rows = Array.from({ length: ROWS }, (_, id) => ({ id, title: `post ${id}`, score: id % 97 }));
  const api = createPostgrestApi({ url: 'http://postgrest.bench', fetchFn: memoryFetch(rows.slice(0, 20)), retry: false });
  const store = configureStore({ reducer: { [api.reducerPath]: api.reducer }, middleware: (g) => g({ serializableCheck: false, immutableCheck: false }).concat(api.middleware) });
  const client = createQueryClient({ api, store });

  // 1. Per render: what useQuery does to its function (make the builder, normalize it, hash the key)
  //    next to what useReadQuery does to an inline builder (normalize it).
  const build = (i: number) => from('posts').select('id,title').eq('author', i % 50).order('id').limit(20);
  const readPerRender = await timeIt(100_000, (i) => normalizeArg(build(i)));
  const keyedPerRender = await timeIt(100_000, (i) => client.prepare(['posts', i % 50], (c) => c.from('posts').select('id,title').eq('author', i % 50).order('id').limit(20)));

  // 2. A fetch through the keyed endpoint vs the read endpoint (forced; in-memory answers).
  const request = build(3).toRequest();
  const keyed = client.prepare(['posts', 3], () => build(3));
  // Warm both paths up first (the first one measured would otherwise pay for the JIT).
  await timeIt(1000, () => store.dispatch(api.endpoints.read.initiate(request, { forceRefetch: true, subscribe: false })));
  await timeIt(1000, () => store.dispatch(api.endpoints.keyed.initiate(keyed.arg, { forceRefetch: true, subscribe: false })));
  const readRps = await timeIt(3000, () => store.dispatch(api.endpoints.read.initiate(request, { forceRefetch: true, subscribe: false })));
  const keyedRps = await timeIt(3000, () => store.dispatch(api.endpoints.keyed.initiate(keyed.arg, { forceRefetch: true, subscribe: false })));

  // 3. ENTRIES cached entries: findAll by key prefix, and invalidating one of them (without refetching).
  const subscriptions = [];
  for (let i = 0; i < ENTRIES; i++) {
    const prepared = client.prepare(['list', i], () => build(i));
    subscriptions.push(store.dispatch(api.endpoints.keyed.initiate(prepared.arg)));
  }
  await Promise.all(subscriptions);
  const findAllPerSecond = await timeIt(200, (i) => client.getQueryCache().findAll(['list', i % ENTRIES]));
  const invalidatePerSecond = await timeIt(200, (i) => client.invalidateQueries(['list', i % ENTRIES], { refetchType: 'none' }));

  // 4. Replacing a 1,000-row entry: setQueryData (one action, RTK's rehydration) vs util.updateQueryData (immer).
  const big = client.prepare(['big'], () => from('posts').select('*'));
  store.dispatch(api.util.upsertQueryData('keyed', big.arg, rows));
  const setPerSecond = await timeIt(2000, (i) => client.setQueryData<typeof rows>(['big'], (old = []) => old.map((row, j) => (j === i % ROWS ? { ...row, score: i } : row))));
  const updatePerSecond = await timeIt(2000, (i) =>
    store.dispatch(api.util.updateQueryData('keyed', big.arg, (draft) => {
      (draft as typeof rows)[i % ROWS]!.score = i;
    })),
  );
  for (const subscription of subscriptions) subscription.unsubscribe();

  const result = {
    machine: machine(),
    perRender: { useReadQueryNormalizePerSecond: Math.round(readPerRender), useQueryPreparePerSecond: Math.round(keyedPerRender), ratio: +(readPerRender / keyedPerRender).toFixed(2) },
    fetchThroughApi: { readPerSecond: Math.round(readRps), keyedPerSecond: Math.round(keyedRps), ratio: +(readRps / keyedRps).toFixed(2) },
    filters: { entries: ENTRIES, findAllByPrefixMs: +(1000 / findAllPerSecond).toFixed(3), invalidateOneMs: +(1000 / invalidatePerSecond).toFixed(3) },
    replace1000Rows: { setQueryDataPerSecond: Math.round(setPerSecond), updateQueryDataPerSecond: Math.round(updatePerSecond), ratio: +(updatePerSecond / setPerSecond).toFixed(2) },
  };
  writeResult('query-client', result);
}

run(main);
