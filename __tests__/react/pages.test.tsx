/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 */
// The infinite query hooks RTK's React module generates for keysetPages / offsetPages endpoints:
// fetchNextPage, fetchPreviousPage, hasNextPage against the real PostgREST. Owns `paged_rows` ids 100000–199999.
import { configureStore } from '@reduxjs/toolkit';
import { act, render, screen, waitFor } from '@testing-library/react';
import { randomUUID } from 'node:crypto';
import { Provider } from 'react-redux';
import { keysetPages, offsetPages, type KeysetPageParam } from '../../lib/api';
import { from } from '../../lib/postgrest';
import { createPostgrestApi } from '../../lib/react';
import { closeSql, sql, testStack } from '../support/stack';

/** The table's row (filters name its columns, selected or not). */
interface Row {
  id: number;
  list: string;
  title: string;
}

const stack = testStack();
const list = randomUUID();
const ids = Array.from({ length: 7 }, (_, i) => 100000 + (i + 1) * 10);

beforeAll(async () => {
  await sql('insert into paged_rows (id, list, title) select id, $1, $1 || id from unnest($2::bigint[]) as id', [list, ids]);
});
afterAll(closeSql);

function setup() {
  const api = createPostgrestApi({
    url: stack.postgrestUrl,
    apiKey: stack.anonKey,
    endpoints: (build) => ({
      rows: build.infiniteQuery<Row[], string, KeysetPageParam>({
        ...keysetPages<Row, string>({ request: (l) => from<Row>('paged_rows').select('id,title').eq('list', l), pageSize: 3, cursor: 'id' }),
      }),
      numbered: build.infiniteQuery<Row[], string, number>({
        ...offsetPages<Row, string>({ request: (l) => from<Row>('paged_rows').select('id,title').eq('list', l).order('id'), pageSize: 3, initialPage: 1 }),
      }),
    }),
  });
  const store = configureStore({ reducer: { [api.reducerPath]: api.reducer }, middleware: (g) => g().concat(api.middleware) });
  return { api, store };
}

describe('infinite query hooks', () => {
  it('useRowsInfiniteQuery loads pages with fetchNextPage until hasNextPage is false', async () => {
    const { api, store } = setup();
    let next: (() => unknown) | undefined;
    function Rows() {
      const { data, hasNextPage, fetchNextPage, isFetching } = api.useRowsInfiniteQuery(list);
      next = fetchNextPage;
      const rows = data?.pages.flat() ?? [];
      return <p data-testid="rows">{`${rows.map((r) => r.id).join(',')}|${hasNextPage ? 'more' : 'end'}|${isFetching ? 'busy' : 'idle'}`}</p>;
    }
    render(<Provider store={store}><Rows /></Provider>);
    const shows = (text: string) => waitFor(() => expect(screen.getByTestId('rows').textContent).toBe(text));
    await shows(`${ids.slice(0, 3).join(',')}|more|idle`);
    await act(async () => { await next!(); });
    await shows(`${ids.slice(0, 6).join(',')}|more|idle`);
    await act(async () => { await next!(); });
    await shows(`${ids.join(',')}|end|idle`);
  });

  it('useNumberedInfiniteQuery starts at a later page and fetchPreviousPage prepends the earlier one', async () => {
    const { api, store } = setup();
    let previous: (() => unknown) | undefined;
    function Rows() {
      const { data, hasPreviousPage, fetchPreviousPage } = api.useNumberedInfiniteQuery(list);
      previous = fetchPreviousPage;
      return <p data-testid="rows">{`${(data?.pages.flat() ?? []).map((r) => r.id).join(',')}|${hasPreviousPage ? 'earlier' : 'first'}`}</p>;
    }
    render(<Provider store={store}><Rows /></Provider>);
    const shows = (text: string) => waitFor(() => expect(screen.getByTestId('rows').textContent).toBe(text));
    await shows(`${ids.slice(3, 6).join(',')}|earlier`);
    await act(async () => { await previous!(); });
    await shows(`${ids.slice(0, 6).join(',')}|first`);
  });
});
