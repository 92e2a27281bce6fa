import { buildCreateApi, coreModule, type coreModuleName, type EndpointDefinitions } from '@reduxjs/toolkit/query';
import {
  reactHooksModule,
  type reactHooksModuleName,
  type SkipToken,
  type TypedUseQueryHookResult,
  type TypedUseQueryStateOptions,
  type TypedUseQuerySubscriptionOptions,
} from '@reduxjs/toolkit/query/react';
import { buildPostgrestApi, type CreatePostgrestApiOptions, type PostgrestApi } from '../api/buildPostgrestApi';
import { postgrestModule } from '../api/postgrestModule';
import type { PostgrestBaseQuery } from '../postgrest/http/baseQuery';
import type { ResultOf } from '../postgrest/builder/builder';
import type { PostgrestRequestLike } from '../postgrest/request/types';
import type { GenericDatabase, PostgrestClient } from '../postgrest/builder/database';

/** The data a read resolves with: typed from a builder, `unknown` for a plain request. */
export type ReadData<B> = [ResultOf<B>] extends [never] ? unknown : ResultOf<B>;

/** `useReadQuery` with `data` typed from the builder passed in. */
export interface TypedReadHook {
  <B extends PostgrestRequestLike>(
    arg: B | SkipToken,
    options?: TypedUseQuerySubscriptionOptions & TypedUseQueryStateOptions<ReadData<B>, PostgrestRequestLike, PostgrestBaseQuery>,
  ): TypedUseQueryHookResult<ReadData<B>, PostgrestRequestLike, PostgrestBaseQuery>;
}

export type PostgrestReactApi<ReducerPath extends string, Definitions extends EndpointDefinitions> = Omit<
  PostgrestApi<ReducerPath, Definitions, typeof coreModuleName | typeof reactHooksModuleName>,
  'useReadQuery' | 'useLiveQuery'
> & { useReadQuery: TypedReadHook; useLiveQuery: TypedReadHook };

// The PostgREST module last: it wraps the hooks React's module made (a builder written inline in a
// component would otherwise look new on every render).
const createReactApi = buildCreateApi(coreModule(), reactHooksModule(), postgrestModule());

/** The same api as the core `createPostgrestApi`, built with RTK's React module so it also has hooks. */
export function createPostgrestApi<Definitions extends EndpointDefinitions = {}, ReducerPath extends string = 'postgrestApi'>(
  options: CreatePostgrestApiOptions<ReducerPath, Definitions>,
): PostgrestReactApi<ReducerPath, Definitions>;
/**
 * `createPostgrestApi<Database>()` with a generated `Database` (`npx rtk-postgrest gen types`): the
 * api's `from` / `rpc` / `schema` are typed by it (rows, columns in select and filters, insert and
 * update payloads), and so is the `client` the query hooks give query functions.
 */
export function createPostgrestApi<Database extends GenericDatabase, Definitions extends EndpointDefinitions = {}, ReducerPath extends string = 'postgrestApi'>(
  options: CreatePostgrestApiOptions<ReducerPath, Definitions>,
): PostgrestReactApi<ReducerPath, Definitions> & PostgrestClient<Database, 'public' & keyof Database>;
export function createPostgrestApi(options: CreatePostgrestApiOptions<string, EndpointDefinitions>): unknown {
  return buildPostgrestApi(createReactApi, options);
}
