/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 */
// The guide's useQuery / useMutation / useQueryClient on the one RTK cache: option semantics
// against an in-memory PostgREST (fake timers where time matters). The real stack runs the guide's
// examples (__tests__/guide).
import { jest } from '@jest/globals';
import { configureStore } from '@reduxjs/toolkit';
import { act, renderHook, waitFor } from '@testing-library/react';
import { createElement, type ReactNode } from 'react';
import { Provider } from 'react-redux';
import { createPostgrestApi, QueryClientProvider, createQueryHooks, useMutation, useQuery, useQueryClient } from '../../lib/react';
import { from } from '../../lib/postgrest';
import { actionRecorder } from '../support/store';
import { fakePostgrest, type FakePost } from '../api/queryClient/fakePostgrest';

function setup() {
  const server = fakePostgrest();
  const api = createPostgrestApi({ url: 'http://postgrest.test', fetchFn: server.fetchFn, retry: false });
  const { middleware, actions } = actionRecorder();
  const store = configureStore({ reducer: { [api.reducerPath]: api.reducer }, middleware: (d) => d().concat(api.middleware, middleware) });
  const wrapper = ({ children }: { children?: ReactNode }) => createElement(Provider, { store, children: undefined }, createElement(QueryClientProvider, { api }, children));
  const gets = () => server.requests.filter((r) => r.startsWith('GET'));
  return { server, api, store, actions, wrapper, gets };
}

const postsFn = (c: { from: typeof from }) => c.from<FakePost>('posts').select('*').order('id');

test('useQuery fetches through the api and reports the stages with TanStack names', async () => {
  const { wrapper, gets } = setup();
  const { result } = renderHook(() => useQuery(['posts'], postsFn), { wrapper });
  expect(result.current).toMatchObject({ status: 'pending', isPending: true, isLoading: true, isFetching: true, isSuccess: false, data: undefined });
  await waitFor(() => expect(result.current.isSuccess).toBe(true));
  expect(result.current).toMatchObject({ status: 'success', fetchStatus: 'idle', isLoading: false, isFetching: false, isError: false, error: null, failureCount: 0 });
  expect(result.current.data).toEqual([{ id: 1, title: 'one' }, { id: 2, title: 'two' }]);
  expect(result.current.dataUpdatedAt).toBeGreaterThan(0);
  expect(gets()).toEqual(['GET /posts?select=*&order=id.asc']);
  // Typed from the builder: data is FakePost[] | undefined.
  const titles: string[] | undefined = result.current.data?.map((p) => p.title);
  expect(titles).toEqual(['one', 'two']);
});

test('the object form, select and an error', async () => {
  const { wrapper, server } = setup();
  const { result } = renderHook(() => useQuery({ queryKey: ['titles'], queryFn: postsFn, select: (rows) => rows.map((r) => r.title) }), { wrapper });
  await waitFor(() => expect(result.current.data).toEqual(['one', 'two']));
  server.failNext(400);
  await act(async () => {
    await result.current.refetch();
  });
  // The store notifies React on its own batching tick (RTK's autoBatch).
  await waitFor(() => expect(result.current).toMatchObject({ status: 'error', isError: true, errorUpdateCount: 1, failureCount: 1 }));
  expect(result.current.error).toMatchObject({ status: 400, message: 'failed with 400' });
  // Typed as what it holds (PostgREST's error or a function's, both with a message), so the guide's `error.message` compiles.
  const message: string | undefined = result.current.error?.message;
  expect(message).toBe('failed with 400');
  expect(result.current.data).toEqual(['one', 'two']);
});

test('two components with one key share one entry and one fetch', async () => {
  const { wrapper, gets, store } = setup();
  const { result } = renderHook(() => [useQuery(['posts'], postsFn), useQuery(['posts'], postsFn)], { wrapper });
  await waitFor(() => expect(result.current[1]!.isSuccess).toBe(true));
  expect(gets()).toHaveLength(1);
  expect(Object.keys(store.getState().postgrestApi.queries)).toEqual(['keyed(["posts"])']);
});

