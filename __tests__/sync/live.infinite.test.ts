/**
 * Live infinite lists against the real stack (PostgreSQL, PostgREST, our realtime server): a
 * `build.liveInfiniteQuery` with keysetPages keeps its loaded pages equal to the database, patched
 * from row changes without refetching (rows enter and leave pages by order; a row past the loaded
 * range waits for fetchNextPage, which brings it once); offset pages (marked live with the sync
 * option `liveEndpoints`) are refetched instead; random programs of writes converge to a fresh read
 * of the loaded range. Owns table `live_pages` (each test its own `list`).
 */
import { findNonSerializableValue } from '@reduxjs/toolkit';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { createPostgrestApi, keysetPages, offsetPages, type KeysetPageParam } from '../../lib/api/index.js';
import { from } from '../../lib/postgrest/index.js';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { eventually, expectEventually } from '../support/eventually.js';
import { closeSql, sql, testStack } from '../support/stack.js';
import { syncStore } from '../support/store.js';

interface Row {
  id: number;
  list: string;
  rank: number;
  title: string;
}
type Pages = { pages: Row[][]; pageParams: unknown[] };

const cleanups: Array<() => void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await closeSql();
});

let nextId = 1;
/** Ids unique in this run (the table is shared by the test files that own it, each with its own list). */
const newId = () => process.pid * 100_000 + nextId++;

async function seed(list: string, ranks: number[]): Promise<Map<number, number>> {
  const ids = new Map<number, number>();
  for (const rank of ranks) {
    const id = newId();
    ids.set(rank, id);
    await sql('insert into live_pages (id, list, rank, title) values ($1, $2, $3, $4)', [id, list, rank, `r${rank}`]);
  }
  return ids;
}

function makeStore() {
  const stack = testStack();
  /** GETs of live_pages PostgREST answered (page fetches, refetches included). */
  const gets: string[] = [];
  const fetchFn = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    if ((init?.method ?? 'GET') === 'GET' && url.includes('/live_pages')) gets.push(url);
    return fetch(input, init);
  }) as typeof fetch;
  const api = createPostgrestApi({
    url: stack.postgrestUrl,
    apiKey: stack.anonKey,
    fetchFn,
    endpoints: (build) => ({
      feed: build.liveInfiniteQuery<Row[], string, KeysetPageParam>({
        ...keysetPages<Row, string>({ request: (list) => from<Row>('live_pages').select('id,rank,title').eq('list', list), pageSize: 4, cursor: 'rank' }),
      }),
      newest: build.liveInfiniteQuery<Row[], string, KeysetPageParam>({
        ...keysetPages<Row, string>({ request: (list) => from<Row>('live_pages').select('id,rank').eq('list', list).neq('title', 'hidden'), pageSize: 3, cursor: 'rank', ascending: false }),
      }),
      numbered: build.infiniteQuery<Row[], string, number>({
        ...offsetPages<Row, string>({ request: (list) => from<Row>('live_pages').select('id,rank').eq('list', list).order('rank'), pageSize: 3 }),
      }),
    }),
  });
  const sync = createSyncMiddleware({ api, liveEndpoints: ['numbered'], url: stack.realtimeUrl, apiKey: stack.anonKey, WebSocket: WebSocket as never, environment: false, onWarning: () => undefined });
  const { store, actions } = syncStore(api, sync, cleanups);
  type Name = 'feed' | 'newest' | 'numbered';
  const endpoint = (name: Name) => api.endpoints[name] as unknown as { initiate: (arg: string, options?: object) => (dispatch: unknown) => Promise<{ isError: boolean; error?: unknown }> & { unsubscribe(): void }; select: (arg: string) => (state: unknown) => { data?: Pages; status: string; hasNextPage?: boolean } };
  const dispatch = store.dispatch as unknown as <T>(thunk: unknown) => T;
  return {
    api,
    sync,
    store,
    actions,
    gets,
    /** Subscribes to `name`'s first page, and fetches `more` next pages. */
    async open(name: Name, list: string, more = 0) {
      const subscription = dispatch<Promise<unknown> & { unsubscribe(): void }>(endpoint(name).initiate(list));
      cleanups.push(() => subscription.unsubscribe());
      await subscription;
      for (let page = 0; page < more; page++) await this.next(name, list);
    },
    async next(name: Name, list: string) {
      const result = await dispatch<Promise<{ isError: boolean; error?: unknown }>>(endpoint(name).initiate(list, { direction: 'forward' }));
      expect(result.error).toBeUndefined();
    },
    data: (name: Name, list: string) => endpoint(name).select(list)(store.getState()).data,
    ranks: (name: Name, list: string) => endpoint(name).select(list)(store.getState()).data?.pages.map((page) => page.map((row) => row.rank)),
    /** How many times RTK started a fetch of `name` (first page, next pages and refetches). */
    fetches: (name: Name) => actions.filter((action) => action.type === `${api.reducerPath}/executeQuery/pending` && (action.meta as { arg: { endpointName: string } }).arg.endpointName === name).length,
  };
}

