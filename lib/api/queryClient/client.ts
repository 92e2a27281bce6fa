/**
 * `createQueryClient`: TanStack Query's `QueryClient` as a facade over one RTK Query api in one
 * store. A query key names an RTK Query entry (keyed entries carry their key in `originalArgs`;
 * other entries are `[endpointName, originalArgs]`); every change is an action; the only state
 * outside RTK's is the client's records (state.ts). Functions and observers' stale times stay here,
 * at runtime, never in the store.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import type { PostgrestRequest } from '../../postgrest/request/types';
import type { LivePatch } from '../liveContract';
import { queryDataSet, queryDefaultsSet, queryInvalidated } from './contract';
import { awaitableClient, type AwaitableClient, type QueryFnClient } from './db';
import { requestOf, runtimeOf, type KeyedArg } from './endpoints';
import { hashKey, matchQuery, partialMatchKey, toFilters, type QueryFilters, type QueryKey } from './keys';
import { KEYED_ENDPOINTS, queriesOf, queryAt, type ObserverInfo, type Query, type StoredEntry } from './query';

/** The store the client works on. */
export interface QueryClientStore {
  dispatch: (action: any) => any;
  getState: () => unknown;
  subscribe: (listener: () => void) => () => void;
}

type Endpoint = {
  initiate: (arg: unknown, options?: Record<string, unknown>) => any;
  select?: (arg: unknown) => (state: unknown) => StoredEntry & { isUninitialized?: boolean };
};

/** The api the client works on (any api made by createPostgrestApi). */
export interface QueryClientApi {
  reducerPath: string;
  endpoints: Record<string, unknown>;
  util: { getRunningQueriesThunk: () => any; getRunningQueryThunk: (endpointName: any, arg: any) => any; patchQueryData: (endpointName: any, arg: any, patches: any) => any };
  internalActions?: unknown;
}

/** TanStack's `retry` as this client takes it: a number of retries, true (3), or false. */
export type RetryValue = boolean | number;

/** Options every query takes (`useQuery`, `fetchQuery`, defaults). */
export interface QueryOptionsBase {
  staleTime?: number;
  refetchInterval?: number | false;
  refetchIntervalInBackground?: boolean;
  refetchOnWindowFocus?: boolean | 'always';
  refetchOnReconnect?: boolean | 'always';
  refetchOnMount?: boolean | 'always';
  enabled?: boolean;
  retry?: RetryValue;
  live?: boolean;
}

export interface DefaultOptions {
  queries?: QueryOptionsBase;
  mutations?: { retry?: RetryValue };
}

export interface InvalidateOptions {
  /** Which matched entries are refetched now: `active` (default: those with observers), `inactive`, `all`, `none`. */
  refetchType?: 'active' | 'inactive' | 'all' | 'none';
}

export interface RefetchOptions {
  /** Reject when a refetch fails (default: resolve anyway, as TanStack does). */
  throwOnError?: boolean;
  /** A fetch already running is cancelled and made again (default true, as TanStack: it may have started before the change); false joins it. */
  cancelRefetch?: boolean;
}

/** A query function: gets the builders; returns a builder (fetched through the api), or a value or promise. */
export type QueryFunction<T = unknown> = (client: QueryFnClient) => T;

export interface FetchQueryOptions extends QueryOptionsBase {
  queryKey: QueryKey;
  queryFn: QueryFunction;
}

/** The query cache view (`queryClient.getQueryCache()`). */
export interface QueryCache {
  find(filters: QueryFilters<Query>): Query | undefined;
  findAll(filters?: QueryKey | QueryFilters<Query>): Query[];
  getAll(): Query[];
  /** Runs `fn`; every `setQueryData` inside it lands in one action. */
  batch<T>(fn: () => T): T;
  /** Called after every action that changed the store. */
  subscribe(listener: () => void): () => void;
}

