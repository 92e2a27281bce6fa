import { configureStore, createSlice } from '@reduxjs/toolkit';
import { createSyncMiddleware } from '../lib/sync';
import { createPostgrestApi, createSyncHooks } from '../lib/react';
import type { DemoConfig, DemoUser } from './demoConfig';

export interface LiveStoreOptions {
  /** A config with `realtimeUrl` (liveConfigProblem checks it). */
  config: DemoConfig;
  /** Who this store acts as: its token goes with every PostgREST request and every realtime join. */
  user: DemoUser;
  /** PostgREST requests go through it when given (the default is the global fetch). */
  fetchFn?: typeof fetch;
}

/**
 * One "browser tab": an api, a sync middleware with its own WebSocket to the realtime server, and
 * a store holding both, plus a counter of the live feed's fetches (so the demo can show that a row
 * written elsewhere is patched in, not refetched).
 */
export function createLiveStore({ config, user, fetchFn }: LiveStoreOptions) {
  const api = createPostgrestApi({
    url: config.postgrestUrl,
    apiKey: config.anonKey,
    getToken: () => user.token,
    ...(fetchFn && { fetchFn }),
  });
  const sync = createSyncMiddleware({
    api, // its `useLiveQuery` entries are kept equal to the database
    url: config.realtimeUrl!,
    apiKey: config.anonKey,
    getToken: () => user.token, // realtime applies row level security to row changes too
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
  });
  const hooks = createSyncHooks(sync);
  return { api, sync, store, hooks, user, config };
}

export type LiveStore = ReturnType<typeof createLiveStore>;
export type LiveState = ReturnType<LiveStore['store']['getState']>;
