import { buildCreateApi, coreModule, type coreModuleName, type EndpointDefinitions } from '@reduxjs/toolkit/query';
import {
  reactHooksModule,
  type reactHooksModuleName,
  type SkipToken,
  type TypedUseQueryHookResult,
  type TypedUseQueryStateOptions,
  type TypedUseQuerySubscriptionOptions,
} from '@reduxjs/toolkit/query/react';
import { buildPostgrestApi, normalizeArg, type CreatePostgrestApiOptions, type PostgrestApi } from '../api';
import type { PostgrestBaseQuery } from '../postgrest/baseQuery';
import type { ResultOf } from '../postgrest/builder';
import type { PostgrestRequestLike } from '../postgrest/types';

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

const createReactApi = buildCreateApi(coreModule(), reactHooksModule());

type AnyHook = (arg: unknown, options?: unknown) => unknown;

/**
 * Hooks compare args structurally only for plain data, so a builder written inline in a component
 * would look new on every render: the read hooks turn it into a plain request first.
 */
function normalizeReadHooks(api: Record<string, unknown>, endpoint: Record<string, unknown>, prefix: 'Read' | 'Live'): void {
  const pairs: Array<[string, string]> = [
    [`use${prefix}Query`, 'useQuery'],
    [`use${prefix}QueryState`, 'useQueryState'],
    [`use${prefix}QuerySubscription`, 'useQuerySubscription'],
  ];
  for (const [apiName, endpointName] of pairs) {
    const hook = api[apiName] as AnyHook | undefined;
    if (!hook) continue;
    const wrapped: AnyHook = (arg, options) => hook(normalizeArg(arg), options);
    api[apiName] = wrapped;
    endpoint[endpointName] = wrapped;
  }
}

/** The same api as the core `createPostgrestApi`, built with RTK's React module so it also has hooks. */
export function createPostgrestApi<Definitions extends EndpointDefinitions = {}, ReducerPath extends string = 'postgrestApi'>(
  options: CreatePostgrestApiOptions<ReducerPath, Definitions>,
): PostgrestReactApi<ReducerPath, Definitions> {
  const api = buildPostgrestApi(createReactApi, options);
  normalizeReadHooks(api as unknown as Record<string, unknown>, api.endpoints.read as unknown as Record<string, unknown>, 'Read');
  normalizeReadHooks(api as unknown as Record<string, unknown>, api.endpoints.live as unknown as Record<string, unknown>, 'Live');
  return api as unknown as PostgrestReactApi<ReducerPath, Definitions>;
}