test('staleTime: a remount within it fetches nothing; after it, or after invalidateQueries, it fetches', async () => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  try {
    const { wrapper, gets } = setup();
    const mount = () => renderHook(() => useQuery(['posts'], postsFn, { staleTime: 30_000 }), { wrapper });
    let view = mount();
    await waitFor(() => expect(view.result.current.isSuccess).toBe(true));
    view.unmount();
    act(() => void jest.advanceTimersByTime(10_000));
    view = mount();
    expect(view.result.current.isSuccess).toBe(true);
    expect(view.result.current.isStale).toBe(false);
    await act(async () => undefined);
    expect(gets()).toHaveLength(1);
    view.unmount();
    act(() => void jest.advanceTimersByTime(25_000));
    view = mount();
    await waitFor(() => expect(gets()).toHaveLength(2));
    await waitFor(() => expect(view.result.current.isFetching).toBe(false));
    const client = renderHook(() => useQueryClient(), { wrapper }).result.current;
    view.unmount();
    await waitFor(() => expect(client.isFetching()).toBe(0));
    await act(async () => client.invalidateQueries(['posts']));
    view = mount();
    await waitFor(() => expect(gets()).toHaveLength(3));
    view.unmount();
  } finally {
    jest.useRealTimers();
  }
});

test('refetchInterval polls every N ms and stops on unmount', async () => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
  try {
    const { wrapper, gets } = setup();
    const view = renderHook(() => useQuery(['posts'], postsFn, { refetchInterval: 60_000, staleTime: Infinity }), { wrapper });
    await waitFor(() => expect(view.result.current.isSuccess).toBe(true));
    for (let i = 2; i <= 3; i++) {
      await act(async () => void jest.advanceTimersByTime(60_000));
      await waitFor(() => expect(gets()).toHaveLength(i));
    }
    view.unmount();
    await act(async () => void jest.advanceTimersByTime(180_000));
    expect(gets()).toHaveLength(3);
  } finally {
    jest.useRealTimers();
  }
});

test('window focus refetches stale data only (staleTime), every time with "always", never with false', async () => {
  const { wrapper, gets } = setup();
  const { result: fresh } = renderHook(() => useQuery(['posts'], postsFn, { staleTime: 60_000 }), { wrapper });
  const { result: stale } = renderHook(() => useQuery(['other'], (c) => c.from('posts').select('id')), { wrapper });
  const { result: never } = renderHook(() => useQuery(['never'], (c) => c.from('posts').select('title'), { refetchOnWindowFocus: false }), { wrapper });
  await waitFor(() => expect([fresh.current.isSuccess, stale.current.isSuccess, never.current.isSuccess]).toEqual([true, true, true]));
  expect(gets()).toHaveLength(3);
  act(() => void window.dispatchEvent(new Event('focus')));
  await waitFor(() => expect(gets()).toHaveLength(4));
  expect(gets()[3]).toBe('GET /posts?select=id');
  const { result: always } = renderHook(() => useQuery(['posts'], postsFn, { staleTime: 60_000, refetchOnWindowFocus: 'always' }), { wrapper });
  await waitFor(() => expect(always.current.isSuccess).toBe(true));
  act(() => void window.dispatchEvent(new Event('focus')));
  await waitFor(() => expect(gets().filter((r) => r === 'GET /posts?select=*&order=id.asc')).toHaveLength(2));
  expect(gets().filter((r) => r === 'GET /posts?select=title')).toHaveLength(1);
});

