import { buildCreateApi, coreModule } from '@reduxjs/toolkit/query';
import type { EndpointDefinitions } from '@reduxjs/toolkit/query';
import { buildPostgrestApi, type CreatePostgrestApiOptions, type PostgrestApi } from './buildPostgrestApi';
import { postgrestModule } from './postgrestModule';
import type { GenericDatabase, PostgrestClient } from '../postgrest/builder/database';

// Public: what an app or a custom buildCreateApi module uses. The api ↔ sync contract
// (liveContract.ts) and the builders' internals are imported by path, never from here.
export { BUILTIN_TAG_TYPES, type CreatePostgrestApiOptions, type GenericEndpoints, type PostgrestApi, type PostgrestEndpointBuilder } from './buildPostgrestApi';
export { postgrestModule, postgrestModuleName, type PostgrestModule } from './postgrestModule';
export { keysetPages, offsetPages, type KeysetPageParam, type KeysetPagesOptions, type OffsetPagesOptions, type PagedDefinition, type PagedRequest } from './pages';
export { invalidatedTags, liveTags, providedTags, type PrimaryKeys, type Tag } from './tags';

const createCoreApi = buildCreateApi(coreModule(), postgrestModule());

/** An RTK Query api for PostgREST with the generic `read` / `write` endpoints and automatic tags (no hooks). */
export function createPostgrestApi<Definitions extends EndpointDefinitions = {}, ReducerPath extends string = 'postgrestApi'>(
  options: CreatePostgrestApiOptions<ReducerPath, Definitions>,
): PostgrestApi<ReducerPath, Definitions, typeof import('@reduxjs/toolkit/query').coreModuleName>;
/** `createPostgrestApi<Database>()`: the api's `from` / `rpc` / `schema` typed by a generated `Database`. */
export function createPostgrestApi<Database extends GenericDatabase, Definitions extends EndpointDefinitions = {}, ReducerPath extends string = 'postgrestApi'>(
  options: CreatePostgrestApiOptions<ReducerPath, Definitions>,
): PostgrestApi<ReducerPath, Definitions, typeof import('@reduxjs/toolkit/query').coreModuleName> & PostgrestClient<Database, 'public' & keyof Database>;
export function createPostgrestApi(options: CreatePostgrestApiOptions<string, EndpointDefinitions>): unknown {
  return buildPostgrestApi(createCoreApi, options);
}
export { createQueryClient, hashKey, matchQuery, partialMatchKey } from './queryClient/index';
export type { AwaitableClient, DefaultOptions, FetchQueryOptions, FetchStatus, FunctionError, InvalidateOptions, KeyedArg, Query, QueryCache, QueryClient, QueryFilters, QueryFnClient, QueryFunction, QueryKey, QueryOptionsBase, QueryState, QueryStatus, RefetchOptions, RetryValue, TaskArg } from './queryClient/index';
