/**
 * The guide's (TanStack Query's) hooks over the one RTK Query cache: `useQuery`, `useMutation`,
 * `useQueryClient`. A query key names an RTK Query entry of the api's `keyed` (or `keyedLive`)
 * endpoint, subscribed with RTK's own hook; a mutation is one RTK mutation (`write` for a builder,
 * `task` for a promise), so writes keep the outbox, `.optimistic()`, automatic tags and DevTools.
 * The hooks hold only what React must: the mutation's phase and the callbacks. See docs/query-client.md.
 */
import { findNonSerializableValue, nanoid } from '@reduxjs/toolkit';
import { createContext, createElement, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useSelector, useStore } from 'react-redux';
import { createQueryClient, type DefaultOptions, type QueryClient, type QueryClientApi, type QueryFunction, type QueryOptionsBase } from '../api/queryClient/client';
import type { QueryFnClient } from '../api/queryClient/db';
import { requestOf, runtimeOf, type FunctionError } from '../api/queryClient/endpoints';
import { hashKey, type QueryKey } from '../api/queryClient/keys';
import { queryOf, type FetchStatus, type QueryStatus, type StoredEntry } from '../api/queryClient/query';
import { EMPTY_RECORD, queryRecordsOf, type QueryRecord } from '../api/queryClient/state';
import type { ResultOf } from '../postgrest/builder/builder';
import type { PostgrestError } from '../postgrest/request/types';

/**
 * What a query's `error` holds: PostgREST's error, or a query function's thrown error, serialized.
 * Both have `message` (TanStack types it `Error`, so `error.message` must compile).
 */
export type QueryError = PostgrestError | FunctionError;

/** The data a query function's result resolves with: a builder's rows, or the promise's value. */
export type QueryFnData<R> = R extends { toRequest(): unknown } ? ([ResultOf<R>] extends [never] ? unknown : ResultOf<R>) : Awaited<R>;

export interface UseQueryOptions<TQueryFnData = unknown, TData = TQueryFnData> extends QueryOptionsBase {
  /** Derives what `data` is from the cached data (the cache keeps the fetched data). */
  select?: (data: TQueryFnData) => TData;
  /** Data for an entry that has none yet (a value, or a function called once); stale per `staleTime` from `initialDataUpdatedAt`. */
  initialData?: TQueryFnData | (() => TQueryFnData | undefined);
  initialDataUpdatedAt?: number;
}

export interface UseQueryObjectOptions<R, TData, Client = QueryFnClient> extends UseQueryOptions<QueryFnData<R>, TData> {
  queryKey: QueryKey;
  queryFn: (client: Client) => R;
}

/** The builders a query function gets: typed by the api's `Database` (`createPostgrestApi<Database>()`), else the untyped ones. */
export type QueryClientOf<A> = A extends { from: infer From; rpc: infer Rpc } ? { from: From; rpc: Rpc } : QueryFnClient;

export interface UseQueryResult<TData = unknown, TError = QueryError> {
  data: TData | undefined;
  error: TError | null;
  status: QueryStatus;
  fetchStatus: FetchStatus;
  isPending: boolean;
  /** `isPending && isFetching`: the first fetch is running. */
  isLoading: boolean;
  isFetching: boolean;
  isRefetching: boolean;
  isSuccess: boolean;
  isError: boolean;
  isStale: boolean;
  dataUpdatedAt: number;
  errorUpdatedAt: number;
  failureCount: number;
  errorUpdateCount: number;
  /** Fetches again now (the request the query function returns on this render); resolves with the result. */
  refetch: () => Promise<UseQueryResult<TData, TError>>;
}

/** What mutation callbacks get last (TanStack v5.80's `MutationFunctionContext`). */
export interface MutationContext {
  client: QueryClient;
  meta?: Record<string, unknown>;
  mutationKey?: QueryKey;
}

export interface MutateCallbacks<TData, TError, TVariables, TOnMutate> {
  onSuccess?: (data: TData, variables: TVariables, onMutateResult: TOnMutate | undefined, context: MutationContext) => unknown;
  onError?: (error: TError, variables: TVariables, onMutateResult: TOnMutate | undefined, context: MutationContext) => unknown;
  onSettled?: (data: TData | undefined, error: TError | null, variables: TVariables, onMutateResult: TOnMutate | undefined, context: MutationContext) => unknown;
}

