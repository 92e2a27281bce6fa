/** A store over the shared stack with `ws` (Node only: jsdom suites that import it need the Node export conditions). */
import { WebSocket } from 'ws';
import { createPostgrestApi } from '../../lib/api';
import { createSyncMiddleware, type SyncMiddlewareOptions } from '../../lib/sync/index.js';
import { testStack } from './stack';
import { syncStore } from './store';

/**
 * An api and its sync middleware against the shared stack (PostgREST and our realtime server, with
 * `ws`), in a store made by `syncStore`; `cleanups` gets the disconnect.
 */
export function stackSyncStore(cleanups: Array<() => void>, options: Partial<SyncMiddlewareOptions> = {}) {
  const stack = testStack();
  const api = createPostgrestApi({ url: stack.postgrestUrl, apiKey: stack.anonKey });
  const sync = createSyncMiddleware({ api, url: stack.realtimeUrl, apiKey: stack.anonKey, WebSocket: WebSocket as never, environment: false, onWarning: () => undefined, ...options });
  const { store, actions } = syncStore(api, sync, cleanups);
  return { api, sync, store, recorded: actions };
}
