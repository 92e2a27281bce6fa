/**
 * The outbox's promises at the edges, with PostgREST replaced by a `fetchFn` the test scripts (a
 * unit test of the outbox: no realtime socket is opened): writes go out one at a time in the order
 * made, also when first sends fail at different times; a write answered 500 fails instead of
 * blocking the line; a write made before redux-persist's REHYDRATE is kept; a REHYDRATE of another
 * key sends nothing again; a conditional update in flight when the page went commits after the
 * reload; a discarded write doesn't leave the status offline; a queued optimistic write that meets
 * a conflict keeps its place in the line. (Found by a review; each failed before its fix.)
 */
import { configureStore } from '@reduxjs/toolkit';
import { persistReducer, persistStore, FLUSH, PAUSE, PERSIST, PURGE, REGISTER, REHYDRATE } from 'redux-persist';
import { createPostgrestApi } from '../../lib/api/index.js';
import { from, rpc } from '../../lib/postgrest/index.js';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { initialSyncState, type OutboxItem, type PendingWrite } from '../../lib/sync/slice.js';

type Call = { method: string; url: string; body: unknown };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function setup(handle: (call: Call, n: number) => Promise<Response> | Response, extra: { persist?: { storage: unknown }; preloaded?: unknown; maxAttempts?: number } = {}) {
  const calls: Call[] = [];
  const fetchFn = async (url: string, init: RequestInit) => {
    const call = { method: String(init.method), url: String(url), body: init.body === undefined ? undefined : JSON.parse(String(init.body)) };
    calls.push(call);
    return handle(call, calls.length);
  };
  const api = createPostgrestApi({ url: 'http://fake.invalid', fetchFn: fetchFn as never, retry: false });
  const sync = createSyncMiddleware({ api, url: 'ws://fake.invalid/socket', environment: false, outbox: { retry: { minDelayMs: 10, maxDelayMs: 50 }, ...(extra.maxAttempts !== undefined && { maxAttempts: extra.maxAttempts }) }, onWarning: () => undefined });
  const syncReducer = extra.persist ? (persistReducer({ key: 'sync', storage: extra.persist.storage as never, whitelist: ['outbox', 'writes'] }, sync.reducer) as unknown as typeof sync.reducer) : sync.reducer;
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: syncReducer },
    ...(extra.preloaded !== undefined && { preloadedState: extra.preloaded as never }),
    middleware: (getDefault) => getDefault({ serializableCheck: { ignoredActions: [FLUSH, REHYDRATE, PAUSE, PERSIST, PURGE, REGISTER] } }).concat(api.middleware, sync.middleware),
  });
  const write = (request: unknown) => store.dispatch(api.endpoints.write.initiate(request as never)) as unknown as Promise<{ data?: unknown; error?: unknown }>;
  const outbox = () => sync.selectors.selectOutbox(store.getState());
  return { api, sync, store, calls, write, outbox };
}

/** Resolves to 'pending' when `promise` has not settled within `ms`. */
const within = (promise: Promise<unknown>, ms: number) => Promise.race([promise.then(() => 'settled'), sleep(ms).then(() => 'pending')]);

describe('ordering', () => {
  it('two updates of one row: the older one, whose first send failed, must not land after the newer one', async () => {
    let row = 'orig';
    const applied: string[] = [];
    const h = setup(async (call, n) => {
      if (n === 1) {
        await sleep(100);
        throw new TypeError('fetch failed'); // the first send of A is lost (network)
      }
      row = (call.body as { title: string }).title;
      applied.push(row);
      return json(200, []);
    });
    const a = h.write(from('notes').update({ title: 'A (older)' }).eq('id', 1));
    const b = h.write(from('notes').update({ title: 'B (newer)' }).eq('id', 1));
    await Promise.all([a, b]);
    // Promised: "replayed in order", "writes to the same row are replayed serially".
    expect(applied).toEqual(['A (older)', 'B (newer)']);
    expect(row).toBe('B (newer)');
  });

  it('a fast failure behind a slow one: B waits for A, which lands first', async () => {
    const applied: string[] = [];
    const h = setup(async (call, n) => {
      if (n === 1) {
        await sleep(300); // A: a slow request that ends in a network error
        throw new TypeError('fetch failed');
      }
      if (n === 2) throw new TypeError('fetch failed'); // B: fails at once
      applied.push((call.body as { title: string }).title);
      return json(200, []);
    });
    const a = h.write(from('notes').update({ title: 'A' }).eq('id', 1));
    const b = h.write(from('notes').update({ title: 'B' }).eq('id', 1));
    await Promise.all([a, b]);
    expect(applied).toEqual(['A', 'B']);
  });
});