export interface UseMutationOptions<TData = unknown, TError = any, TVariables = void, TOnMutate = unknown> extends MutateCallbacks<TData, TError, TVariables, TOnMutate> {
  /** Returns a write builder (sent as one RTK mutation through the api), or a promise or value. */
  mutationFn: (variables: TVariables, context: MutationContext) => unknown;
  /** Runs first; what it returns reaches onSuccess / onError / onSettled (the guide's `context`). */
  onMutate?: (variables: TVariables, context: MutationContext) => TOnMutate | Promise<TOnMutate>;
  mutationKey?: QueryKey;
  meta?: Record<string, unknown>;
}

export type MutationStatus = 'idle' | 'pending' | 'success' | 'error';

export interface UseMutationResult<TData = unknown, TError = any, TVariables = void, TOnMutate = unknown> {
  mutate: (variables: TVariables, callbacks?: MutateCallbacks<TData, TError, TVariables, TOnMutate>) => void;
  mutateAsync: (variables: TVariables, callbacks?: MutateCallbacks<TData, TError, TVariables, TOnMutate>) => Promise<TData>;
  reset: () => void;
  status: MutationStatus;
  isIdle: boolean;
  isPending: boolean;
  /** The guide's name (TanStack v4) for `isPending`. */
  isLoading: boolean;
  isSuccess: boolean;
  isError: boolean;
  data: TData | undefined;
  error: TError | null;
  variables: TVariables | undefined;
  /** What onMutate returned for the latest call. */
  context: TOnMutate | undefined;
  failureCount: number;
  failureReason: TError | null;
  submittedAt: number;
}

/** The hooks of one api (no provider needed), as `createSyncHooks` does for the sync hooks. */
export interface QueryHooks<Client = QueryFnClient> {
  useQuery: UseQueryHook<Client>;
  useMutation: <TData = unknown, TError = any, TVariables = void, TOnMutate = unknown>(options: UseMutationOptions<TData, TError, TVariables, TOnMutate>) => UseMutationResult<TData, TError, TVariables, TOnMutate>;
  useQueryClient: () => QueryClient;
}

export interface UseQueryHook<Client = QueryFnClient> {
  <R, TData = QueryFnData<R>>(queryKey: QueryKey, queryFn: (client: Client) => R, options?: UseQueryOptions<QueryFnData<R>, TData>): UseQueryResult<TData, QueryError>;
  <R, TData = QueryFnData<R>>(options: UseQueryObjectOptions<R, TData, Client>): UseQueryResult<TData, QueryError>;
}

const QueryClientContext = createContext<QueryClient | null>(null);

/** Makes the query client of `api` (in react-redux's store) the one `useQuery` / `useMutation` / `useQueryClient` use. */
export function QueryClientProvider({ api, client, defaultOptions, children }: { api?: QueryClientApi; client?: QueryClient; defaultOptions?: DefaultOptions; children?: ReactNode }) {
  const store = useStore();
  if (!client && !api) throw new TypeError('<QueryClientProvider>: give it the api (api={api}) or a client made by createQueryClient');
  const value = useMemo(() => client ?? createQueryClient({ api: api!, store, ...(defaultOptions && { defaultOptions }) }), [client, api, store, defaultOptions]);
  return createElement(QueryClientContext.Provider, { value }, children);
}

/** The `<QueryClientProvider>`'s client. */
export function useQueryClient(): QueryClient {
  const client = useContext(QueryClientContext);
  if (!client) throw new Error('useQueryClient: no query client in context: render inside <QueryClientProvider api={api}>, or use the hooks of createQueryHooks(api)');
  return client;
}

/** `useQuery` of the `<QueryClientProvider>`'s client. */
export const useQuery: UseQueryHook = ((...args: unknown[]) => useQueryOf(useQueryClient(), args)) as UseQueryHook;

/** `useMutation` of the `<QueryClientProvider>`'s client. */
export function useMutation<TData = unknown, TError = any, TVariables = void, TOnMutate = unknown>(options: UseMutationOptions<TData, TError, TVariables, TOnMutate>): UseMutationResult<TData, TError, TVariables, TOnMutate> {
  return useMutationOf(useQueryClient(), options);
}

/**
 * `useQuery`, `useMutation` and `useQueryClient` bound to `api` (the store is react-redux's); with
 * `createPostgrestApi<Database>()` query functions get builders typed by the `Database`.
 */
