/** The query client (TanStack Query's API) over one RTK Query api: see docs/query-client.md. */
export { createQueryClient, retriesOf, type DefaultOptions, type FetchQueryOptions, type InvalidateOptions, type PreparedQuery, type QueryCache, type QueryClient, type QueryClientApi, type QueryClientStore, type QueryFunction, type QueryOptionsBase, type RefetchOptions, type RetryValue } from './client';
export { hashKey, matchQuery, partialMatchKey, type QueryFilters, type QueryKey } from './keys';
export type { FetchStatus, Query, QueryState, QueryStatus } from './query';
export { isCancelled } from './state';
export { QUERY_DATA_SET, QUERY_DEFAULTS_SET, QUERY_INVALIDATED } from './contract';
export { functionError, requestOf, runtimeOf, type FunctionError, type KeyedArg, type TaskArg } from './endpoints';
export type { AwaitableChain, AwaitableClient, QueryFnClient } from './db';
