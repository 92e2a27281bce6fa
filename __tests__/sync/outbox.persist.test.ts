/**
 * The outbox survives a reload with redux-persist: writes made offline are persisted (the sync
 * slice's `outbox` and `writes`), the replay starts, the page "goes away" mid-replay with one write
 * applied and its answer lost, and a new store rebuilt from the persisted state finishes the replay:
 * each write lands exactly once, in order, and the rebuilt store shows every write throughout.
 */
import { configureStore } from '@reduxjs/toolkit';
import { FLUSH, PAUSE, PERSIST, persistReducer, persistStore, PURGE, REGISTER, REHYDRATE } from 'redux-persist';
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../../lib/api/index.js';
import { from } from '../../lib/postgrest/index.js';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { eventually, expectEventually } from '../support/eventually.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';
import { cleanupsAfterAll, tagger } from '../support/optimistic.js';
import { sql, testStack } from '../support/stack.js';

type Note = { id: string; tag: string; title: string; seq: number };

const cleanups = cleanupsAfterAll();
const newTag = tagger('persist');
const proxies: FaultProxy[] = [];
afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
});

/** A Storage in memory, shared by the two "page loads". */
const memory = new Map<string, string>();
const storage = {
  getItem: async (key: string) => memory.get(key) ?? null,
  setItem: async (key: string, value: string) => void memory.set(key, value),
  removeItem: async (key: string) => void memory.delete(key),
};

/** One page load: an api behind its own proxy, the sync slice persisted as the README says. */
async function pageLoad() {
  const stack = testStack();
  const target = new URL(stack.postgrestUrl);
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  proxies.push(proxy);
  const api = createPostgrestApi({ url: proxy.url, apiKey: stack.anonKey, timeoutMs: 1000 });
  const sync = createSyncMiddleware({
    api,
    url: stack.realtimeUrl,
    apiKey: stack.anonKey,
    WebSocket: WebSocket as never,
    environment: false,
    outbox: { retry: { minDelayMs: 30, maxDelayMs: 100 } },
    onWarning: () => undefined,
  });
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: persistReducer({ key: 'sync', storage, whitelist: ['outbox', 'writes'] }, sync.reducer) as unknown as typeof sync.reducer },
    middleware: (getDefault) => getDefault({ serializableCheck: { ignoredActions: [FLUSH, REHYDRATE, PAUSE, PERSIST, PURGE, REGISTER] } }).concat(api.middleware, sync.middleware),
  });
  const persistor = persistStore(store);
  cleanups.push(() => store.dispatch(sync.actions.disconnect()));
  return { api, sync, store, persistor, proxy };
}
type Page = Awaited<ReturnType<typeof pageLoad>>;

const notes = (tag: string) => from<Note>('ob_notes').select('*').eq('tag', tag).order('seq');
function liveRows(page: Page, tag: string) {
  const subscription = page.store.dispatch(page.api.endpoints.live.initiate(notes(tag) as never));
  cleanups.push(() => subscription.unsubscribe());
  return () => page.api.endpoints.live.select(notes(tag) as never)(page.store.getState() as never).data as Note[] | undefined;
}
const outboxOf = (page: Page) => page.sync.selectors.selectOutbox(page.store.getState());

it('a store rebuilt from the persisted state mid-replay finishes it: every write exactly once, in order', async () => {
  const tag = newTag();
  const first = await pageLoad();
  const rowsA = liveRows(first, tag);
  expect(await eventually(() => Array.isArray(rowsA()) && first.sync.selectors.selectChannel(first.store.getState(), 'live:public.ob_notes')?.changesLive === true, 15_000)).toBe(true);

  // Offline: ten optimistic inserts (uuid keys made here), shown and queued.
  first.store.dispatch(first.sync.actions.environmentChanged({ online: false }));
  for (let seq = 1; seq <= 10; seq++) first.store.dispatch(first.api.endpoints.write.initiate(from('ob_notes').insert({ tag, title: `note ${seq}`, seq }).optimistic() as never));
  await expectEventually(() => expect(outboxOf(first)).toHaveLength(10));
  const shownIds = rowsA()!.map((row) => row.id);
  expect(shownIds).toHaveLength(10);

  // Back online: three land, the fourth lands but its answer is lost, then the page goes away.
  first.proxy.switchAfter(3, 'cut-response');
  first.store.dispatch(first.sync.actions.environmentChanged({ online: true }));
  await expectEventually(async () => expect(Number((await sql(`select count(*) from ob_notes where tag = $1`, [tag]))[0]!.count)).toBe(4), 10_000);
  first.proxy.mode = 'refuse';
  first.proxy.cutAll();
  await first.persistor.flush();
  const persisted = JSON.parse(JSON.parse(memory.get('persist:sync')!).outbox as string) as Array<Record<string, unknown>>;
  expect(persisted).toHaveLength(7);
  // The fourth, whose answer was lost, waits to be sent again in the form that can't apply twice.
  expect(persisted[0]).toEqual(expect.objectContaining({ request: expect.objectContaining({ body: expect.objectContaining({ seq: 4 }), headers: expect.objectContaining({ Prefer: expect.stringContaining('resolution=ignore-duplicates') }) }) }));
  expect(persisted.slice(1).map((item) => (item as unknown as { request: { body: { seq: number } } }).request.body.seq)).toEqual([5, 6, 7, 8, 9, 10]);

  // The reload: a new store from the persisted state (the first one can no longer reach anything).
  const second = await pageLoad();
  const rowsB = liveRows(second, tag);
  // Every state the rebuilt store shows has all ten writes, once each.
  const shown: string[][] = [];
  const stop = second.store.subscribe(() => {
    const rows = rowsB();
    if (rows && shown[shown.length - 1] !== (rows as unknown as string[])) shown.push(rows.map((row) => row.id));
  });
  await expectEventually(() => expect(outboxOf(second)).toEqual([]), 15_000);
  await expectEventually(async () => expect(rowsB()).toEqual(await sql(`select * from ob_notes where tag = $1 order by seq`, [tag])), 10_000);
  stop();
  expect(shown.length).toBeGreaterThan(0);
  for (const ids of shown) expect([...ids].sort()).toEqual([...shownIds].sort());

  // SQL truth: ten rows, the ids the first page showed, written in the order made, each once.
  expect((await sql(`select id from ob_notes where tag = $1 order by seq`, [tag])).map((row) => row.id)).toEqual(shownIds);
  expect((await sql(`select seq from ob_log where tag = $1 order by n`, [tag])).map((row) => Number(row.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  expect(second.sync.selectors.selectSync(second.store.getState()).writes.filter((write) => write.status === 'pending')).toEqual([]);

  // The first page's leftovers are dropped, so nothing of it keeps running.
  await expectEventually(() => {
    for (const item of outboxOf(first)) if (item.status !== 'sending') first.store.dispatch(first.sync.actions.discardWrite({ id: item.id }));
    expect(outboxOf(first)).toEqual([]);
  }, 10_000);
}, 60_000);