export function createQueryHooks<A extends QueryClientApi>(api: A, defaultOptions?: DefaultOptions): QueryHooks<QueryClientOf<A>> {
  const useClient = () => {
    const store = useStore();
    return useMemo(() => createQueryClient({ api, store, ...(defaultOptions && { defaultOptions }) }), [store]);
  };
  return {
    useQuery: ((...args: unknown[]) => useQueryOf(useClient(), args)) as UseQueryHook<QueryClientOf<A>>,
    useMutation: (options) => useMutationOf(useClient(), options),
    useQueryClient: useClient,
  };
}

type RtkQueryEndpoint = {
  useQuerySubscription?: (arg: unknown, options: Record<string, unknown>) => { refetch: () => unknown };
  initiate: (arg: unknown, options?: Record<string, unknown>) => any;
};

const isBrowser = typeof window !== 'undefined' && typeof window.addEventListener === 'function';

function readArgs(args: unknown[]): { queryKey: QueryKey; queryFn: QueryFunction; options: UseQueryOptions<any, any> } {
  if (Array.isArray(args[0])) return { queryKey: args[0] as QueryKey, queryFn: args[1] as QueryFunction, options: (args[2] ?? {}) as UseQueryOptions };
  const given = args[0] as UseQueryObjectOptions<unknown, unknown> | undefined;
  if (!given || typeof given !== 'object') throw new TypeError('useQuery: call it as useQuery(key, queryFn, options) or useQuery({ queryKey, queryFn, ...options })');
  const { queryKey, queryFn, ...options } = given;
  return { queryKey, queryFn: queryFn as QueryFunction, options };
}

/** How RTK's subscription option says "refetch at mount": TanStack's staleTime / refetchOnMount. */
function refetchOnMount(options: UseQueryOptions<any, any>, staleTime: number, invalidated: boolean): boolean | number {
  if (options.refetchOnMount === false) return invalidated;
  if (options.refetchOnMount === 'always' || invalidated || staleTime <= 0) return true;
  if (staleTime === Infinity) return false;
  return staleTime / 1000;
}

