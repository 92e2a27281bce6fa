/**
 * Infinite queries (`build.infiniteQuery`) with offsetPages / keysetPages against the real PostgREST:
 * every row exactly once and in order across pages, forwards and backwards; automatic tags per page
 * (a write refetches the pages); the end of the list; bad page params as INVALID_REQUEST errors.
 * Owns table `paged_rows` ids 1–99999 (each test its own `list` and block of ids).
 */
import { randomUUID } from 'node:crypto';
import { from } from '../../lib/postgrest';
import { keysetPages, offsetPages, type KeysetPageParam } from '../../lib/api';
import { closeSql, sql, testStack } from '../support/stack';
import { makeTestStore, settled } from '../support/store';
import { expectEventually } from '../support/eventually';

interface Row {
  id: number;
  list: string;
  title: string;
}

const stack = testStack();
afterAll(closeSql);

let nextBlock = 1;
/** A new list of `count` rows with ids `block*1000 + 10, +20, …` (gaps leave room for inserts). */
async function seedList(count: number): Promise<{ list: string; ids: number[] }> {
  const list = randomUUID();
  const base = nextBlock++ * 1000;
  const ids = Array.from({ length: count }, (_, i) => base + (i + 1) * 10);
  await sql('insert into paged_rows (id, list, title) select id, $1, $1 || id from unnest($2::bigint[]) as id', [list, ids]);
  return { list, ids };
}

function setup() {
  return makeTestStore({
    url: stack.postgrestUrl,
    apiKey: stack.anonKey,
    endpoints: (build) => ({
      byOffset: build.infiniteQuery<Row[], string, number>({
        ...offsetPages<Row, string>({ request: (list) => from<Row>('paged_rows').select('*').eq('list', list).order('id'), pageSize: 5 }),
      }),
      byKeyset: build.infiniteQuery<Row[], string, KeysetPageParam>({
        ...keysetPages<Row, string>({ request: (list) => from<Row>('paged_rows').select('id,title').eq('list', list), pageSize: 5, cursor: 'id' }),
      }),
      byKeysetDesc: build.infiniteQuery<Row[], string, KeysetPageParam>({
        ...keysetPages<Row, string>({ request: (list) => from<Row>('paged_rows').select('id').eq('list', list), pageSize: 4, cursor: 'id', ascending: false }),
      }),
      unordered: build.infiniteQuery<Row[], string, number>({
        ...offsetPages<Row, string>({ request: (list) => from<Row>('paged_rows').select('id').eq('list', list), pageSize: 5 }),
      }),
    }),
  });
}

type Setup = ReturnType<typeof setup>;
type Name = 'byOffset' | 'byKeyset' | 'byKeysetDesc' | 'unordered';
interface PagesResult {
  data?: { pages: Row[][]; pageParams: unknown[] };
  error?: unknown;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  isError: boolean;
}

/** Fetches the first page (or the one at `initialPageParam`), then pages in `direction` until there are none; returns the last result. */
async function pageThrough(t: Setup, name: Name, list: string, direction: 'forward' | 'backward', initialPageParam?: unknown): Promise<PagesResult> {
  const endpoint = t.api.endpoints[name] as unknown as { initiate: (arg: string, options?: object) => (d: unknown) => Promise<PagesResult> & { unsubscribe(): void } };
  const dispatch = t.store.dispatch as unknown as (thunk: unknown) => Promise<PagesResult> & { unsubscribe(): void };
  let result = await dispatch(endpoint.initiate(list, initialPageParam === undefined ? {} : { initialPageParam }));
  for (let guard = 0; !result.isError && (direction === 'forward' ? result.hasNextPage : result.hasPreviousPage); guard++) {
    if (guard > 50) throw new Error('paging did not end');
    const more = dispatch(endpoint.initiate(list, { direction }));
    result = await more;
    more.unsubscribe();
  }
  return result;
}

const idsOf = (result: PagesResult): number[] => result.data!.pages.flat().map((row) => Number(row.id));