describe('a write that always gets a 5xx', () => {
  it('fails (500 is final) instead of being retried forever and blocking every write behind it', async () => {
    const h = setup((call) => (call.url.includes('/bad') ? json(500, { code: 'P0004', message: 'assertion failed', details: null, hint: null }) : json(201, [])));
    const bad = h.write(from('bad').insert({ id: 'x' }));
    await sleep(20);
    const good = h.write(from('good').insert({ id: 'y' }));
    expect(await within(bad, 1500)).toBe('settled');
    expect(await within(good, 100)).toBe('settled');
  }, 10_000);
});

describe('a write that is always answered 503', () => {
  it('fails after maxAttempts sends (kept as failed, with the last error), and the write behind it goes on', async () => {
    const h = setup((call) => (call.url.includes('/busy') ? json(503, { code: 'PGRST000', message: 'Database client error. Retrying the connection.', details: null, hint: null }) : json(201, [])), { maxAttempts: 3 });
    const busy = h.write(from('busy').insert({ id: 'x' }));
    const next = h.write(from('good').insert({ id: 'y' }));
    expect(((await busy) as { error?: unknown }).error).toEqual(expect.objectContaining({ status: 503 }));
    expect(((await next) as { error?: unknown }).error).toBeUndefined();
    expect(h.calls.filter((call) => call.url.includes('/busy'))).toHaveLength(3);
    expect(h.outbox()).toEqual([expect.objectContaining({ status: 'failed', attempts: 3, error: expect.objectContaining({ status: 503 }) })]);
  });
});

describe('redux-persist', () => {
  it('a write queued before REHYDRATE (storage holds a previous outbox) is not lost', async () => {
    const memory = new Map<string, string>([['persist:sync', JSON.stringify({ outbox: '[]', writes: '[]', _persist: JSON.stringify({ version: -1, rehydrated: true }) })]]);
    const storage = {
      getItem: async (key: string) => (await sleep(50), memory.get(key) ?? null),
      setItem: async (key: string, value: string) => void memory.set(key, value),
      removeItem: async (key: string) => void memory.delete(key),
    };
    const h = setup(() => json(201, []), { persist: { storage } });
    persistStore(h.store);
    h.store.dispatch(h.sync.actions.environmentChanged({ online: false }));
    const running = h.write(from('notes').insert({ id: 'before-rehydrate', title: 'x' }));
    expect(h.outbox()).toHaveLength(1);
    await sleep(150); // REHYDRATE has arrived
    h.store.dispatch(h.sync.actions.environmentChanged({ online: true }));
    expect(await within(running, 500)).toBe('settled');
    expect(h.calls).toHaveLength(1);
  });

  it('a REHYDRATE of another persisted key while a write is in flight does not send it again (an rpc runs once)', async () => {
    const h = setup(async () => (await sleep(200), json(200, 1)));
    const running = h.write(rpc('increment', { by: 1 }));
    await sleep(20);
    h.store.dispatch({ type: REHYDRATE, key: 'auth', payload: undefined } as never);
    await running;
    await sleep(300);
    expect(h.calls.filter((call) => call.url.includes('/rpc/increment'))).toHaveLength(1);
  });

  it('a conditional update in flight when the page went, which had landed, commits after the reload instead of conflicting', async () => {
    const base = from('opt_items').update({ title: 'after', version: 2 }).eq('id', 1).optimistic({ conflict: { column: 'version', strategy: 'server-wins' } }).toRequest();
    const request = { ...base, headers: { ...base.headers, Prefer: 'return=representation' } };
    const sent = { ...request, query: [...request.query, ['version', 'eq.1'] as [string, string]] };
    const seen = { id: 1, title: 'before', version: 1 };
    const write: PendingWrite = { id: 'w1', table: 'public.opt_items', request, entries: [], primaryKey: ['id'], keys: ['[1]'], seen, status: 'pending', error: null, at: 0 };
    const item: OutboxItem = { id: 'o1', request: sent, endpoint: 'write', writeId: 'w1', status: 'sending', attempts: 1, at: 0 };
    // The database: the first send landed, its answer was lost with the page.
    const h = setup((call) => (call.method === 'PATCH' ? json(200, []) : json(200, [{ id: 1, title: 'after', version: 2 }])), {
      preloaded: { sync: { ...initialSyncState, outbox: [item], writes: [write] } },
    });
    h.store.dispatch({ type: REHYDRATE, key: 'sync', payload: { outbox: [item], writes: [write] } } as never);
    await sleep(300);
    expect(h.calls.map((call) => call.method)).toEqual(['PATCH', 'GET']);
    expect(h.sync.selectors.selectConflicts(h.store.getState())).toEqual([]);
    expect(h.sync.selectors.selectSync(h.store.getState()).writes.filter((w) => w.status === 'rolledBack')).toEqual([]);
  });
});

