/**
 * Optimistic writes against the real stack (PostgreSQL + PostgREST + our realtime server), with
 * two stores: a write is in the cache synchronously after dispatch and stays until the server's row
 * replaces it (every store state recorded: the row is never absent); a failing write rolls back
 * alone, with PostgREST's error, while another store's concurrent insert stays; updates and deletes
 * show at once and commit; replaying the recorded actions rebuilds the same state and sends nothing.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { from } from '../../lib/postgrest/index.js';
import { sql } from '../support/stack.js';
import { eventually } from '../support/eventually.js';
import { stackSyncStore } from '../support/stackStore.js';
import { syncStore } from '../support/store.js';
import { testStack } from '../support/stack.js';
import { createPostgrestApi } from '../../lib/api/index.js';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { WebSocket } from 'ws';
import { type OptItem, cleanupsAfterAll, tagger } from '../support/optimistic.js';

type Item = OptItem;

const cleanups = cleanupsAfterAll();

const makeStore = () => stackSyncStore(cleanups);

const newTag = tagger('opt');
const byTag = (tag: string) => from<Item>('opt_items').select('*').eq('tag', tag).order('rank').order('id');

/** A live entry of `tag` in `store`, loaded and live. */
async function liveEntry(harness: ReturnType<typeof makeStore>, tag: string) {
  const { api, store } = harness;
  const subscription = store.dispatch(api.endpoints.live.initiate(byTag(tag) as never));
  cleanups.push(() => subscription.unsubscribe());
  const rows = () => api.endpoints.live.select(byTag(tag) as never)(store.getState() as never).data as Item[] | undefined;
  await eventually(() => Array.isArray(rows()) && harness.sync.selectors.selectChannel(store.getState(), 'live:public.opt_items')?.changesLive === true, 15_000);
  return rows;
}

