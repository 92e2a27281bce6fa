import { configureStore, findNonSerializableValue, type Middleware, type Reducer, type UnknownAction } from '@reduxjs/toolkit';
import type { EndpointDefinitions } from '@reduxjs/toolkit/query';
import { createPostgrestApi, type CreatePostgrestApiOptions } from '../../lib/api';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { testStack } from './stack';

/** A middleware that records every action it sees, and the list it records into. */
export function actionRecorder(): { middleware: Middleware; actions: UnknownAction[] } {
  const actions: UnknownAction[] = [];
  const middleware: Middleware = () => (next) => (action) => {
    actions.push(action as UnknownAction);
    return next(action);
  };
  return { middleware, actions };
}

/**
 * A store for one api, with RTK's default middleware (serializability and immutability checks on)
 * plus a recorder of every action, so tests can assert what was dispatched.
 */
export function makeTestStore<Definitions extends EndpointDefinitions = {}>(
  options: CreatePostgrestApiOptions<'postgrestApi', Definitions>,
) {
  const api = createPostgrestApi<Definitions>(options);
  const { middleware: recorder, actions } = actionRecorder();
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer },
    middleware: (getDefault) => getDefault().concat(api.middleware, recorder),
  });
  return {
    api,
    store,
    actions,
    /** Query cache keys whose request started (one per fetch or refetch). */
    fetchedKeys(): string[] {
      return actions
        .filter((a) => a.type === `${api.reducerPath}/executeQuery/pending`)
        .map((a) => (a as unknown as { meta: { arg: { queryCacheKey: string } } }).meta.arg.queryCacheKey);
    },
    /** Every action and the whole state, checked the way RTK's serializability middleware checks (its default ignored action paths too). */
    nonSerializable(): unknown[] {
      const found: unknown[] = [];
      for (const action of actions) {
        // RTK's check skips these action paths by default (a mutation's `meta.arg` carries marker functions).
        const bad = findNonSerializableValue(action, '', undefined, undefined, ['meta.arg', 'meta.baseQueryMeta']);
        if (bad) found.push({ action: action.type, ...bad });
      }
      const badState = findNonSerializableValue(store.getState());
      if (badState) found.push({ state: true, ...badState });
      return found;
    },
  };
}

/** Resolves once the store has no request in flight for the api. */
export async function settled(store: { getState(): unknown }, reducerPath = 'postgrestApi', timeoutMs = 10000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const state = (store.getState() as Record<string, { queries: Record<string, { status: string }>; mutations: Record<string, { status: string }> }>)[reducerPath]!;
    const busy = [...Object.values(state.queries), ...Object.values(state.mutations)].some((q) => q?.status === 'pending');
    if (!busy) return;
    if (Date.now() - start > timeoutMs) throw new Error('requests still pending after ' + timeoutMs + ' ms');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A store with only a sync middleware against the shared test stack's realtime server (`WebSocket`
 * given: `ws` resolves to its browser stub in jsdom tests without node export conditions; short
 * heartbeat and timeouts, warnings silenced), RTK's checks on, recording every action.
 */
export function makeSyncTestStore(options: { url?: string; WebSocket: unknown; getToken?: () => string | null }) {
  const stack = testStack();
  const sync = createSyncMiddleware({
    url: options.url ?? stack.realtimeUrl,
    apiKey: stack.anonKey,
    ...(options.getToken && { getToken: options.getToken }),
    WebSocket: options.WebSocket as never,
    heartbeatIntervalMs: 1000,
    timeoutMs: 3000,
    onWarning: () => undefined,
  });
  const { middleware: recorder, actions: recorded } = actionRecorder();
  const store = configureStore({
    reducer: { [sync.reducerPath]: sync.reducer },
    middleware: (getDefault) => getDefault().concat(sync.middleware, recorder),
  });
  return { sync, store, recorded };
}

/**
 * A store holding `api` and its sync middleware (RTK's checks on), recording every action the sync
 * middleware passes on; `cleanups` gets a disconnect when given.
 */
export function syncStore<Api extends { reducerPath: string; reducer: Reducer; middleware: Middleware }, Sync extends { reducerPath: string; reducer: Reducer; middleware: Middleware; actions: { disconnect(): UnknownAction } }>(
  api: Api,
  sync: Sync,
  cleanups?: Array<() => void>,
) {
  const { middleware: recorder, actions } = actionRecorder();
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer, [sync.reducerPath]: sync.reducer },
    middleware: (getDefault) => getDefault().concat(api.middleware, sync.middleware, recorder),
  });
  cleanups?.push(() => store.dispatch(sync.actions.disconnect()));
  return { store, actions };
}