export interface QueryClient {
  readonly api: QueryClientApi;
  readonly store: QueryClientStore;
  /** The builders, awaitable (`await db.from('posts').select().eq('id', 1).single()`). */
  readonly db: AwaitableClient & QueryFnClient;
  getQueryData<T = unknown>(queryKey: QueryKey): T | undefined;
  getQueryState(queryKey: QueryKey): Query['state'] | undefined;
  setQueryData<T = unknown>(queryKey: QueryKey, updater: T | undefined | ((old: T | undefined) => T | undefined), options?: { updatedAt?: number | undefined }): T | undefined;
  setQueriesData<T = unknown>(filters: QueryKey | QueryFilters<Query>, updater: T | undefined | ((old: T | undefined) => T | undefined)): Array<[QueryKey, T | undefined]>;
  invalidateQueries(filters?: QueryKey | (QueryFilters<Query> & InvalidateOptions), options?: InvalidateOptions & RefetchOptions): Promise<void>;
  refetchQueries(filters?: QueryKey | QueryFilters<Query>, options?: RefetchOptions): Promise<void>;
  cancelQueries(filters?: QueryKey | QueryFilters<Query>): Promise<void>;
  removeQueries(filters?: QueryKey | QueryFilters<Query>): void;
  fetchQuery<T = unknown>(options: FetchQueryOptions): Promise<T>;
  prefetchQuery(options: FetchQueryOptions): Promise<void>;
  isFetching(filters?: QueryKey | QueryFilters<Query>): number;
  isMutating(filters?: { mutationKey?: QueryKey }): number;
  getQueryCache(): QueryCache;
  setDefaultOptions(options: DefaultOptions): void;
  getDefaultOptions(): DefaultOptions;
  /** Registers an observer (a hook) of an entry; returns its removal. */
  observe(queryCacheKey: string, observer: { staleTime: number }): () => void;
  /** The entry key and argument of `queryKey` for `queryFn` (what `useQuery` subscribes to). */
  prepare(queryKey: QueryKey, queryFn: QueryFunction, options?: { live?: boolean; retry?: RetryValue }): PreparedQuery;
}

/** What `prepare` gives: the endpoint, its arg and the entry's key. */
export interface PreparedQuery {
  endpointName: 'keyed' | 'keyedLive';
  arg: KeyedArg;
  queryCacheKey: string;
}

const clients = new WeakMap<object, WeakMap<object, QueryClient>>();

function isDevelopment(): boolean {
  return typeof process === 'undefined' || process.env?.NODE_ENV !== 'production';
}

const warned = new Set<string>();
function warnOnce(message: string): void {
  if (!isDevelopment() || warned.has(message)) return;
  warned.add(message);
  console.warn(`rtk-postgrest query client: ${message}`);
}

/** The `retry` option as the keyed arg's retries. */
export function retriesOf(retry: RetryValue | undefined): number | false | undefined {
  if (retry === undefined) return undefined;
  if (retry === true) return Number.MAX_SAFE_INTEGER; // TanStack: retry forever
  if (retry === false) return false;
  if (typeof retry !== 'number' || !Number.isInteger(retry) || retry < 0) {
    throw new TypeError(`retry must be true, false or a number of retries (a whole number ≥ 0), got ${typeof retry === 'function' ? 'a function (not supported: only failures that may pass are retried)' : JSON.stringify(retry)}`);
  }
  return retry;
}

/** The serializable part of the defaults (what the defaultsSet action shows). */
function serializableDefaults(options: DefaultOptions): unknown {
  return JSON.parse(JSON.stringify(options, (_, value: unknown) => (typeof value === 'function' ? undefined : value === Infinity ? 'Infinity' : value)));
}

/**
 * The query client of `api` in `store` (one per pair, so `useQueryClient()` keeps its identity).
 * The api must be in the store (its reducer and middleware).
 */
