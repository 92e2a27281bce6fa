import { configureStore, createSlice } from '@reduxjs/toolkit';
import { createSyncMiddleware } from '../lib/sync';
import { createPostgrestApi, createSyncHooks } from '../lib/react';
import type { DemoConfig, DemoUser } from './demoConfig';
import { createNetwork, type DemoNetwork } from './network';
import type { TimeTravel } from './timeTravel';

export interface LiveStoreOptions {
  /** A config with `realtimeUrl` (liveConfigProblem checks it). */
  config: DemoConfig;
  /** Who this store acts as: its token goes with every PostgREST request and every realtime join. */
  user: DemoUser;
  /** PostgREST requests go through it when given (the default is the global fetch). */
  fetchFn?: typeof fetch;
  /** The in-page DevTools' recorder, when the demo shows one. */
  timeTravel?: TimeTravel;
}

/**
 * How soon the demos react: a socket that stays down 2 s makes the status `degraded` and live
 * entries are polled every 2 s; reconnects are tried within 0.5–3 s. (The library's defaults are
 * calmer: 10 s, 10 s and up to 10 s.)
 */
export const DEMO_TIMING = { degradedAfterMs: 2000, pollIntervalMs: 2000, reconnect: { minDelayMs: 500, maxDelayMs: 3000 } } as const;

/**
 * One "browser tab": an api, a sync middleware with its own WebSocket to the realtime server, and
 * a store holding both, plus a counter of the live feed's fetches (so the demo can show that a row
 * written elsewhere is patched in, not refetched). Its network (`tab.network`) counts every request
 * and has the demo's offline and realtime switches.
 */
export function createLiveStore({ config, user, fetchFn, timeTravel }: LiveStoreOptions) {
  const network: DemoNetwork = createNetwork(fetchFn);
  const api = createPostgrestApi({
    url: config.postgrestUrl,
    apiKey: config.anonKey,
    getToken: () => user.token,
    fetchFn: network.fetch,
  });
  const sync = createSyncMiddleware({
    api, // its `useLiveQuery` entries are kept equal to the database
    url: config.realtimeUrl!,
    apiKey: config.anonKey,
    getToken: () => user.token, // realtime applies row level security to row changes too
    WebSocket: network.WebSocket,
    ...DEMO_TIMING,
  });
  const liveFetches = createSlice({
    name: 'liveFetches',
    initialState: 0,
    reducers: {},
    extraReducers: (builder) => builder.addMatcher(api.endpoints.live.matchPending, (count) => count + 1),
  });
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer, liveFetches: liveFetches.reducer },
    middleware: (getDefault) => getDefault().concat(api.middleware, sync.middleware),
    // Records each action with the state it made (the UI reads timeTravel.view(store)).
    enhancers: (getDefault) => (timeTravel ? getDefault().concat(timeTravel.enhancer) : getDefault()),
    devTools: { name: `rtk-postgrest demo: ${user.name}` },
  });
  const hooks = createSyncHooks(sync);

  /** The demo's offline switch: requests fail and the socket can't connect; the sync mirror (and so the outbox) knows. */
  function setOffline(offline: boolean): void {
    network.setOffline(offline);
    store.dispatch(sync.actions.environmentChanged({ online: !offline }));
  }

  return { api, sync, store, hooks, user, config, network, setOffline };
}

export type LiveStore = ReturnType<typeof createLiveStore>;
export type LiveState = ReturnType<LiveStore['store']['getState']>;