test('enabled: false fetches nothing but shows cached data; initialData shows at once', async () => {
  const { wrapper, gets } = setup();
  const { result: off } = renderHook(() => useQuery(['posts'], postsFn, { enabled: false }), { wrapper });
  expect(off.current).toMatchObject({ status: 'pending', isFetching: false, isLoading: false });
  await act(async () => undefined);
  expect(gets()).toEqual([]);
  const { result: seeded } = renderHook(() => useQuery(['seeded'], postsFn, { initialData: [{ id: 0, title: 'initial' }], staleTime: 60_000 }), { wrapper });
  expect(seeded.current).toMatchObject({ status: 'success', data: [{ id: 0, title: 'initial' }] });
  await act(async () => undefined);
  expect(gets()).toEqual([]); // fresh initial data is not fetched
  const client = renderHook(() => useQueryClient(), { wrapper }).result.current;
  expect(client.getQueryData(['seeded'])).toEqual([{ id: 0, title: 'initial' }]);
  client.setQueryData(['posts'], [{ id: 5, title: 'cached' }]);
  await waitFor(() => expect(off.current.data).toEqual([{ id: 5, title: 'cached' }]));
  expect(gets()).toEqual([]);
});

test('a query function that returns a promise runs at fetch time; its throw becomes the error; retry: false', async () => {
  const { wrapper } = setup();
  let calls = 0;
  const { result } = renderHook(() => useQuery(['user'], async () => ({ name: 'ann', calls: ++calls })), { wrapper });
  await waitFor(() => expect(result.current.isSuccess).toBe(true));
  expect(result.current.data).toMatchObject({ name: 'ann' });
  const { result: failing } = renderHook(() => useQuery(['broken'], async () => { throw new Error('no profile'); }, { retry: false }), { wrapper });
  await waitFor(() => expect(failing.current.isError).toBe(true));
  expect(failing.current.error).toMatchObject({ message: 'no profile', status: 'FUNCTION_ERROR' });
});

test('useMutation: a builder is exactly one RTK mutation; callbacks run in order with what onMutate returned', async () => {
  const { wrapper, actions, server } = setup();
  const order: string[] = [];
  const { result } = renderHook(
    () =>
      useMutation({
        mutationFn: (title: string) => from<FakePost>('posts').insert({ title }).select().single(),
        onMutate: async (title) => {
          order.push(`onMutate ${title}`);
          return { snapshot: 'before' };
        },
        onSuccess: (data, title, context) => void order.push(`onSuccess ${(data as FakePost).title} ${title} ${context?.snapshot}`),
        onError: () => void order.push('onError'),
        onSettled: (_data, error, _title, context) => void order.push(`onSettled ${error === null} ${context?.snapshot}`),
      }),
    { wrapper },
  );
  expect(result.current).toMatchObject({ status: 'idle', isIdle: true, isPending: false });
  let data: unknown;
  await act(async () => {
    data = await result.current.mutateAsync('three', { onSuccess: () => void order.push('call onSuccess') });
  });
  expect(data).toMatchObject({ id: 3, title: 'three' });
  expect(order).toEqual(['onMutate three', 'onSuccess three three before', 'onSettled true before', 'call onSuccess']);
  expect(result.current).toMatchObject({ status: 'success', isSuccess: true, variables: 'three', data: { id: 3, title: 'three' } });
  expect(actions.filter((a) => a.type === 'postgrestApi/executeMutation/pending')).toHaveLength(1);
  expect(server.requests.filter((r) => r.startsWith('POST'))).toHaveLength(1);
  act(() => result.current.reset());
  expect(result.current.status).toBe('idle');
});