/** The live_pages rows of `list` as PostgREST returns them now, in `rank` order (optionally descending). */
async function fresh(list: string, columns: string, descending = false): Promise<Row[]> {
  const stack = testStack();
  const response = await fetch(`${stack.postgrestUrl}/live_pages?select=${columns}&list=eq.${list}&order=rank.${descending ? 'desc' : 'asc'}`, { headers: { apikey: stack.anonKey, Authorization: `Bearer ${stack.anonKey}` } });
  return (await response.json()) as Row[];
}

describe('live infinite lists (keysetPages)', () => {
  it('patch the loaded pages by order without refetching; a row past the loaded range comes once, with fetchNextPage', async () => {
    const list = randomUUID();
    const ids = await seed(list, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    const t = makeStore();
    await t.open('feed', list, 1);
    expect(t.ranks('feed', list)).toEqual([[10, 20, 30, 40], [50, 60, 70, 80]]);
    const fetched = t.gets.length;
    expect(fetched).toBe(2);
    // Subscribe first, then fetch: the first page's fetch was gated until the table's changes were live.
    const startedAt = t.actions.findIndex((action) => action.type === 'rtkPostgrest/liveFetchStarting');
    const liveAt = t.actions.findIndex((action) => action.type === `${t.sync.reducerPath}/changesLive`);
    const fulfilledAt = t.actions.findIndex((action) => action.type === `${t.api.reducerPath}/executeQuery/fulfilled`);
    expect(startedAt).toBeGreaterThanOrEqual(0);
    expect(liveAt).toBeGreaterThan(startedAt);
    expect(fulfilledAt).toBeGreaterThan(liveAt);

    // An insert in the middle of page 1 appears there, in order.
    await sql('insert into live_pages (id, list, rank, title) values ($1, $2, 25, $3)', [newId(), list, 'r25']);
    await expectEventually(() => expect(t.ranks('feed', list)).toEqual([[10, 20, 25, 30, 40], [50, 60, 70, 80]]), 15_000);
    // The row as selected (id, rank, title), not the whole table row.
    expect(t.data('feed', list)!.pages[0]![2]).toEqual({ id: expect.any(Number), rank: 25, title: 'r25' });
    // A delete leaves.
    await sql('delete from live_pages where id = $1', [ids.get(30)]);
    await expectEventually(() => expect(t.ranks('feed', list)).toEqual([[10, 20, 25, 40], [50, 60, 70, 80]]), 15_000);
    // An update moving a row's cursor from page 1 into page 2 moves it.
    await sql('update live_pages set rank = 65 where id = $1', [ids.get(20)]);
    await expectEventually(() => expect(t.ranks('feed', list)).toEqual([[10, 25, 40], [50, 60, 65, 70, 80]]), 15_000);
    // An update that makes a row stop matching the list's filter removes it.
    await sql('update live_pages set list = $2 where id = $1', [ids.get(50), `${list}-elsewhere`]);
    await expectEventually(() => expect(t.ranks('feed', list)).toEqual([[10, 25, 40], [60, 65, 70, 80]]), 15_000);
    // A row past the last loaded one (more pages may follow): not shown. The stream is ordered, so
    // once the row inserted after it shows, it has been seen and left out.
    await sql('insert into live_pages (id, list, rank, title) values ($1, $2, 95, $3)', [newId(), list, 'r95']);
    await sql('insert into live_pages (id, list, rank, title) values ($1, $2, 5, $3)', [newId(), list, 'r5']);
    await expectEventually(() => expect(t.ranks('feed', list)).toEqual([[5, 10, 25, 40], [60, 65, 70, 80]]), 15_000);
    expect(t.gets.length).toBe(fetched);
    expect(t.fetches('feed')).toBe(2);

    // The next page (after the last loaded row, 80) brings it, once.
    await t.next('feed', list);
    expect(t.ranks('feed', list)).toEqual([[5, 10, 25, 40], [60, 65, 70, 80], [90, 95, 100]]);
    expect(t.gets.length).toBe(fetched + 1);
    // The list's end is loaded: a row past it now joins the last page.
    await sql('insert into live_pages (id, list, rank, title) values ($1, $2, 120, $3)', [newId(), list, 'r120']);
    await expectEventually(() => expect(t.ranks('feed', list)).toEqual([[5, 10, 25, 40], [60, 65, 70, 80], [90, 95, 100, 120]]), 15_000);
    expect(t.data('feed', list)!.pages.flat()).toEqual(await fresh(list, 'id,rank,title'));
    expect(t.gets.length).toBe(fetched + 1);
    for (const action of t.actions) expect(findNonSerializableValue(action)).toBe(false);
    expect(findNonSerializableValue(t.store.getState())).toBe(false);
  }, 60_000);

  it('a write through the api does not refetch a live infinite entry (its change arrives anyway)', async () => {
    const list = randomUUID();
    await seed(list, [1, 2, 3]);
    const t = makeStore();
    await t.open('feed', list);
    expect(t.ranks('feed', list)).toEqual([[1, 2, 3]]);
    await t.store.dispatch(t.api.endpoints.write.initiate(from('live_pages').insert({ id: newId(), list, rank: 4, title: 'r4' }) as never) as never);
    // The first page was short (the end of the list): the new row joins it.
    await expectEventually(() => expect(t.ranks('feed', list)).toEqual([[1, 2, 3, 4]]), 15_000);
    expect(t.fetches('feed')).toBe(1);
  }, 30_000);

  it('a descending list with a filter: rows enter and leave by order, and a change that empties what is known past an open end refetches', async () => {
    const list = randomUUID();
    const ids = await seed(list, [1, 2, 3, 4, 5, 6, 7, 8]);
    const t = makeStore();
    await t.open('newest', list, 1);
    expect(t.ranks('newest', list)).toEqual([[8, 7, 6], [5, 4, 3]]);
    await sql('insert into live_pages (id, list, rank, title) values ($1, $2, 9, $3)', [newId(), list, 'new']);
    await expectEventually(() => expect(t.ranks('newest', list)).toEqual([[9, 8, 7, 6], [5, 4, 3]]), 15_000);
    // Hidden by the filter (title <> 'hidden'): it leaves.
    await sql(`update live_pages set title = 'hidden' where id = $1`, [ids.get(7)]);
    await expectEventually(() => expect(t.ranks('newest', list)).toEqual([[9, 8, 6], [5, 4, 3]]), 15_000);
    expect(t.fetches('newest')).toBe(2);
    // The last page (full, so more may follow) loses a row: the page is short and would read as the
    // list's end while rows 2 and 1 follow: refetched (every loaded page, from the first one).
    await sql('delete from live_pages where id = $1', [ids.get(4)]);
    await expectEventually(() => expect(t.ranks('newest', list)).toEqual([[9, 8, 6], [5, 3, 2]]), 15_000);
    expect(t.fetches('newest')).toBe(3);
    expect(t.data('newest', list)!.pages.flat()).toEqual((await fresh(list, 'id,rank', true)).filter((row) => row.rank !== 7).slice(0, 6));
  }, 30_000);
});

describe('live infinite lists (offsetPages, marked live by the sync option)', () => {
  it('are refetched when a change can touch them (an insert shifts every later offset), not for rows of other lists', async () => {
    const list = randomUUID();
    await seed(list, [10, 20, 30, 40, 50]);
    const t = makeStore();
    await t.open('numbered', list, 1);
    expect(t.ranks('numbered', list)).toEqual([[10, 20, 30], [40, 50]]);
    expect(t.fetches('numbered')).toBe(2);
    // Another list's insert can't touch it; the next change (this list's) shows that it was seen.
    await sql('insert into live_pages (id, list, rank) values ($1, $2, 15)', [newId(), `${list}-other`]);
    await sql('insert into live_pages (id, list, rank) values ($1, $2, 5)', [newId(), list]);
    await expectEventually(() => expect(t.ranks('numbered', list)).toEqual([[5, 10, 20], [30, 40, 50]]), 15_000);
    expect(t.fetches('numbered')).toBe(3);
  }, 30_000);
});

describe('live infinite lists converge', () => {
  it.each([1, 2, 3])('after random inserts, updates and deletes, the loaded pages equal a fresh read of their range (seed %i)', async (seed_) => {
    const list = randomUUID();
    const initial = Array.from({ length: 14 }, (_, index) => (index + 1) * 10);
    await seed(list, initial);
    const t = makeStore();
    await t.open('feed', list, 1);
    const before = t.fetches('feed');
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), rank: fc.integer({ min: 0, max: 160 }) }),
      fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), rank: fc.integer({ min: 0, max: 160 }), title: fc.constantFrom('a', 'b') }),
      fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
    );
    const program = fc.sample(fc.array(operation, { minLength: 30, maxLength: 50 }), { numRuns: 1, seed: seed_ })[0]!;
    const present = async () => (await sql<{ id: string }>('select id from live_pages where list = $1 order by id', [list])).map((row) => row.id);
    const write = async (step: (typeof program)[number]) => {
      if (step.kind === 'insert') return sql('insert into live_pages (id, list, rank, title) values ($1, $2, $3, $4) on conflict do nothing', [newId(), list, step.rank, 'new']);
      const rows = await present();
      if (rows.length === 0) return;
      const id = rows[step.pick % rows.length];
      if (step.kind === 'update') return sql('update live_pages set rank = $2, title = $3 where id = $1 and not exists (select 1 from live_pages where list = $4 and rank = $2)', [id, step.rank, step.title, list]);
      if (step.kind === 'leave') return sql('update live_pages set list = $2 where id = $1', [id, `${list}-gone`]);
      return sql('delete from live_pages where id = $1', [id]);
    };
    // Writes in small concurrent groups (their changes arrive together, one burst), and a next page
    // fetched while they go on (the changes during it are held and applied on top of every page).
    let paging: Promise<void> | undefined;
    for (let at = 0; at < program.length; at += 3) {
      if (at === 15) paging = t.next('feed', list);
      // Concurrent writers may collide on (list, rank) or on a row another one just deleted: such a write is skipped.
      await Promise.all(program.slice(at, at + 3).map((step) => write(step).catch(() => undefined)));
    }
    await paging;
    // The loaded range: from the list's start (the first page param is {}) to the last loaded row,
    // or to the end when there is no next page.
    const expected = async () => {
      const state = (t.api.endpoints.feed as unknown as { select: (arg: string) => (state: unknown) => { data?: Pages; hasNextPage?: boolean } }).select(list)(t.store.getState());
      const rows = await fresh(list, 'id,rank,title');
      const last = state.data?.pages.flat().at(-1)?.rank;
      return state.hasNextPage && last !== undefined ? rows.filter((row) => row.rank <= last) : rows;
    };
    let wanted: Row[] = [];
    const converged = await eventually(async () => {
      wanted = await expected();
      return JSON.stringify(t.data('feed', list)?.pages.flat()) === JSON.stringify(wanted);
    }, 20_000);
    expect({ converged, rows: t.data('feed', list)?.pages.flat() }).toEqual({ converged: true, rows: wanted });
    // Most changes were patched: a refetch (of every loaded page) only where a page end stopped
    // looking open. Fetches with a direction are next pages.
    const refetches = t.actions.filter((action) => action.type === `${t.api.reducerPath}/executeQuery/pending` && (action.meta as { arg: { endpointName: string } }).arg.endpointName === 'feed' && (action.meta as { direction?: string }).direction === undefined).length - 1;
    expect(refetches).toBeLessThan(program.length / 4);
    // Every page is in order, and paging on brings each remaining row exactly once.
    for (let guard = 0; (t.api.endpoints.feed as unknown as { select: (arg: string) => (state: unknown) => { hasNextPage?: boolean } }).select(list)(t.store.getState()).hasNextPage; guard++) {
      if (guard > 20) throw new Error('paging did not end');
      await t.next('feed', list);
    }
    expect(t.data('feed', list)!.pages.flat()).toEqual(await fresh(list, 'id,rank,title'));
    console.log(`seed ${seed_}: ${program.length} writes, ${refetches} refetches, ${t.fetches('feed') - before - refetches} next pages`);
  }, 60_000);
});