function useQueryOf(client: QueryClient, args: unknown[]): UseQueryResult<any> {
  const { queryKey, queryFn, options: given } = readArgs(args);
  const options = { ...client.getDefaultOptions().queries, ...given } as UseQueryOptions<any, any>;
  const live = options.live === true;
  const enabled = options.enabled !== false;
  const staleTime = live ? Infinity : (options.staleTime ?? 0);
  const reducerPath = client.api.reducerPath;
  // The request is made again on each render (builders are pure); the entry's key is the query key's.
  const prepared = client.prepare(queryKey, queryFn, { live, ...(options.retry !== undefined && { retry: options.retry }) });
  const { queryCacheKey, endpointName } = prepared;
  const argRef = useRef(prepared.arg);
  argRef.current = prepared.arg;
  const endpoint = client.api.endpoints[endpointName] as RtkQueryEndpoint;
  if (typeof endpoint.useQuerySubscription !== 'function') {
    throw new TypeError('useQuery: the api has no React hooks: make it with createPostgrestApi from rtk-postgrest/react');
  }
  const development = typeof process === 'undefined' || process.env?.NODE_ENV !== 'production';
  const lastRequest = useRef<{ key: string; request: string } | undefined>(undefined);
  if (development && prepared.arg.request) {
    const request = JSON.stringify(prepared.arg.request);
    if (lastRequest.current?.key === queryCacheKey && lastRequest.current.request !== request) {
      console.warn(`useQuery ${hashKey(queryKey)}: the query function returned another request under the same key; put every variable it uses in the key (the new request is used from the next fetch)`);
    }
    lastRequest.current = { key: queryCacheKey, request };
  }

  const entry = useSelector((state: unknown) => (state as Record<string, { queries: Record<string, StoredEntry | undefined> }>)[reducerPath]?.queries[queryCacheKey]);
  const record = useSelector((state: unknown) => queryRecordsOf(state, reducerPath)[queryCacheKey]) ?? EMPTY_RECORD;

  // initialData: written before RTK's subscription effect runs, when the entry has no data.
  const initial = useRef<{ key: string; value: unknown } | undefined>(undefined);
  if (options.initialData !== undefined && entry?.data === undefined && initial.current?.key !== queryCacheKey) {
    const value = typeof options.initialData === 'function' ? (options.initialData as () => unknown)() : options.initialData;
    initial.current = { key: queryCacheKey, value };
  }
  useLayoutEffect(() => {
    const value = initial.current?.key === queryCacheKey ? initial.current.value : undefined;
    if (value === undefined) return;
    if (client.getQueryData(queryKey) === undefined) client.setQueryData(queryKey, value, { updatedAt: options.initialDataUpdatedAt });
  }, [queryCacheKey]);

  useEffect(() => {
    if (!enabled) return undefined;
    return client.observe(queryCacheKey, { staleTime });
  }, [client, queryCacheKey, staleTime, enabled]);

  endpoint.useQuerySubscription(prepared.arg, {
    skip: !enabled,
    refetchOnMountOrArgChange: refetchOnMount(options, staleTime, record.isInvalidated),
    pollingInterval: live || !options.refetchInterval ? 0 : options.refetchInterval,
    skipPollingIfUnfocused: options.refetchIntervalInBackground !== true,
    // Focus and reconnect are ours (below): TanStack refetches only stale data on them.
    refetchOnFocus: false,
    refetchOnReconnect: false,
  });

  const refetchNow = useCallback(async () => {
    await client.store.dispatch(endpoint.initiate(argRef.current, { subscribe: false, forceRefetch: true }));
  }, [client, endpoint]);

  // Window focus and reconnect: refetch when stale ('always': every time), as TanStack does.
  const focusRef = useRef({ onFocus: options.refetchOnWindowFocus ?? true, onReconnect: options.refetchOnReconnect ?? true, staleTime });
  focusRef.current = { onFocus: options.refetchOnWindowFocus ?? true, onReconnect: options.refetchOnReconnect ?? true, staleTime };
  useEffect(() => {
    if (!enabled || live || !isBrowser) return undefined;
    const maybeRefetch = (mode: boolean | 'always') => {
      if (mode === false) return;
      const state = client.getQueryState(queryKey);
      if (mode === 'always' || !state || state.isInvalidated || state.data === undefined || Date.now() - state.dataUpdatedAt >= focusRef.current.staleTime) void refetchNow();
    };
    const onFocus = () => {
      if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return;
      maybeRefetch(focusRef.current.onFocus);
    };
    const onOnline = () => maybeRefetch(focusRef.current.onReconnect);
    window.addEventListener('focus', onFocus);
    window.addEventListener('visibilitychange', onFocus);
    window.addEventListener('online', onOnline);
    return () => {
      window.removeEventListener('focus', onFocus);
      window.removeEventListener('visibilitychange', onFocus);
      window.removeEventListener('online', onOnline);
    };
  }, [client, queryCacheKey, enabled, live, refetchNow]);

  const select = options.select;
  const view = useMemo(() => {
    const shown: StoredEntry = entry ?? { status: 'uninitialized', endpointName, originalArgs: prepared.arg };
    const withInitial = shown.data === undefined && initial.current?.key === queryCacheKey ? { ...shown, status: 'fulfilled' as const, data: initial.current.value, fulfilledTimeStamp: options.initialDataUpdatedAt ?? Date.now() } : shown;
    const state = queryOf(queryCacheKey, withInitial, record as QueryRecord, enabled, { staleTimes: () => [staleTime], now: Date.now }).state;
    // Before RTK's subscription starts (an effect), an enabled query without data is about to fetch (as TanStack reports it).
    return enabled && withInitial.status === 'uninitialized' ? { ...state, fetchStatus: 'fetching' as const } : state;
  }, [entry, record, staleTime, queryCacheKey, enabled]);
  const data = useMemo(() => (select && view.data !== undefined ? select(view.data) : view.data), [view.data, select]);

  const resultRef = useRef<UseQueryResult<any> | undefined>(undefined);
  const refetch = useCallback(async () => {
    await refetchNow();
    return resultRef.current!;
  }, [refetchNow]);
  const pending = view.status === 'pending';
  const fetching = view.fetchStatus === 'fetching';
  const result: UseQueryResult<any> = {
    data,
    error: view.error as QueryError | null,
    status: view.status,
    fetchStatus: view.fetchStatus,
    isPending: pending,
    isLoading: pending && fetching,
    isFetching: fetching,
    isRefetching: fetching && !pending,
    isSuccess: view.status === 'success',
    isError: view.status === 'error',
    isStale: view.isStale,
    dataUpdatedAt: view.dataUpdatedAt,
    errorUpdatedAt: view.errorUpdatedAt,
    failureCount: view.fetchFailureCount,
    errorUpdateCount: view.errorUpdateCount,
    refetch,
  };
  resultRef.current = result;
  return result;
}

