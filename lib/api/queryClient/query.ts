/**
 * TanStack's view of an RTK Query entry (`Query`, `query.state`), built from the api's state and
 * the query client's records. Nothing here is stored: each call reads the state as it is.
 */
import { hashKey, type MatchableQuery, type QueryKey } from './keys';
import { EMPTY_RECORD, isCancelled, queryRecordsOf, type QueryRecord } from './state';

export type QueryStatus = 'pending' | 'error' | 'success';
export type FetchStatus = 'fetching' | 'paused' | 'idle';

/** `query.state` as TanStack names it; `isStale` is ours (v5 has `query.isStale()` only). */
export interface QueryState<TData = unknown, TError = unknown> {
  data: TData | undefined;
  dataUpdatedAt: number;
  dataUpdateCount: number;
  error: TError | null;
  errorUpdatedAt: number;
  errorUpdateCount: number;
  fetchFailureCount: number;
  fetchFailureReason: TError | null;
  fetchStatus: FetchStatus;
  status: QueryStatus;
  isInvalidated: boolean;
  isStale: boolean;
}

/** One cache entry as TanStack's `Query`. */
export interface Query<TData = unknown, TError = unknown> extends MatchableQuery {
  queryKey: QueryKey;
  queryHash: string;
  /** RTK Query's key of the entry. */
  queryCacheKey: string;
  /** The RTK Query endpoint (`keyed`, `keyedLive`, `read`, `live` or a declared one). */
  endpointName: string;
  /** The entry's `originalArgs` (for keyed entries `{ queryKey, request }`). */
  originalArgs: unknown;
  state: QueryState<TData, TError>;
  isActive(): boolean;
  isStale(): boolean;
  isStaleByTime(staleTime?: number): boolean;
  getObserversCount(): number;
}

/** An RTK Query cache entry (the fields read here). */
export interface StoredEntry {
  status: 'uninitialized' | 'pending' | 'fulfilled' | 'rejected';
  endpointName?: string;
  originalArgs?: unknown;
  data?: unknown;
  error?: unknown;
  fulfilledTimeStamp?: number;
  startedTimeStamp?: number;
  requestId?: string;
}

/** What the views need from the client: its observers' stale times and RTK's subscriptions. */
export interface ObserverInfo {
  /** Stale times of the enabled observers (hooks) of an entry. */
  staleTimes(queryCacheKey: string): number[];
  now(): number;
  /**
   * RTK's own count of an entry's subscriptions, up to date (the store's `subscriptions` is a mirror
   * RTK syncs at most every 500 ms, for DevTools); undefined where it can't be asked.
   */
  subscriptionCount?(queryCacheKey: string): number | undefined;
}

export const KEYED_ENDPOINTS = new Set(['keyed', 'keyedLive']);

/** An entry's query key: its own for keyed entries, else `[endpointName, originalArgs]`. */
export function keyOfEntry(entry: StoredEntry): QueryKey {
  if (entry.endpointName && KEYED_ENDPOINTS.has(entry.endpointName)) return (entry.originalArgs as { queryKey: QueryKey }).queryKey;
  return entry.originalArgs === undefined ? [entry.endpointName] : [entry.endpointName, entry.originalArgs];
}

/** Key and hash per arguments object (the store's objects don't change: a new fetch or edit makes new ones). */
const hashes = new WeakMap<object, { queryKey: QueryKey; queryHash: string }>();
function keyAndHash(entry: StoredEntry): { queryKey: QueryKey; queryHash: string } {
  const args = entry.originalArgs;
  const cacheable = args !== null && typeof args === 'object';
  const cached = cacheable ? hashes.get(args as object) : undefined;
  if (cached && (KEYED_ENDPOINTS.has(entry.endpointName ?? '') || cached.queryKey[0] === entry.endpointName)) return cached;
  const queryKey = keyOfEntry(entry);
  const made = { queryKey, queryHash: hashKey(queryKey) };
  if (cacheable) hashes.set(args as object, made);
  return made;
}

