/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
/**
 * The outbox and the sync status in React, against the real stack, with the browser's own events:
 * `offline` makes the status `offline` and writes queue (shown by useOutbox, counted by
 * useSyncStatus); `discard` drops one; `online` drains the rest and the status returns to `synced`.
 * Background sync: with the api's `refetchOnFocus` / `refetchOnReconnect`, a `focus` or `online`
 * event refetches a mounted read, and a read's `pollingInterval` polls it.
 */
import { act, fireEvent, render, waitFor } from '@testing-library/react';
import { Provider } from 'react-redux';
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../../lib/react/index.js';
import { from } from '../../lib/postgrest/index.js';
import { SyncProvider, useOutbox, useSyncStatus } from '../../lib/react/index.js';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { cleanupsAfterAll, tagger } from '../support/optimistic.js';
import { sql, testStack } from '../support/stack.js';
import { syncStore } from '../support/store.js';

const cleanups = cleanupsAfterAll();
const newTag = tagger('rob');

function makeStore() {
  const stack = testStack();
  const api = createPostgrestApi({ url: stack.postgrestUrl, apiKey: stack.anonKey, refetchOnFocus: true, refetchOnReconnect: true });
  const sync = createSyncMiddleware({ api, url: stack.realtimeUrl, apiKey: stack.anonKey, WebSocket: WebSocket as never, environment: true, outbox: { retry: { minDelayMs: 20, maxDelayMs: 50 } }, onWarning: () => undefined });
  const { store, actions } = syncStore(api, sync, cleanups);
  return { api, sync, store, recorded: actions };
}

function Outbox() {
  const { syncStatus, pendingWrites } = useSyncStatus();
  const { outbox, discard } = useOutbox();
  return (
    <div>
      <p data-testid="status">
        {syncStatus} {pendingWrites}
      </p>
      <ul>
        {outbox.map((item) => (
          <li key={item.id}>
            {String((item.request.body as { title: string }).title)} {item.status}
            <button onClick={() => discard(item.id)}>discard {String((item.request.body as { title: string }).title)}</button>
          </li>
        ))}
      </ul>
    </div>
  );
}

it('offline: writes queue and show in useOutbox and useSyncStatus; discard drops one; online: the rest land and the status is synced', async () => {
  const tag = newTag();
  const { api, sync, store } = makeStore();
  const view = render(
    <Provider store={store}>
      <SyncProvider sync={sync}>
        <Outbox />
      </SyncProvider>
    </Provider>,
  );
  expect(view.getByTestId('status').textContent).toBe('synced 0');
  act(() => void window.dispatchEvent(new Event('offline')));
  expect(view.getByTestId('status').textContent).toBe('offline 0');
  const writes = ['keep', 'drop'].map((title, seq) => store.dispatch(api.endpoints.write.initiate(from('ob_tasks').insert({ tag, title, seq }) as never)));
  await waitFor(() => expect(view.getByTestId('status').textContent).toBe('offline 2'));
  expect(view.getByText('keep queued')).toBeTruthy();
  fireEvent.click(view.getByText('discard drop'));
  await waitFor(() => expect(view.getByTestId('status').textContent).toBe('offline 1'));
  expect(((await writes[1]) as { error?: { code: string } }).error?.code).toBe('DISCARDED');

  act(() => void window.dispatchEvent(new Event('online')));
  expect(((await writes[0]) as { error?: unknown }).error).toBeUndefined();
  await waitFor(() => expect(view.getByTestId('status').textContent).toBe('synced 0'));
  expect(view.queryByRole('listitem')).toBeNull();
  expect(await sql(`select title from ob_tasks where tag = $1`, [tag])).toEqual([{ title: 'keep' }]);
  view.unmount();
}, 30_000);

it('background sync: a mounted read refetches on focus and when the network comes back, and polls with pollingInterval', async () => {
  const tag = newTag();
  const { api, store, recorded } = makeStore();
  const request = from('ob_tasks').select('title').eq('tag', tag);
  const fetchesOf = (key: string) => recorded.filter((action) => action.type === `${api.reducerPath}/executeQuery/pending` && (action.meta as { arg: { queryCacheKey: string } }).arg.queryCacheKey === key).length;
  const subscription = store.dispatch(api.endpoints.read.initiate(request as never));
  cleanups.push(() => subscription.unsubscribe());
  await subscription;
  const key = subscription.queryCacheKey;
  expect(fetchesOf(key)).toBe(1);
  await sql(`insert into ob_tasks (tag, title, seq) values ($1, 'while away', 1)`, [tag]);
  act(() => void window.dispatchEvent(new Event('focus')));
  await waitFor(() => expect(api.endpoints.read.select(request as never)(store.getState() as never).data).toEqual([{ title: 'while away' }]));
  expect(fetchesOf(key)).toBe(2);
  act(() => void window.dispatchEvent(new Event('offline')));
  act(() => void window.dispatchEvent(new Event('online')));
  await waitFor(() => expect(fetchesOf(key)).toBe(3));

  const polled = store.dispatch(api.endpoints.read.initiate(request as never, { subscriptionOptions: { pollingInterval: 100 } }));
  cleanups.push(() => polled.unsubscribe());
  await waitFor(() => expect(fetchesOf(key)).toBeGreaterThanOrEqual(5), { timeout: 3_000 });
  polled.unsubscribe();
}, 30_000);
