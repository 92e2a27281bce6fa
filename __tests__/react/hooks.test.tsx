/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 */
import { configureStore, type Middleware, type UnknownAction } from '@reduxjs/toolkit';
import { act, render, screen, waitFor } from '@testing-library/react';
import { randomUUID } from 'node:crypto';
import { useState } from 'react';
import { Provider } from 'react-redux';
import { from } from '../../lib/postgrest';
import { createPostgrestApi } from '../../lib/react';
import { closeSql, sql, testStack } from '../support/stack';

const stack = testStack();
const author = randomUUID();

interface Post {
  id: number;
  title: string;
  author_id?: string;
}

beforeAll(async () => {
  await sql('insert into authors (id, name) values ($1, $2)', [author, `hooks-${author}`]);
  await sql("insert into posts (author_id, title, published) values ($1, 'first', true), ($1, 'second', true)", [author]);
});
afterAll(closeSql);

function setup() {
  const api = createPostgrestApi({
    url: stack.postgrestUrl,
    apiKey: stack.anonKey,
    getToken: () => stack.signToken({ sub: author }),
    endpoints: (build) => ({
      titles: build.query<Post[], string>({ query: (id) => from<Post>('posts').select('id,title').eq('author_id', id).order('id') }),
    }),
  });
  const fetches: string[] = [];
  const counter: Middleware = () => (next) => (action) => {
    const a = action as UnknownAction & { meta?: { arg?: { queryCacheKey?: string } } };
    if (a.type === `${api.reducerPath}/executeQuery/pending`) fetches.push(a.meta!.arg!.queryCacheKey!);
    return next(action);
  };
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer },
    middleware: (g) => g().concat(api.middleware, counter),
  });
  return { api, store, fetches };
}

describe('rtk-postgrest/react hooks', () => {
  it('useReadQuery with an inline builder fetches once across re-renders, and useWriteMutation refreshes it', async () => {
    const { api, store, fetches } = setup();
    // Count subscriptions the hook starts: an unstable arg would start one per render.
    const endpoint = api.endpoints.read as unknown as { initiate: (...args: unknown[]) => unknown };
    const initiate = endpoint.initiate;
    let initiated = 0;
    endpoint.initiate = (...args) => { initiated++; return initiate(...args); };
    function Posts() {
      const [renders, setRenders] = useState(0);
      // A new builder object on every render: the hook must still see the same query.
      const { data } = api.useReadQuery(from<Post>('posts').select('id,title').eq('author_id', author).order('id'));
      const [write, { isLoading }] = api.useWriteMutation();
      return (
        <div>
          <ul>{data?.map((p) => <li key={p.id}>{p.title}</li>)}</ul>
          <button onClick={() => setRenders(renders + 1)}>rerender {renders}</button>
          <button disabled={isLoading} onClick={() => write(from('posts').insert({ author_id: author, title: 'third', published: true }))}>add</button>
        </div>
      );
    }
    render(<Provider store={store}><Posts /></Provider>);
    await waitFor(() => expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['first', 'second']));
    for (let i = 0; i < 3; i++) await act(async () => screen.getByText(/^rerender/).click());
    expect(screen.getByText('rerender 3')).toBeTruthy();
    expect(fetches).toHaveLength(1);
    expect(initiated).toBe(1);

    await act(async () => screen.getByText('add').click());
    await waitFor(() => expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['first', 'second', 'third']));
    expect(fetches).toHaveLength(2);
  });

  it('declared endpoints get generated hooks', async () => {
    const { api, store } = setup();
    function Titles() {
      const { data, isSuccess } = api.useTitlesQuery(author);
      return <p>{isSuccess ? data.map((p) => p.title).join('|') : 'loading'}</p>;
    }
    render(<Provider store={store}><Titles /></Provider>);
    await waitFor(() => expect(screen.getByText(/^first\|second/)).toBeTruthy());
  });

  it('the core entry has no hooks', async () => {
    const core = await import('../../lib/api');
    const api = core.createPostgrestApi({ url: stack.postgrestUrl }) as unknown as Record<string, unknown>;
    expect(api.useReadQuery).toBeUndefined();
    expect(typeof api.endpoints).toBe('object');
  });
});
