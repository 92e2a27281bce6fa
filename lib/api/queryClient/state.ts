/**
 * The query client's own state: what RTK Query's entries don't record but TanStack's `query.state`
 * has (the invalidated flag, error counts and time). Per queryCacheKey, beside RTK's own state under
 * `state[reducerPath].queryClient`; `withQueryClientState` folds it into the api's reducer.
 */
import type { Reducer, UnknownAction } from '@reduxjs/toolkit';
import { QUERY_INVALIDATED, type QueryInvalidated } from './contract';

export interface QueryRecord {
  isInvalidated: boolean;
  dataUpdateCount: number;
  errorUpdateCount: number;
  /** When the failed fetch started (RTK's `startedTimeStamp`: a reducer can't read the clock and stay replayable). */
  errorUpdatedAt: number;
  /** Failed fetches since the last success (TanStack's `fetchFailureCount`). */
  fetchFailureCount: number;
}

export type QueryClientState = Record<string, QueryRecord>;

/** The key under `state[reducerPath]` (RTK's combined reducer never sees it). */
export const QUERY_CLIENT_KEY = 'queryClient';

/** The record of an entry nothing has happened to yet. */
export const EMPTY_RECORD: QueryRecord = { isInvalidated: false, dataUpdateCount: 0, errorUpdateCount: 0, errorUpdatedAt: 0, fetchFailureCount: 0 };

type ThunkMeta = { arg?: { type?: string; queryCacheKey?: string }; condition?: boolean };

/** RTK's state of the api after the action (the records read the failed fetch's start time from it). */
type RtkApiState = { queries?: Record<string, { startedTimeStamp?: number } | undefined> } | undefined;

function update(state: QueryClientState, key: string, change: (record: QueryRecord) => Partial<QueryRecord>): QueryClientState {
  const record = state[key] ?? EMPTY_RECORD;
  return { ...state, [key]: { ...record, ...change(record) } };
}

/** A cancelled fetch (RTK records it as rejected): TanStack reverts it, so it's no error. */
export function isCancelled(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown } | undefined;
  return e?.name === 'AbortError' || e?.code === 'ABORTED';
}

/** The reducer of the query client's records for the api at `reducerPath`. */
export function queryClientReducer(reducerPath: string) {
  const fulfilled = `${reducerPath}/executeQuery/fulfilled`;
  const rejected = `${reducerPath}/executeQuery/rejected`;
  const removed = `${reducerPath}/queries/removeQueryResult`;
  const reset = `${reducerPath}/resetApiState`;
  return (state: QueryClientState = {}, action: UnknownAction, rtk?: RtkApiState): QueryClientState => {
    const meta = action.meta as ThunkMeta | undefined;
    switch (action.type) {
      case fulfilled: {
        const key = meta?.arg?.queryCacheKey;
        return key === undefined ? state : update(state, key, (record) => ({ dataUpdateCount: record.dataUpdateCount + 1, fetchFailureCount: 0, isInvalidated: false }));
      }
      case rejected: {
        const key = meta?.arg?.queryCacheKey;
        // A fetch RTK skipped (condition) or one that was cancelled is no error (TanStack reverts a cancel).
        const aborted = (meta as { aborted?: boolean } | undefined)?.aborted === true || isCancelled(action.payload ?? action.error);
        if (key === undefined || meta?.condition || aborted) return state;
        const at = rtk?.queries?.[key]?.startedTimeStamp ?? 0;
        return update(state, key, (record) => ({ errorUpdateCount: record.errorUpdateCount + 1, fetchFailureCount: record.fetchFailureCount + 1, errorUpdatedAt: at }));
      }
      case QUERY_INVALIDATED: {
        const { api, queryCacheKeys } = (action as unknown as QueryInvalidated).payload;
        if (api !== reducerPath) return state;
        let next = state;
        for (const key of queryCacheKeys) next = update(next, key, () => ({ isInvalidated: true }));
        return next;
      }
      case removed: {
        const key = (action.payload as { queryCacheKey?: string } | undefined)?.queryCacheKey;
        if (key === undefined || !(key in state)) return state;
        const { [key]: _, ...rest } = state;
        return rest;
      }
      case reset:
        return {};
      default:
        return state;
    }
  };
}

/**
 * The api's reducer with the query client's records folded in: RTK's reducer gets its own state
 * without them (its combined reducer would warn about an unknown key), and they are put back.
 */
export function withQueryClientState<S extends object>(reducerPath: string, reducer: Reducer<S>): Reducer<S & { [QUERY_CLIENT_KEY]?: QueryClientState }> {
  const records = queryClientReducer(reducerPath);
  return ((state: (S & { [QUERY_CLIENT_KEY]?: QueryClientState }) | undefined, action: UnknownAction) => {
    let own: S | undefined;
    let previous: QueryClientState | undefined;
    if (state) {
      const { [QUERY_CLIENT_KEY]: kept, ...rest } = state;
      own = rest as unknown as S;
      previous = kept;
    }
    const next = reducer(own, action);
    const nextRecords = records(previous, action, next as RtkApiState);
    if (state && next === own && nextRecords === previous) return state;
    return { ...next, [QUERY_CLIENT_KEY]: nextRecords };
  }) as Reducer<S & { [QUERY_CLIENT_KEY]?: QueryClientState }>;
}

/** The records of the api at `reducerPath` in the store's state. */
export function queryRecordsOf(state: unknown, reducerPath: string): QueryClientState {
  return ((state as Record<string, { [QUERY_CLIENT_KEY]?: QueryClientState } | undefined>)[reducerPath]?.[QUERY_CLIENT_KEY]) ?? {};
}