/** The `Query` of one entry. */
export function queryOf(queryCacheKey: string, entry: StoredEntry, record: QueryRecord, subscribed: boolean, observers: ObserverInfo): Query {
  const { queryKey, queryHash } = keyAndHash(entry);
  const dataUpdatedAt = entry.data !== undefined ? (entry.fulfilledTimeStamp ?? 0) : 0;
  const failed = entry.status === 'rejected' && !isCancelled(entry.error);
  const hasData = entry.data !== undefined;
  let status: QueryStatus;
  if (failed) status = 'error';
  else if (entry.status === 'pending') status = hasData ? (record.errorUpdatedAt > dataUpdatedAt ? 'error' : 'success') : 'pending';
  else status = hasData ? 'success' : 'pending';
  const staleTimes = observers.staleTimes(queryCacheKey);
  const isStaleByTime = (staleTime = 0) => record.isInvalidated || !hasData || (staleTime !== Infinity && observers.now() - dataUpdatedAt >= staleTime);
  // TanStack: an entry nobody observes is stale only when invalidated or without data.
  const isStale = staleTimes.length ? staleTimes.some((time) => isStaleByTime(time)) : record.isInvalidated || !hasData;
  const error = failed || (status === 'error' && entry.error !== undefined && !isCancelled(entry.error)) ? (entry.error ?? null) : null;
  return {
    queryKey,
    queryHash,
    queryCacheKey,
    endpointName: entry.endpointName ?? '',
    originalArgs: entry.originalArgs,
    state: {
      data: entry.data,
      dataUpdatedAt,
      dataUpdateCount: record.dataUpdateCount,
      error,
      errorUpdatedAt: record.errorUpdatedAt,
      errorUpdateCount: record.errorUpdateCount,
      fetchFailureCount: record.fetchFailureCount,
      fetchFailureReason: record.fetchFailureCount > 0 ? (error ?? null) : null,
      fetchStatus: entry.status === 'pending' ? 'fetching' : 'idle',
      status,
      isInvalidated: record.isInvalidated,
      isStale,
    },
    isActive: () => staleTimes.length > 0 || subscribed,
    isStale: () => isStale,
    isStaleByTime,
    getObserversCount: () => staleTimes.length,
  };
}

type ApiState = {
  queries?: Record<string, StoredEntry | undefined>;
  subscriptions?: Record<string, Record<string, unknown> | undefined>;
};

/** Every entry of the api at `reducerPath` as a `Query` (entries never fetched nor set are left out). */
export function queriesOf(state: unknown, reducerPath: string, observers: ObserverInfo): Query[] {
  const apiState = (state as Record<string, ApiState | undefined>)[reducerPath];
  const records = queryRecordsOf(state, reducerPath);
  const out: Query[] = [];
  for (const [queryCacheKey, entry] of Object.entries(apiState?.queries ?? {})) {
    if (!entry || entry.status === 'uninitialized' || !entry.endpointName) continue;
    out.push(queryOf(queryCacheKey, entry, records[queryCacheKey] ?? EMPTY_RECORD, isSubscribed(apiState, queryCacheKey, observers), observers));
  }
  return out;
}

/** One entry as a `Query`, or undefined. */
export function queryAt(state: unknown, reducerPath: string, queryCacheKey: string, observers: ObserverInfo): Query | undefined {
  const apiState = (state as Record<string, ApiState | undefined>)[reducerPath];
  const entry = apiState?.queries?.[queryCacheKey];
  if (!entry || !entry.endpointName) return undefined;
  return queryOf(queryCacheKey, entry, queryRecordsOf(state, reducerPath)[queryCacheKey] ?? EMPTY_RECORD, isSubscribed(apiState, queryCacheKey, observers), observers);
}

/** Whether RTK has a subscription to the entry: its own count when it can be asked, else the store's mirror. */
function isSubscribed(apiState: ApiState | undefined, queryCacheKey: string, observers: ObserverInfo): boolean {
  const count = observers.subscriptionCount?.(queryCacheKey);
  if (count !== undefined) return count > 0;
  const subscriptions = apiState?.subscriptions?.[queryCacheKey];
  return subscriptions !== undefined && Object.keys(subscriptions).length > 0;
}