type MutationState = { status: MutationStatus; data: unknown; error: unknown; variables: unknown; context: unknown; failureCount: number; submittedAt: number };
const IDLE: MutationState = { status: 'idle', data: undefined, error: null, variables: undefined, context: undefined, failureCount: 0, submittedAt: 0 };

function useMutationOf<TData, TError, TVariables, TOnMutate>(client: QueryClient, options: UseMutationOptions<TData, TError, TVariables, TOnMutate>): UseMutationResult<TData, TError, TVariables, TOnMutate> {
  if (!options || typeof options.mutationFn !== 'function') throw new TypeError('useMutation: options.mutationFn must be a function (variables) => builder | promise');
  const [state, setState] = useState<MutationState>(IDLE);
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const latest = useRef(0);

  /** The mutation function's result as data: a builder is one `write` mutation; anything else a `task`. */
  const run = useCallback(async (variables: TVariables, context: MutationContext): Promise<TData> => {
    const out = optionsRef.current.mutationFn(variables, context);
    const request = requestOf(out);
    const endpoints = client.api.endpoints as Record<string, RtkQueryEndpoint>;
    let running: { unwrap(): Promise<unknown>; reset(): void };
    if (request) running = client.store.dispatch(endpoints.write!.initiate(request));
    else {
      const id = nanoid();
      runtimeOf(client.api).tasks.set(id, () => out);
      const { mutationKey } = optionsRef.current;
      const serializable = variables === undefined || !findNonSerializableValue(variables);
      running = client.store.dispatch(endpoints.task!.initiate({ fn: id, ...(mutationKey && { mutationKey }), ...(serializable && variables !== undefined && { variables }) }));
    }
    try {
      return (await running.unwrap()) as TData;
    } finally {
      // The hook holds the result; the store keeps no finished mutation (as RTK's useMutation on unmount).
      running.reset();
    }
  }, [client]);

  const mutateAsync = useCallback(async (variables: TVariables, callbacks?: MutateCallbacks<TData, TError, TVariables, TOnMutate>): Promise<TData> => {
    const call = ++latest.current;
    const own = optionsRef.current;
    const context: MutationContext = { client, ...(own.meta && { meta: own.meta }), ...(own.mutationKey && { mutationKey: own.mutationKey }) };
    const submittedAt = Date.now();
    setState({ ...IDLE, status: 'pending', variables, submittedAt });
    let onMutateResult: TOnMutate | undefined;
    try {
      onMutateResult = await own.onMutate?.(variables, context);
      if (call === latest.current) setState((s) => ({ ...s, context: onMutateResult }));
      const data = await run(variables, context);
      await own.onSuccess?.(data, variables, onMutateResult, context);
      await own.onSettled?.(data, null, variables, onMutateResult, context);
      if (call === latest.current) {
        setState({ status: 'success', data, error: null, variables, context: onMutateResult, failureCount: 0, submittedAt });
        await callbacks?.onSuccess?.(data, variables, onMutateResult, context);
        await callbacks?.onSettled?.(data, null, variables, onMutateResult, context);
      }
      return data;
    } catch (thrown) {
      const error = thrown as TError;
      try {
        await own.onError?.(error, variables, onMutateResult, context);
        await own.onSettled?.(undefined, error, variables, onMutateResult, context);
      } finally {
        if (call === latest.current) {
          setState({ status: 'error', data: undefined, error, variables, context: onMutateResult, failureCount: 1, submittedAt });
          await callbacks?.onError?.(error, variables, onMutateResult, context);
          await callbacks?.onSettled?.(undefined, error, variables, onMutateResult, context);
        }
      }
      throw error;
    }
  }, [client, run]);

  const mutate = useCallback((variables: TVariables, callbacks?: MutateCallbacks<TData, TError, TVariables, TOnMutate>) => {
    mutateAsync(variables, callbacks).catch(() => undefined);
  }, [mutateAsync]);
  const reset = useCallback(() => {
    latest.current++;
    setState(IDLE);
  }, []);

  return {
    mutate,
    mutateAsync,
    reset,
    status: state.status,
    isIdle: state.status === 'idle',
    isPending: state.status === 'pending',
    isLoading: state.status === 'pending',
    isSuccess: state.status === 'success',
    isError: state.status === 'error',
    data: state.data as TData | undefined,
    error: state.error as TError | null,
    variables: state.variables as TVariables | undefined,
    context: state.context as TOnMutate | undefined,
    failureCount: state.failureCount,
    failureReason: state.status === 'error' ? (state.error as TError) : null,
    submittedAt: state.submittedAt,
  };
}