describe('optimistic writes', () => {
  it('an insert is in the live entry synchronously after dispatch and stays until the server row replaces it', async () => {
    const tag = newTag();
    await sql(`insert into opt_items (list_id, tag, title, rank) values (1, $1, 'first', 1)`, [tag]);
    const a = makeStore();
    const b = makeStore();
    const rowsA = await liveEntry(a, tag);
    const rowsB = await liveEntry(b, tag);
    const seen: Array<Item[] | undefined> = [];
    // Every state an app can observe: a notification whose rows did not change shows nothing new.
    const before = rowsA();
    const stop = a.store.subscribe(() => {
      if (rowsA() !== (seen.length > 0 ? seen[seen.length - 1] : before)) seen.push(rowsA());
    });
    const write = a.store.dispatch(a.api.endpoints.write.initiate(from('opt_items').insert({ list_id: 1, tag, title: 'mine', rank: 2 }).select().single().optimistic() as never));
    // Synchronously: shown, with a temporary key (not an integer, past every known one), after the first row (rank order).
    expect(rowsA()!.map((row) => row.title)).toEqual(['first', 'mine']);
    expect(Number.isInteger(rowsA()![1]!.id)).toBe(false);
    expect(rowsA()![1]!.id).toBeGreaterThan(rowsA()![0]!.id);
    expect(a.sync.selectors.selectSync(a.store.getState()).writes).toEqual([expect.objectContaining({ table: 'public.opt_items', status: 'pending', error: null })]);
    const result = (await write.unwrap()) as Item;
    expect(result).toEqual(expect.objectContaining({ title: 'mine', tag }));
    expect(result.id).toBeGreaterThan(0);
    await eventually(() => rowsB()?.some((row) => row.id === result.id) === true, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the echo reaches A too
    stop();
    expect(rowsA()!.map((row) => [row.id, row.title])).toEqual([[rowsA()![0]!.id, 'first'], [result.id, 'mine']]);
    // Every state from the dispatch on showed the row, once: never absent, never doubled.
    expect(seen.length).toBeGreaterThan(1);
    for (const rows of seen) expect(rows!.filter((row) => row.title === 'mine')).toHaveLength(1);
    expect(a.sync.selectors.selectSync(a.store.getState()).writes).toEqual([]);
  });

  it('a failing write (FK violation) rolls back alone, with the server error, while another store\'s concurrent insert stays', async () => {
    const tag = newTag();
    const a = makeStore();
    const b = makeStore();
    const rowsA = await liveEntry(a, tag);
    const bad = a.store.dispatch(a.api.endpoints.write.initiate(from('opt_items').insert({ list_id: 999, tag, title: 'bad', rank: 1 }).optimistic() as never));
    const good = a.store.dispatch(a.api.endpoints.write.initiate(from('opt_items').insert({ list_id: 1, tag, title: 'good', rank: 3 }).optimistic() as never));
    expect(rowsA()!.map((row) => row.title)).toEqual(['bad', 'good']);
    // Another store inserts meanwhile; its row reaches A as a live change.
    await b.store.dispatch(b.api.endpoints.write.initiate(from('opt_items').insert({ list_id: 2, tag, title: 'theirs', rank: 2 }) as never)).unwrap();
    const failure = await bad.unwrap().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toEqual(expect.objectContaining({ status: 409, code: '23503' }));
    await good.unwrap();
    await eventually(() => rowsA()!.map((row) => row.title).join() === 'theirs,good', 15_000);
    const writes = a.sync.selectors.selectSync(a.store.getState()).writes;
    expect(writes).toEqual([expect.objectContaining({ status: 'rolledBack', error: expect.objectContaining({ code: '23503' }) })]);
    expect((await sql(`select title from opt_items where tag = $1 order by rank`, [tag])).map((row) => row.title)).toEqual(['theirs', 'good']);
  });

  it('an update and a delete show at once and commit; the caller still gets what it asked for (no rows)', async () => {
    const tag = newTag();
    await sql(`insert into opt_items (list_id, tag, title, rank) values (1, $1, 'a', 1), (1, $1, 'b', 2), (1, $1, 'c', 3)`, [tag]);
    const a = makeStore();
    const rowsA = await liveEntry(a, tag);
    const [first, second] = rowsA()!;
    const update = a.store.dispatch(a.api.endpoints.write.initiate(from('opt_items').update({ rank: 9 }).eq('id', first!.id).optimistic() as never));
    const remove = a.store.dispatch(a.api.endpoints.write.initiate(from('opt_items').delete().eq('id', second!.id).optimistic() as never));
    expect(rowsA()!.map((row) => row.title)).toEqual(['c', 'a']);
    expect(await update.unwrap()).toBeNull();
    expect(await remove.unwrap()).toBeNull();
    expect(rowsA()!.map((row) => [row.title, row.rank])).toEqual([['c', 3], ['a', 9]]);
    expect(a.sync.selectors.selectSync(a.store.getState()).writes).toEqual([]);
    expect((await sql(`select title from opt_items where tag = $1 order by rank`, [tag])).map((row) => row.title)).toEqual(['c', 'a']);
  });

  it('a plain read entry of the table shows the write too, and a refetch under a pending write keeps it on top', async () => {
    const tag = newTag();
    await sql(`insert into opt_items (list_id, tag, title, rank) values (2, $1, 'x', 1)`, [tag]);
    const a = makeStore();
    const read = a.store.dispatch(a.api.endpoints.read.initiate(byTag(tag) as never));
    cleanups.push(() => read.unsubscribe());
    await read;
    const rows = () => a.api.endpoints.read.select(byTag(tag) as never)(a.store.getState() as never).data as Item[];
    const write = a.store.dispatch(a.api.endpoints.write.initiate(from('opt_items').insert({ list_id: 2, tag, title: 'y', rank: 0 }).select().optimistic() as never));
    expect(rows().map((row) => row.title)).toEqual(['y', 'x']);
    // A refetch that lands before the write's response: server rows beneath, the write still on top.
    await a.store.dispatch(a.api.endpoints.read.initiate(byTag(tag) as never, { forceRefetch: true }));
    expect(rows().filter((row) => row.title === 'y')).toHaveLength(1);
    await write.unwrap();
    await eventually(() => rows().map((row) => row.title).join() === 'y,x' && rows()[0]!.id > 0, 15_000);
  });

  it('a uuid key the body lacks is made on the client and sent: the server row keeps the key shown (live and plain entries)', async () => {
    const tag = newTag();
    await sql(`insert into opt_notes (tag, title, rank) values ($1, 'first', 1)`, [tag]);
    const a = makeStore();
    const notes = from('opt_notes').select('*').eq('tag', tag).order('rank').order('id');
    const live = a.store.dispatch(a.api.endpoints.live.initiate(notes as never));
    cleanups.push(() => live.unsubscribe());
    const read = a.store.dispatch(a.api.endpoints.read.initiate(from('opt_notes').select('*').eq('tag', tag).order('rank') as never));
    cleanups.push(() => read.unsubscribe());
    await read;
    const liveRows = () => a.api.endpoints.live.select(notes as never)(a.store.getState() as never).data as Array<{ id: string; title: string }> | undefined;
    await eventually(() => Array.isArray(liveRows()) && a.sync.selectors.selectChannel(a.store.getState(), 'live:public.opt_notes')?.changesLive === true, 15_000);
    const write = a.store.dispatch(a.api.endpoints.write.initiate(from('opt_notes').insert({ tag, title: 'second', rank: 2 }).optimistic() as never));
    const shown = liveRows()!.find((row) => row.title === 'second')!;
    expect(shown.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const readRows = a.api.endpoints.read.select(from('opt_notes').select('*').eq('tag', tag).order('rank') as never)(a.store.getState() as never).data as Array<{ id: string }>;
    expect(readRows.map((row) => row.id)).toContain(shown.id);
    await write.unwrap();
    expect(await sql(`select id from opt_notes where tag = $1 and title = 'second'`, [tag])).toEqual([{ id: shown.id }]);
    expect(liveRows()!.find((row) => row.title === 'second')!.id).toBe(shown.id);
  });

  it('a live top-N window shows an optimistic delete at once, the next row filled in from its spare rows', async () => {
    const tag = newTag();
    await sql(`insert into opt_items (list_id, tag, title, rank) select 1, $1, 'r' || n, n from generate_series(1, 6) n`, [tag]);
    const a = makeStore();
    const window = from<Item>('opt_items').select('*').eq('tag', tag).order('rank').order('id').limit(3);
    const live = a.store.dispatch(a.api.endpoints.live.initiate(window as never));
    cleanups.push(() => live.unsubscribe());
    const rows = () => a.api.endpoints.live.select(window as never)(a.store.getState() as never).data as Item[] | undefined;
    await eventually(() => rows()?.length === 3 && a.sync.selectors.selectChannel(a.store.getState(), 'live:public.opt_items')?.changesLive === true, 15_000);
    const [first] = rows()!;
    const states: string[] = [rows()!.map((row) => row.title).join()];
    const stop = a.store.subscribe(() => {
      const shown = rows()!.map((row) => row.title).join();
      if (shown !== states[states.length - 1]) states.push(shown);
    });
    const write = a.store.dispatch(a.api.endpoints.write.initiate(from('opt_items').delete().eq('id', first!.id).optimistic() as never));
    expect(rows()!.map((row) => row.title)).toEqual(['r2', 'r3', 'r4']);
    await write.unwrap();
    await eventually(() => a.sync.selectors.selectWrites(a.store.getState()).length === 0, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the delete's echo too
    stop();
    // The deleted row never came back, not even between the response and the echo.
    expect(states).toEqual(['r1,r2,r3', 'r2,r3,r4']);
    expect(rows()!.map((row) => row.title)).toEqual(['r2', 'r3', 'r4']);
  });

  it('a declared mutation whose query returns an optimistic builder is optimistic with no other code', async () => {
    const tag = newTag();
    await sql(`insert into opt_items (list_id, tag, title, rank) values (1, $1, 'first', 1)`, [tag]);
    const stack = testStack();
    const api = createPostgrestApi({
      url: stack.postgrestUrl,
      apiKey: stack.anonKey,
      endpoints: (build) => ({
        addItem: build.mutation<Item, { tag: string; title: string }>({ query: ({ tag: itemTag, title }) => from('opt_items').insert({ list_id: 1, tag: itemTag, title, rank: 5 }).select().single().optimistic() }),
      }),
    });
    const sync = createSyncMiddleware({ api, url: stack.realtimeUrl, apiKey: stack.anonKey, WebSocket: WebSocket as never, environment: false, onWarning: () => undefined });
    const { store } = syncStore(api, sync, cleanups);
    const live = store.dispatch(api.endpoints.live.initiate(byTag(tag) as never));
    cleanups.push(() => live.unsubscribe());
    const rows = () => api.endpoints.live.select(byTag(tag) as never)(store.getState() as never).data as Item[] | undefined;
    await eventually(() => Array.isArray(rows()) && sync.selectors.selectChannel(store.getState(), 'live:public.opt_items')?.changesLive === true, 15_000);
    const write = store.dispatch(api.endpoints.addItem.initiate({ tag, title: 'declared' }));
    expect(rows()!.map((row) => row.title)).toEqual(['first', 'declared']);
    const saved = await write.unwrap();
    expect(saved).toEqual(expect.objectContaining({ title: 'declared', tag }));
    expect(rows()!.map((row) => [row.id, row.title])).toEqual([[rows()![0]!.id, 'first'], [saved.id, 'declared']]);
  });

  it('replaying the recorded actions into a fresh store rebuilds the same entries and sends nothing', async () => {
    const tag = newTag();
    const a = makeStore();
    const rowsA = await liveEntry(a, tag);
    await a.store.dispatch(a.api.endpoints.write.initiate(from('opt_items').insert({ list_id: 1, tag, title: 'kept', rank: 1 }).optimistic() as never)).unwrap();
    await a.store.dispatch(a.api.endpoints.write.initiate(from('opt_items').insert({ list_id: 999, tag, title: 'lost', rank: 2 }).optimistic() as never)).unwrap().catch(() => undefined);
    const recorded = JSON.parse(JSON.stringify(a.recorded)) as UnknownAction[];
    expect(recorded.map((action) => action.type)).toEqual(expect.arrayContaining(['sync/optimistic/applied', 'sync/optimistic/committed', 'sync/optimistic/rolledBack']));
    const fresh = makeStore();
    const sent: string[] = [];
    const fetchSpy = globalThis.fetch;
    globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
      sent.push(String(args[0]));
      return fetchSpy(...args);
    }) as typeof fetch;
    try {
      for (const action of recorded) fresh.store.dispatch(action);
    } finally {
      globalThis.fetch = fetchSpy;
    }
    expect(sent).toEqual([]);
    const replayed = fresh.api.endpoints.live.select(byTag(tag) as never)(fresh.store.getState() as never).data as Item[];
    expect(replayed).toEqual(rowsA());
    expect(fresh.sync.selectors.selectSync(fresh.store.getState()).writes).toEqual(a.sync.selectors.selectSync(a.store.getState()).writes);
  });
});
