/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 *
 * The browser's online / offline / focus / visibility events reach RTK Query (as setupListeners
 * does) and the socket: a reconnect waiting out a long backoff is tried at once when the network
 * comes back.
 */
import { configureStore } from '@reduxjs/toolkit';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { testStack } from '../support/stack.js';
import { actionRecorder } from '../support/store.js';

const stops: Array<() => void> = [];
afterAll(() => {
  for (const stop of stops) stop();
});

/** jsdom's own WebSocket (a real client), remembered so the test can cut the connection. */
const sockets: WebSocket[] = [];
class CuttableWebSocket extends window.WebSocket {
  constructor(url: string) {
    super(url);
    sockets.push(this);
  }
}

async function waitFor(probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('waitFor timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('feeds online/offline/focus to RTK Query and retries a waiting reconnect at once when the network is back', async () => {
  const stack = testStack();
  // A backoff so long that only the 'online' event can explain a quick reconnect.
  const sync = createSyncMiddleware({ url: stack.realtimeUrl, apiKey: stack.anonKey, WebSocket: CuttableWebSocket as never, reconnect: { minDelayMs: 120_000, maxDelayMs: 120_000, factor: 1 }, onWarning: () => undefined });
  const { middleware: recorder, actions: recorded } = actionRecorder();
  const store = configureStore({ reducer: { [sync.reducerPath]: sync.reducer }, middleware: (getDefault) => getDefault().concat(sync.middleware, recorder) });
  stops.push(() => store.dispatch(sync.actions.disconnect()));
  const status = () => sync.selectors.selectConnection(store.getState()).status;
  store.dispatch(sync.actions.subscribe({ channel: 'env' }));
  await waitFor(() => status() === 'open');

  window.dispatchEvent(new Event('offline'));
  expect(sync.selectors.selectConnection(store.getState()).online).toBe(false);
  expect(recorded.map((action) => action.type)).toContain('__rtkq/offline');

  // The connection drops (as when the network goes away): a reconnect now waits 0–120 s.
  sockets.at(-1)!.close();
  await waitFor(() => status() === 'reconnecting');
  window.dispatchEvent(new Event('online'));
  expect(recorded.map((action) => action.type)).toContain('__rtkq/online');
  expect(sync.selectors.selectConnection(store.getState()).online).toBe(true);
  await waitFor(() => status() === 'open');
  await waitFor(() => sync.selectors.selectChannel(store.getState(), 'env')?.status === 'joined');

  window.dispatchEvent(new Event('focus'));
  expect(recorded.map((action) => action.type)).toContain('__rtkq/focused');
});
