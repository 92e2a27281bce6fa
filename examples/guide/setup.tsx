/**
 * What the guide's examples share: one api, its sync middleware and the store, the query client,
 * and the guide's free variable `client` (the awaitable builders, `queryClient.db`). In an app the
 * imports are 'rtk-postgrest' and 'rtk-postgrest/react'.
 */
import { configureStore, type Middleware } from '@reduxjs/toolkit';
import type { ReactNode } from 'react';
import { Provider } from 'react-redux';
import type { AwaitableClient, QueryFnClient } from '../../lib/api/queryClient/db';
import { createPostgrestApi, createQueryClient, QueryClientProvider, SyncProvider } from '../../lib/react';
import { createSyncMiddleware, type SyncMiddlewareOptions } from '../../lib/sync';

/** The guide's `client` (`client.from('posts')...`): our builders, awaitable. Set by `createGuideApp`. */
export let client: AwaitableClient & QueryFnClient;

/**
 * The guide's `Post`. The examples read the `guide_posts` table (the test database's `posts` table
 * belongs to other tests): the guide's `from('posts')` is `from('guide_posts')` here.
 */
export interface Post {
  id: number;
  author_id: string;
  title: string;
  body: string;
  published: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface GuideAppOptions {
  /** PostgREST's URL, the anon key, and the user's token (null: anon). */
  postgrestUrl: string;
  realtimeUrl: string;
  apiKey: string;
  getToken?: () => string | null;
  /** The WebSocket class (`ws` in Node). */
  WebSocket: unknown;
  fetchFn?: typeof fetch;
  /** Middleware after the api's and the sync middleware (a test's action recorder). */
  middleware?: Middleware[];
  /** `environment: false` in tests that drive online/offline and focus themselves. */
  environment?: false;
  /** Timing of the sync middleware (tests that cut the realtime server shorten them). */
  sync?: Pick<SyncMiddlewareOptions, 'degradedAfterMs' | 'pollIntervalMs' | 'heartbeatIntervalMs' | 'timeoutMs' | 'reconnect'>;
}

/** An app as the guide's examples expect it: `<GuideProvider>` around them. */
export function createGuideApp(options: GuideAppOptions) {
  const api = createPostgrestApi({
    url: options.postgrestUrl,
    apiKey: options.apiKey,
    ...(options.getToken && { getToken: options.getToken }),
    ...(options.fetchFn && { fetchFn: options.fetchFn }),
  });
  const sync = createSyncMiddleware({
    api,
    url: options.realtimeUrl,
    apiKey: options.apiKey,
    ...(options.getToken && { getToken: options.getToken }),
    WebSocket: options.WebSocket as never,
    ...(options.environment === false && { environment: false }),
    onWarning: () => undefined,
    ...options.sync,
  });
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
    middleware: (getDefault) => getDefault().concat(api.middleware, sync.middleware, ...(options.middleware ?? [])),
  });
  const queryClient = createQueryClient({ api, store });
  client = queryClient.db;
  function GuideProvider({ children }: { children?: ReactNode }) {
    return (
      <Provider store={store}>
        <SyncProvider sync={sync}>
          <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
        </SyncProvider>
      </Provider>
    );
  }
  return { api, sync, store, queryClient, db: queryClient.db, GuideProvider, disconnect: () => store.dispatch(sync.actions.disconnect()) };
}