describe('offsetPages', () => {
  it('pages forward: every row exactly once, in order, and the short last page ends the list', async () => {
    const { list, ids } = await seedList(23);
    const t = setup();
    const result = await pageThrough(t, 'byOffset', list, 'forward');
    expect(idsOf(result)).toEqual(ids);
    expect(result.data!.pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 3]);
    expect(result.data!.pageParams).toEqual([0, 1, 2, 3, 4]);
    expect(result.hasNextPage).toBe(false);
    expect(t.nonSerializable()).toEqual([]);
  });

  it('a full last page is followed by one empty page, then no next page', async () => {
    const { list, ids } = await seedList(10);
    const result = await pageThrough(setup(), 'byOffset', list, 'forward');
    expect(idsOf(result)).toEqual(ids);
    expect(result.data!.pages.map((page) => page.length)).toEqual([5, 5, 0]);
    expect(result.hasNextPage).toBe(false);
  });

  it('pages backward from a later page down to page 0', async () => {
    const { list, ids } = await seedList(18);
    const result = await pageThrough(setup(), 'byOffset', list, 'backward', 3);
    expect(result.data!.pageParams).toEqual([0, 1, 2, 3]);
    expect(idsOf(result)).toEqual(ids);
    expect(result.hasPreviousPage).toBe(false);
  });

  it('a write through the api refetches every cached page (each page provides its rows and LIST tags)', async () => {
    const { list, ids } = await seedList(12);
    const t = setup();
    const sub = await pageThrough(t, 'byOffset', list, 'forward');
    expect(idsOf(sub)).toEqual(ids);
    // A row on the last page provides its own tag.
    const state = t.store.getState();
    expect(t.api.util.selectInvalidatedBy(state, [{ type: 'paged_rows', id: String(ids[11]) }]).map((e) => e.endpointName)).toEqual(['byOffset']);
    // Inserted before every row: offsets shift, the refetched pages still hold each row once.
    const first = ids[0]! - 5;
    await t.store.dispatch(t.api.endpoints.write.initiate(from('paged_rows').insert({ id: first, list, title: 'new' })) as never);
    await expectEventually(() => {
      const entry = t.api.endpoints.byOffset.select(list)(t.store.getState() as never) as unknown as PagesResult;
      expect(idsOf(entry)).toEqual([first, ...ids]);
    });
    const entry = t.api.endpoints.byOffset.select(list)(t.store.getState() as never) as unknown as PagesResult;
    expect(entry.data!.pages.map((page) => page.length)).toEqual([5, 5, 3]);
    expect(entry.hasNextPage).toBe(false);
  });

  it('a bad page param or an unordered list fails the page with an INVALID_REQUEST error naming the problem', async () => {
    const { list } = await seedList(3);
    const t = setup();
    const negative = await pageThrough(t, 'byOffset', list, 'forward', -1);
    expect(negative.isError).toBe(true);
    expect(negative.error).toMatchObject({ status: 'INVALID_REQUEST', message: expect.stringContaining('offsetPages(): the page param must be a page number (an integer from 0), got -1') });
    const fraction = await pageThrough(t, 'byOffset', list, 'forward', 1.5);
    expect(fraction.error).toMatchObject({ status: 'INVALID_REQUEST', message: expect.stringContaining('got 1.5') });
    const unordered = await pageThrough(t, 'unordered', list, 'forward');
    expect(unordered.error).toMatchObject({ status: 'INVALID_REQUEST', message: expect.stringContaining('the list must be ordered') });
    await settled(t.store);
  });

  it('refuses bad options when the endpoint is declared', () => {
    const request = from('paged_rows').select('*').order('id');
    expect(() => offsetPages({ request, pageSize: 0 })).toThrow('offsetPages(): "pageSize" must be a positive integer, got 0');
    expect(() => offsetPages({ request, pageSize: 2.5 })).toThrow('"pageSize" must be a positive integer');
    expect(() => offsetPages({ request, pageSize: 5, initialPage: -2 })).toThrow('"initialPage" must be a page number');
    expect(() => offsetPages({ request: null as never, pageSize: 5 })).toThrow('"request" must be a request');
  });
});

