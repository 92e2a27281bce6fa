/**
 * The query client against every Redux Toolkit the package supports (run as rtk-newest and
 * rtk-oldest, see jest.config.js): its records folded into the api's reducer without RTK warning,
 * setQueryData through RTK's rehydration (existing and new entries), cancel through
 * getRunningQueriesThunk, removal through RTK's own removal action.
 */
import { jest } from '@jest/globals';
import { configureStore } from '@reduxjs/toolkit';
import { createPostgrestApi } from '../../lib/api';
import { createQueryClient } from '../../lib/api/queryClient';
import { fakePostgrest } from '../api/queryClient/fakePostgrest';

test('the query client works on this RTK: records, setQueryData, cancel, remove; no warning from RTK', async () => {
  const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const warnings = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const server = fakePostgrest();
  const api = createPostgrestApi({ url: 'http://postgrest.test', fetchFn: server.fetchFn, retry: false });
  const store = configureStore({ reducer: { [api.reducerPath]: api.reducer }, middleware: (d) => d().concat(api.middleware) });
  const client = createQueryClient({ api, store });
  const posts = client.prepare(['posts'], (c) => c.from('posts').select('*'));
  const sub = store.dispatch(api.endpoints.keyed.initiate(posts.arg));
  await sub;
  server.failNext(400);
  await client.refetchQueries(['posts']);
  expect(client.getQueryState(['posts'])).toMatchObject({ status: 'error', errorUpdateCount: 1, dataUpdateCount: 1 });
  client.setQueryData(['posts'], [{ id: 9, title: 'set' }]);
  expect(client.getQueryState(['posts'])).toMatchObject({ status: 'success', data: [{ id: 9, title: 'set' }] });
  client.setQueryData(['fresh'], { ok: true });
  expect(client.getQueryData(['fresh'])).toEqual({ ok: true });
  const release = server.hold();
  const refetching = client.refetchQueries(['posts']);
  await new Promise((r) => setTimeout(r, 0));
  await client.cancelQueries(['posts']);
  release();
  await refetching;
  expect(client.getQueryState(['posts'])).toMatchObject({ status: 'success', fetchStatus: 'idle', error: null });
  await new Promise((r) => setTimeout(r, 600)); // RTK mirrors its subscriptions into the state
  client.removeQueries(['fresh']);
  expect(client.getQueryData(['fresh'])).toBeUndefined();
  sub.unsubscribe();
  expect(errors).not.toHaveBeenCalled();
  expect(warnings.mock.calls.filter(([message]) => /Unexpected key/.test(String(message)))).toEqual([]);
  errors.mockRestore();
  warnings.mockRestore();
});