test('useMutation: pending from onMutate on; a failure reaches onError and onSettled with the onMutate result; mutate does not throw', async () => {
  const { wrapper, server } = setup();
  let release!: () => void;
  const seen: unknown[] = [];
  const { result } = renderHook(
    () =>
      useMutation({
        mutationFn: (id: number) => from('posts').update({ title: 'x' }).eq('id', id),
        onMutate: () => new Promise<string>((resolve) => (release = () => resolve('ctx'))),
        onError: (error, id, context) => void seen.push(['onError', (error as { status: number }).status, id, context]),
        onSettled: (data, error, id, context) => void seen.push(['onSettled', data, error !== null, id, context]),
      }),
    { wrapper },
  );
  act(() => result.current.mutate(1));
  expect(result.current).toMatchObject({ isPending: true, isLoading: true, variables: 1 });
  server.failNext(400);
  await act(async () => release());
  await waitFor(() => expect(result.current.isError).toBe(true));
  expect(seen).toEqual([['onError', 400, 1, 'ctx'], ['onSettled', undefined, true, 1, 'ctx']]);
  expect(result.current.error).toMatchObject({ status: 400 });
});

test('useMutation: a promise runs as the task mutation (serializable variables in its args); a promise of a builder writes through write', async () => {
  const { wrapper, actions, server } = setup();
  const { result } = renderHook(() => useMutation({ mutationKey: ['ping'], mutationFn: async (n: number) => ({ pong: n }) }), { wrapper });
  await act(async () => {
    await expect(result.current.mutateAsync(7)).resolves.toEqual({ pong: 7 });
  });
  const task = actions.find((a) => a.type === 'postgrestApi/executeMutation/pending') as unknown as { meta: { arg: { endpointName: string; originalArgs: { variables: number; mutationKey: string[] } } } };
  expect(task.meta.arg.endpointName).toBe('task');
  expect(task.meta.arg.originalArgs).toMatchObject({ variables: 7, mutationKey: ['ping'] });
  const { result: later } = renderHook(() => useMutation({ mutationFn: async (title: string) => from('posts').insert({ title }).select().single() as unknown }), { wrapper });
  await act(async () => {
    await expect(later.current.mutateAsync('four')).resolves.toMatchObject({ title: 'four' });
  });
  expect(server.requests.filter((r) => r.startsWith('POST'))).toHaveLength(1);
  const endpoints = actions.filter((a) => a.type === 'postgrestApi/executeMutation/pending').map((a) => (a as unknown as { meta: { arg: { endpointName: string } } }).meta.arg.endpointName);
  expect(endpoints).toEqual(['task', 'task', 'write']);
});

test('createQueryHooks needs no provider, and useQueryClient without one names the fix', () => {
  const { api, store } = setup();
  const hooks = createQueryHooks(api);
  const wrapper = ({ children }: { children?: ReactNode }) => createElement(Provider, { store, children: undefined }, children);
  const { result } = renderHook(() => hooks.useQueryClient(), { wrapper });
  expect(result.current.getQueryData(['nothing'])).toBeUndefined();
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  expect(() => renderHook(() => useQueryClient(), { wrapper })).toThrow(/QueryClientProvider/);
  (console.error as unknown as { mockRestore(): void }).mockRestore();
});

test('a function that awaits a failing builder of queryClient.db fails with the PostgREST error itself (status, code, details kept), in useMutation and useQuery', async () => {
  const { wrapper, server } = setup();
  const { result } = renderHook(() => {
    const client = useQueryClient();
    return useMutation({ mutationFn: async (id: number) => await client.db.from('posts').update({ title: 'x' }).eq('id', id).select().single() });
  }, { wrapper });
  server.failNext(400);
  let error: unknown;
  await act(async () => {
    error = await result.current.mutateAsync(1).catch((e: unknown) => e);
  });
  expect(error).toEqual({ status: 400, code: '22P02', message: 'failed with 400', details: null, hint: null });
  await waitFor(() => expect(result.current.error).toEqual(error));

  server.failNext(400);
  const { result: query } = renderHook(() => {
    const client = useQueryClient();
    return useQuery(['titles', 'awaited'], async () => (await client.db.from('posts').select('title')) as unknown[], { retry: false });
  }, { wrapper });
  await waitFor(() => expect(query.current.isError).toBe(true));
  expect(query.current.error).toEqual({ status: 400, code: '22P02', message: 'failed with 400', details: null, hint: null });
});