export function createQueryClient(options: { api: QueryClientApi; store: QueryClientStore; defaultOptions?: DefaultOptions; now?: () => number }): QueryClient {
  const { api, store } = options ?? ({} as never);
  if (!api || typeof api !== 'object' || typeof api.reducerPath !== 'string' || !api.endpoints || !('keyed' in api.endpoints)) {
    throw new TypeError('createQueryClient: "api" must be an api made by createPostgrestApi');
  }
  if (!store || typeof store.dispatch !== 'function' || typeof store.getState !== 'function') {
    throw new TypeError('createQueryClient: "store" must be the Redux store the api is in');
  }
  let byStore = clients.get(api);
  if (!byStore) clients.set(api, (byStore = new WeakMap()));
  const existing = byStore.get(store);
  if (existing) {
    if (options.defaultOptions) existing.setDefaultOptions(options.defaultOptions);
    return existing;
  }
  const client = makeClient(api, store, options.defaultOptions ?? {}, options.now ?? Date.now);
  byStore.set(store, client);
  return client;
}

function makeClient(api: QueryClientApi, store: QueryClientStore, initialDefaults: DefaultOptions, now: () => number): QueryClient {
  const reducerPath = api.reducerPath;
  const endpoints = api.endpoints as Record<string, Endpoint>;
  const runtime = runtimeOf(api);
  const observers = new Map<string, Set<{ staleTime: number }>>();
  let defaults: DefaultOptions = initialDefaults;
  const observerInfo: ObserverInfo = {
    staleTimes: (queryCacheKey) => [...(observers.get(queryCacheKey) ?? [])].map((observer) => observer.staleTime),
    now,
    subscriptionCount: (queryCacheKey) => rtkSubscriptions()?.getSubscriptionCount(queryCacheKey),
  };
  /**
   * RTK's live subscription selectors, which its middleware returns for this internal action (RTK
   * 2.5 to 2.14; RTK's own hooks ask it the same way, once per store: they read its current
   * subscriptions on every call). Asked once, when first needed (the middleware must be on the
   * store by then); anything else: undefined, and the mirror is read.
   */
  let selectors: { getSubscriptionCount(queryCacheKey: string): number } | undefined;
  const rtkSubscriptions = () => {
    if (selectors) return selectors;
    const getSubscriptions = (api.internalActions as { internal_getRTKQSubscriptions?: () => UnknownAction } | undefined)?.internal_getRTKQSubscriptions;
    if (!getSubscriptions) return undefined;
    const answer = store.dispatch(getSubscriptions()) as unknown;
    if (answer !== null && typeof answer === 'object' && typeof (answer as { getSubscriptionCount?: unknown }).getSubscriptionCount === 'function') {
      selectors = answer as { getSubscriptionCount(key: string): number };
    }
    return selectors;
  };
  if (!(reducerPath in (store.getState() as object))) {
    throw new TypeError(`createQueryClient: the store has no "${reducerPath}" state: add the api's reducer and middleware to the store`);
  }

  const all = () => queriesOf(store.getState(), reducerPath, observerInfo);
  const findAll = (filters?: QueryKey | QueryFilters<Query>) => {
    const given = toFilters(filters);
    return all().filter((query) => matchQuery(given, query));
  };
  /** The stored entry of a key: the live one first, then the keyed one, then a declared endpoint's `[name, arg]`. */
  const entryKeyOf = (queryKey: QueryKey): string | undefined => {
    const queries = (store.getState() as Record<string, { queries: Record<string, StoredEntry | undefined> }>)[reducerPath]!.queries;
    const hash = hashKey(queryKey);
    for (const name of ['keyedLive', 'keyed']) {
      const key = `${name}(${hash})`;
      if (queries[key] && queries[key]!.status !== 'uninitialized') return key;
    }
    return all().find((query) => !KEYED_ENDPOINTS.has(query.endpointName) && query.queryHash === hash)?.queryCacheKey;
  };
  const stored = (queryCacheKey: string) => (store.getState() as Record<string, { queries: Record<string, StoredEntry | undefined> }>)[reducerPath]!.queries[queryCacheKey];

  // batch(): setQueryData calls inside it land in one action.
  let batchDepth = 0;
  let pending: LivePatch[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const entries = pending;
    pending = [];
    store.dispatch(queryDataSet(reducerPath, entries));
  };
  const batch = <T>(fn: () => T): T => {
    batchDepth++;
    try {
      return fn();
    } finally {
      batchDepth--;
      if (batchDepth === 0) flush();
    }
  };

  const setOne = (queryKey: QueryKey, updater: unknown, updatedAt?: number): unknown => {
    if (!Array.isArray(queryKey)) throw new TypeError(`setQueryData: the query key must be an array, got ${JSON.stringify(queryKey)}`);
    const queryCacheKey = entryKeyOf(queryKey);
    // A key set earlier in this batch (an unknown key's new entry is keyed under its hash).
    const batchKey = queryCacheKey ?? `keyed(${hashKey(queryKey)})`;
    const inBatch = pending.find((patch) => patch.queryCacheKey === batchKey);
    const entry = inBatch?.entry as StoredEntry | undefined ?? (queryCacheKey !== undefined ? stored(queryCacheKey) : undefined);
    const previous = entry?.data;
    const data = typeof updater === 'function' ? (updater as (old: unknown) => unknown)(previous) : updater;
    if (data === undefined) return undefined;
    const at = updatedAt ?? now();
    if (entry && entry.status === 'pending' && !inBatch) {
      // A fetch in flight overwrites it when it lands, as in TanStack (the guide cancels first).
      store.dispatch(api.util.patchQueryData(entry.endpointName as never, entry.originalArgs as never, [{ op: 'replace', path: [], value: data }] as never));
      return data;
    }
    let patch: LivePatch;
    if (entry && queryCacheKey !== undefined) {
      const { error: _, ...rest } = entry as StoredEntry & Record<string, unknown>;
      patch = { queryCacheKey, entry: { ...rest, status: 'fulfilled', data, fulfilledTimeStamp: at } };
    } else {
      // A key no query has fetched: a request-less keyed entry (nobody subscribes: RTK drops it after keepUnusedDataFor, like gcTime).
      patch = {
        queryCacheKey: `keyed(${hashKey(queryKey)})`,
        entry: { status: 'fulfilled', endpointName: 'keyed', requestId: `set-${hashKey(queryKey)}-${at}`, originalArgs: { queryKey, request: null } satisfies KeyedArg, data, startedTimeStamp: at, fulfilledTimeStamp: at },
      };
    }
    pending = pending.filter((other) => other.queryCacheKey !== patch.queryCacheKey);
    pending.push(patch);
    if (batchDepth === 0) flush();
    return data;
  };

  /** Refetches `query` (a new fetch even when one is cached); resolves once its result is in the state. */
  const refetch = async (query: Query, throwOnError: boolean, cancelRefetch: boolean): Promise<void> => {
    const endpoint = endpoints[query.endpointName];
    if (!endpoint) return;
    if (query.state.fetchStatus === 'fetching') {
      const running = store.dispatch(api.util.getRunningQueryThunk(query.endpointName, query.originalArgs)) as { abort(): void; then: PromiseLike<unknown>['then'] } | undefined;
      if (running && !cancelRefetch) {
        await Promise.resolve(running).then(undefined, () => undefined);
        return;
      }
      if (running) {
        running.abort();
        await Promise.resolve(running).then(undefined, () => undefined);
      }
    }
    if (KEYED_ENDPOINTS.has(query.endpointName)) {
      const arg = query.originalArgs as KeyedArg;
      if (arg.request === null && !runtime.queryFns.has(query.queryCacheKey)) {
        warnOnce(`${hashKey(query.queryKey)} has no query function (it was set with setQueryData): not refetched`);
        return;
      }
    }
    const running = store.dispatch(endpoint.initiate(query.originalArgs, { subscribe: false, forceRefetch: true }));
    const result = await running;
    if (throwOnError && result?.error !== undefined && result?.isError) throw result.error;
  };

  const refetchAll = async (queries: Query[], options: RefetchOptions) => {
    await Promise.all(queries.map((query) => refetch(query, options.throwOnError ?? false, options.cancelRefetch ?? true)));
  };

  const db = awaitableClient(async (request: PostgrestRequest) => {
    const read = request.method === 'GET' || request.method === 'HEAD';
    const running = store.dispatch((read ? endpoints.read! : endpoints.write!).initiate(request, read ? { subscribe: false, forceRefetch: true } : undefined));
    try {
      const result = await running;
      if (result.error !== undefined) throw result.error;
      return result.data;
    } finally {
      // A one-off write's result isn't kept (as a useMutation hook resets on unmount).
      if (!read && typeof running.reset === 'function') running.reset();
    }
  });

  const prepare = (queryKey: QueryKey, queryFn: QueryFunction, prepareOptions: { live?: boolean; retry?: RetryValue } = {}): PreparedQuery => {
    if (!Array.isArray(queryKey)) throw new TypeError(`useQuery: the query key must be an array, got ${JSON.stringify(queryKey)}`);
    if (typeof queryFn !== 'function') throw new TypeError(`useQuery ${hashKey(queryKey)}: the query function must be a function (client) => builder | value | promise, got ${typeof queryFn}`);
    const endpointName = prepareOptions.live ? 'keyedLive' : 'keyed';
    const queryCacheKey = `${endpointName}(${hashKey(queryKey)})`;
    const retry = retriesOf(prepareOptions.retry ?? defaults.queries?.retry);
    // A builder is made again on each call (builders are pure and cheap); a function that returned
    // something else once runs only at fetch time from then on (its first promise is dropped).
    if (!runtime.queryFns.has(queryCacheKey)) {
      const made = queryFn(db);
      const request = requestOf(made);
      if (request) return { endpointName, queryCacheKey, arg: { queryKey, request, ...(retry !== undefined && { retry }) } };
      if (made && typeof (made as Promise<unknown>).then === 'function') (made as Promise<unknown>).then(undefined, () => undefined);
    }
    runtime.queryFns.set(queryCacheKey, () => queryFn(db));
    return { endpointName, queryCacheKey, arg: { queryKey, request: null, ...(retry !== undefined && { retry }) } };
  };

  const client: QueryClient = {
    api,
    store,
    db,
    getQueryData: <T>(queryKey: QueryKey) => {
      const queryCacheKey = entryKeyOf(queryKey);
      return (queryCacheKey === undefined ? undefined : stored(queryCacheKey)?.data) as T | undefined;
    },
    getQueryState: (queryKey) => {
      const queryCacheKey = entryKeyOf(queryKey);
      return queryCacheKey === undefined ? undefined : queryAt(store.getState(), reducerPath, queryCacheKey, observerInfo)?.state;
    },
    setQueryData: <T>(queryKey: QueryKey, updater: unknown, setOptions?: { updatedAt?: number | undefined }) => setOne(queryKey, updater, setOptions?.updatedAt) as T | undefined,
    setQueriesData: <T>(filters: QueryKey | QueryFilters<Query>, updater: unknown) =>
      batch(() => findAll(filters).map((query): [QueryKey, T | undefined] => [query.queryKey, setOne(query.queryKey, updater) as T | undefined])),
    invalidateQueries: async (filters, invalidateOptions = {}) => {
      const given = toFilters(filters) as QueryFilters<Query> & InvalidateOptions;
      const matched = all().filter((query) => matchQuery(given, query));
      if (matched.length === 0) return;
      store.dispatch(queryInvalidated(reducerPath, matched.map((query) => query.queryCacheKey)));
      const refetchType = invalidateOptions.refetchType ?? given.refetchType ?? 'active';
      if (refetchType === 'none') return;
      const chosen = matched.filter((query) => refetchType === 'all' || (refetchType === 'active') === query.isActive());
      await refetchAll(chosen, invalidateOptions);
    },
    refetchQueries: (filters, refetchOptions = {}) => refetchAll(findAll(filters), refetchOptions),
    cancelQueries: async (filters) => {
      const keys = new Set(findAll(filters).map((query) => query.queryCacheKey));
      const running = (store.dispatch(api.util.getRunningQueriesThunk()) as Array<{ queryCacheKey?: string; abort(): void; then: PromiseLike<unknown>['then'] }>) ?? [];
      const cancelled = running.filter((promise) => promise.queryCacheKey !== undefined && keys.has(promise.queryCacheKey));
      for (const promise of cancelled) promise.abort();
      await Promise.all(cancelled.map((promise) => Promise.resolve(promise).then(undefined, () => undefined)));
    },
    removeQueries: (filters) => {
      // RTK has no public per-entry removal; its own removal action is the one the live and optimistic handlers follow.
      const remove = (api.internalActions as { removeQueryResult?: (payload: { queryCacheKey: string }) => UnknownAction } | undefined)?.removeQueryResult;
      if (!remove) throw new TypeError('removeQueries: this RTK Query version has no removeQueryResult');
      for (const query of findAll(filters)) {
        if (query.isActive()) {
          warnOnce(`removeQueries: ${hashKey(query.queryKey)} is still in use and was kept (RTK Query removes an entry once nothing uses it)`);
          continue;
        }
        store.dispatch(remove({ queryCacheKey: query.queryCacheKey }));
      }
    },
    fetchQuery: async <T>(fetchOptions: FetchQueryOptions) => {
      const { queryKey, queryFn, staleTime = 0 } = fetchOptions;
      const prepared = prepare(queryKey, queryFn, fetchOptions);
      const current = queryAt(store.getState(), reducerPath, prepared.queryCacheKey, observerInfo);
      if (current && current.state.status === 'success' && !current.isStaleByTime(staleTime)) return current.state.data as T;
      const result = await store.dispatch(endpoints[prepared.endpointName]!.initiate(prepared.arg, { subscribe: false, forceRefetch: true }));
      if (result.error !== undefined && result.isError) throw result.error;
      return result.data as T;
    },
    prefetchQuery: async (fetchOptions) => {
      await client.fetchQuery(fetchOptions).catch(() => undefined);
    },
    isFetching: (filters) => findAll(filters).filter((query) => query.state.fetchStatus === 'fetching').length,
    isMutating: (filters = {}) => {
      const mutations = (store.getState() as Record<string, { mutations: Record<string, { status: string; endpointName?: string; originalArgs?: unknown } | undefined> }>)[reducerPath]!.mutations;
      return Object.values(mutations).filter((mutation) => {
        if (mutation?.status !== 'pending') return false;
        if (!filters.mutationKey) return true;
        const key = (mutation.originalArgs as { mutationKey?: QueryKey } | undefined)?.mutationKey;
        return key !== undefined && partialMatchKey(key, filters.mutationKey);
      }).length;
    },
    getQueryCache: () => ({
      find: (filters) => findAll({ exact: true, ...toFilters(filters) })[0],
      findAll,
      getAll: all,
      batch,
      subscribe: (listener) => store.subscribe(listener),
    }),
    setDefaultOptions: (next) => {
      if (next === null || typeof next !== 'object') throw new TypeError(`setDefaultOptions: expected { queries?, mutations? }, got ${JSON.stringify(next)}`);
      if (next.queries?.retry !== undefined) retriesOf(next.queries.retry);
      defaults = next;
      store.dispatch(queryDefaultsSet(reducerPath, serializableDefaults(next)));
    },
    getDefaultOptions: () => defaults,
    observe: (queryCacheKey, observer) => {
      let set = observers.get(queryCacheKey);
      if (!set) observers.set(queryCacheKey, (set = new Set()));
      set.add(observer);
      return () => {
        set!.delete(observer);
        if (set!.size === 0 && observers.get(queryCacheKey) === set) observers.delete(queryCacheKey);
      };
    },
    prepare,
  };
  return client;
}