describe('keysetPages', () => {
  it('pages forward by the cursor: every row once, in order; the last page ends the list', async () => {
    const { list, ids } = await seedList(17);
    const t = setup();
    const result = await pageThrough(t, 'byKeyset', list, 'forward');
    expect(idsOf(result)).toEqual(ids);
    expect(result.data!.pageParams).toEqual([{}, { after: ids[4] }, { after: ids[9] }, { after: ids[14] }]);
    expect(result.hasNextPage).toBe(false);
    expect(result.hasPreviousPage).toBe(false);
    expect(t.nonSerializable()).toEqual([]);
  });

  it('pages backward from a cursor: rows before it, each once, in ascending order', async () => {
    const { list, ids } = await seedList(13);
    const result = await pageThrough(setup(), 'byKeyset', list, 'backward', { before: ids[12] });
    // Everything before the last row, the short page first.
    expect(idsOf(result)).toEqual(ids.slice(0, 12));
    expect(result.data!.pages.map((page) => page.length)).toEqual([2, 5, 5]);
    expect(result.hasPreviousPage).toBe(false);
    // And forward again from there reaches the last row.
    expect(result.hasNextPage).toBe(true);
  });

  it('pages from the middle both ways and meets every row once', async () => {
    const { list, ids } = await seedList(14);
    const t = setup();
    await pageThrough(t, 'byKeyset', list, 'forward', { after: ids[6] });
    const result = await pageThrough(t, 'byKeyset', list, 'backward');
    expect(idsOf(result)).toEqual(ids);
  });

  it('a descending cursor pages from the highest id down', async () => {
    const { list, ids } = await seedList(9);
    const result = await pageThrough(setup(), 'byKeysetDesc', list, 'forward');
    expect(idsOf(result)).toEqual([...ids].reverse());
    expect(result.data!.pageParams).toEqual([{}, { after: ids[5] }, { after: ids[1] }]);
    expect(result.hasNextPage).toBe(false);
  });

  it('an insert through the api lands on its page by the cursor after the refetch', async () => {
    const { list, ids } = await seedList(10);
    const t = setup();
    const before = await pageThrough(t, 'byKeyset', list, 'forward');
    expect(idsOf(before)).toEqual(ids);
    const middle = ids[6]! + 1;
    await t.store.dispatch(t.api.endpoints.write.initiate(from('paged_rows').insert({ id: middle, list, title: 'new' })) as never);
    await expectEventually(() => {
      const entry = t.api.endpoints.byKeyset.select(list)(t.store.getState() as never) as unknown as PagesResult;
      expect(idsOf(entry)).toEqual([...ids.slice(0, 7), middle, ...ids.slice(7)]);
    });
  });

  it('a bad cursor page param fails with an INVALID_REQUEST error naming the problem', async () => {
    const { list } = await seedList(3);
    const t = setup();
    const both = await pageThrough(t, 'byKeyset', list, 'forward', { after: 1, before: 9 });
    expect(both.error).toMatchObject({ status: 'INVALID_REQUEST', message: expect.stringContaining('keysetPages(): the page param must be {}, { after: value } or { before: value }, got {"after":1,"before":9}') });
    const scalar = await pageThrough(t, 'byKeyset', list, 'forward', 5);
    expect(scalar.error).toMatchObject({ status: 'INVALID_REQUEST', message: expect.stringContaining('got 5') });
  });

  it('refuses bad options, and a list with its own order', async () => {
    const request = from('paged_rows').select('*');
    expect(() => keysetPages({ request, pageSize: 5, cursor: '' })).toThrow('keysetPages(): "cursor" must be a column name');
    expect(() => keysetPages({ request, pageSize: -1, cursor: 'id' })).toThrow('"pageSize" must be a positive integer');
    expect(() => keysetPages({ request, pageSize: 5, cursor: 'id', initialPageParam: { after: null } })).toThrow('"initialPageParam" must be');
    const ordered = keysetPages({ request: from('paged_rows').select('*').order('title'), pageSize: 5, cursor: 'id' });
    expect(() => (ordered.query({ queryArg: undefined, pageParam: {} }) as { toRequest(): unknown }).toRequest()).toThrow('the list must have no order() of its own');
    const limited = keysetPages({ request: from('paged_rows').select('*').limit(3), pageSize: 5, cursor: 'id' });
    expect(() => (limited.query({ queryArg: undefined, pageParam: {} }) as { toRequest(): unknown }).toRequest()).toThrow('no limit() or range() of its own');
  });
});