describe('reachability', () => {
  it('a write that found PostgREST unreachable, then discarded: the status does not stay offline forever', async () => {
    let down = true;
    const h = setup(() => {
      if (down) throw new TypeError('fetch failed');
      return json(201, []);
    });
    const running = h.write(from('notes').insert({ id: 'z', title: 'z' }));
    for (let i = 0; i < 200 && h.outbox()[0]?.status !== 'queued'; i++) await sleep(1);
    const [item] = h.outbox();
    h.store.dispatch(h.sync.actions.discardWrite({ id: item!.id }));
    expect(h.outbox()).toEqual([]);
    await running;
    down = false;
    await sleep(2000);
    expect(h.sync.selectors.selectSyncStatus(h.store.getState()).syncStatus).not.toBe('offline');
  }, 10_000);
});

describe('optimistic conflict resends and the line', () => {
  it('a queued client-wins write that meets a conflict is sent again before the later write to the same row', async () => {
    const row: Record<string, unknown> = { id: 1, title: 'orig', version: 1 };
    const applied: string[] = [];
    const h = setup((call) => {
      const url = new URL(call.url);
      const filters = [...url.searchParams].filter(([k]) => k !== 'select');
      const matches = filters.every(([k, v]) => `eq.${String(row[k])}` === v);
      if (call.method === 'GET') return json(200, matches ? [{ ...row }] : []);
      if (!matches) return json(200, []);
      Object.assign(row, call.body as object);
      applied.push(String((call.body as { title: string }).title));
      return json(200, [{ ...row }]);
    });
    const read = h.store.dispatch(h.api.endpoints.read.initiate(from('items').select('*').eq('id', 1) as never));
    await read;
    h.store.dispatch(h.sync.actions.environmentChanged({ online: false }));
    const w1 = h.write(from('items').update({ title: 'A (first)', version: 2 }).eq('id', 1).optimistic({ conflict: { column: 'version', strategy: 'client-wins' } }));
    const w2 = h.write(from('items').update({ title: 'B (second)' }).eq('id', 1));
    // Someone else changed the row meanwhile.
    row.version = 5;
    row.title = 'theirs';
    h.store.dispatch(h.sync.actions.environmentChanged({ online: true }));
    await Promise.all([w1, w2]);
    await sleep(100);
    expect(applied).toEqual(['A (first)', 'B (second)']);
    expect(row.title).toBe('B (second)');
  });
});

it("the network drops between a conditional write's 0-row answer and its conflict read: the write waits in the outbox, then reads, resends and lands", async () => {
  const row: Record<string, unknown> = { id: 1, title: 'orig', version: 1 };
  let gets = 0;
  const h = setup((call) => {
    const url = new URL(call.url);
    const filters = [...url.searchParams].filter(([k]) => k !== 'select');
    const matches = filters.every(([k, v]) => `eq.${String(row[k])}` === v);
    if (call.method === 'GET') {
      gets += 1;
      if (gets === 2 || gets === 3) throw new TypeError('fetch failed'); // the conflict read, twice: the network is gone
      return json(200, matches ? [{ ...row }] : []);
    }
    if (!matches) return json(200, []);
    Object.assign(row, call.body as object);
    return json(200, [{ ...row }]);
  });
  await h.store.dispatch(h.api.endpoints.read.initiate(from('items').select('*').eq('id', 1) as never));
  row.version = 5; // someone else changed the row
  row.title = 'theirs';
  const running = h.write(from('items').update({ title: 'mine', version: 2 }).eq('id', 1).optimistic({ conflict: { column: 'version', strategy: 'client-wins' } }));
  const result = await running;
  expect(result.error).toBeUndefined();
  expect(row).toEqual({ id: 1, title: 'mine', version: 6 });
  // The read entry, the write (0 rows), the conflict read failing twice then answered, the write again (then the entry's refetch by its tags).
  expect(h.calls.map((call) => call.method).slice(0, 6)).toEqual(['GET', 'PATCH', 'GET', 'GET', 'GET', 'PATCH']);
  expect(h.outbox()).toEqual([]);
});
