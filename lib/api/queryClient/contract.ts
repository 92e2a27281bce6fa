/**
 * The query client's actions (shared by the api, which reduces them, and the sync middleware,
 * which sees `dataSet` like a live patch). Plain serializable payloads, so DevTools shows and
 * replays them.
 */
import type { LivePatch } from '../liveContract';
import { livePatchesMeta } from '../liveContract';

/** Entries marked invalidated (they refetch on their next mount, and `isStale` is true). */
export const QUERY_INVALIDATED = 'rtkPostgrest/queryClient/invalidated';
/** `setQueryData` / `setQueriesData`: entries' data replaced as the updater returned it (RTK rehydrates them). */
export const QUERY_DATA_SET = 'rtkPostgrest/queryClient/dataSet';
/** `setDefaultOptions`: the serializable part of the client's defaults, for DevTools. */
export const QUERY_DEFAULTS_SET = 'rtkPostgrest/queryClient/defaultsSet';

export interface QueryInvalidated {
  type: typeof QUERY_INVALIDATED;
  payload: { api: string; queryCacheKeys: string[] };
}

export function queryInvalidated(api: string, queryCacheKeys: string[]): QueryInvalidated {
  return { type: QUERY_INVALIDATED, payload: { api, queryCacheKeys } };
}

/** One action for every entry a `setQueryData` (or a batch of them) replaced: RTK's rehydration writes them. */
export function queryDataSet(api: string, entries: LivePatch[]) {
  return { type: QUERY_DATA_SET, payload: { api, entries }, meta: livePatchesMeta(api) };
}

export function queryDefaultsSet(api: string, defaults: unknown) {
  return { type: QUERY_DEFAULTS_SET, payload: { api, defaults } };
}
