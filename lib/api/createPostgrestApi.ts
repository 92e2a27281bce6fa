import type {
  Api,
  ApiModules,
  CreateApi,
  EndpointBuilder,
  EndpointDefinitions,
  MutationDefinition,
  QueryDefinition,
} from '@reduxjs/toolkit/query';
import { defaultSerializeQueryArgs } from '@reduxjs/toolkit/query';
import { postgrestBaseQuery, type GetToken, type PostgrestBaseQuery } from '../postgrest/baseQuery';
import { isPostgrestRequest, toPostgrestRequest } from '../postgrest/request';
import type { PostgrestMeta, PostgrestRequest, PostgrestRequestLike } from '../postgrest/types';
import { invalidatedTags, providedTags, tagType, type PrimaryKeys, type Tag } from './tags';

/** The names of RTK Query modules (core, react hooks). */
export type ModuleName = keyof ApiModules<any, any, any, any>;

/**
 * Dispatched by a `live` fetch before it starts (payload `{ endpoint, request }`); a sync middleware
 * returns a promise that settles once the table's changes are live, so no change falls between the
 * fetch and the subscription.
 */
export const LIVE_FETCH_STARTING = 'rtkPostgrest/liveFetchStarting';

/** Tag types the automatic tags use besides table names. */
export const BUILTIN_TAG_TYPES = ['POSTGREST', 'RPC'] as const;

export type PostgrestEndpointBuilder<ReducerPath extends string> = EndpointBuilder<PostgrestBaseQuery, string, ReducerPath>;

/** The endpoints every PostgREST api has. */
export type GenericEndpoints<ReducerPath extends string> = {
  /** Any read request (a builder chain or a `PostgrestRequest`). */
  read: QueryDefinition<PostgrestRequestLike, PostgrestBaseQuery, string, unknown, ReducerPath>;
  /**
   * A read kept equal to the database while it has subscribers: the sync middleware
   * (`createSyncMiddleware({ api })`) patches it from row changes, or refetches it where the client
   * can't evaluate the request. Without the sync middleware it behaves like `read`.
   */
  live: QueryDefinition<PostgrestRequestLike, PostgrestBaseQuery, string, unknown, ReducerPath>;
  /** Any write request. */
  write: MutationDefinition<PostgrestRequestLike, PostgrestBaseQuery, string, unknown, ReducerPath>;
};

export interface CreatePostgrestApiOptions<ReducerPath extends string, Definitions extends EndpointDefinitions> {
  /** Where the api's state lives in the store; default `postgrestApi`. */
  reducerPath?: ReducerPath;
  /** PostgREST's base URL. */
  url: string;
  /** The anonymous key, sent as `apikey` and as the bearer when there is no user token. */
  apiKey?: string;
  /** Called per request; its token (when any) authenticates the request. */
  getToken?: GetToken;
  fetchFn?: typeof fetch;
  timeoutMs?: number;
  /** Primary key per table (`{ memberships: ['org_id', 'user_id'] }`); default `id`. */
  primaryKeys?: PrimaryKeys;
  /** Declared endpoints; a `query` returns a builder or request. Tags are automatic unless given. */
  endpoints?: (build: PostgrestEndpointBuilder<ReducerPath>) => Definitions;
  /** Extra tag types for endpoints' own tags. */
  tagTypes?: readonly string[];
  keepUnusedDataFor?: number;
  refetchOnMountOrArgChange?: boolean | number;
  refetchOnFocus?: boolean;
  refetchOnReconnect?: boolean;
}

export type PostgrestApi<
  ReducerPath extends string,
  Definitions extends EndpointDefinitions,
  Modules extends ModuleName,
> = Api<PostgrestBaseQuery, GenericEndpoints<ReducerPath> & Definitions, ReducerPath, string, Modules>;

/** A request from whatever an endpoint received, or undefined when it is none. */
function requestFrom(meta: PostgrestMeta | undefined, arg: unknown): PostgrestRequest | undefined {
  if (meta?.request) return meta.request;
  try {
    return toPostgrestRequest(arg as PostgrestRequestLike);
  } catch {
    return undefined;
  }
}

/**
 * Normalizes builder chains to plain requests so actions, state and cache keys stay serializable.
 * A request is returned as is (hooks compare args by identity); anything else that is no request
 * (skipToken, a mistake) passes through, and the base query answers a mistake with INVALID_REQUEST.
 */
export function normalizeArg(arg: unknown): unknown {
  if (isPostgrestRequest(arg)) return arg;
  try {
    return toPostgrestRequest(arg as PostgrestRequestLike);
  } catch {
    return arg;
  }
}

function autoProvides(primaryKeys: PrimaryKeys | undefined) {
  return (result: unknown, error: unknown, arg: unknown, meta?: PostgrestMeta): Tag[] => {
    const request = requestFrom(meta, arg);
    if (!request) return [];
    // A failed read is retried by any write to its table.
    if (error) return [{ type: request.action === 'rpc' ? 'RPC' : tagType(request), id: request.action === 'rpc' ? request.relation : 'LIST' }];
    return providedTags(request, result, primaryKeys);
  };
}

function autoInvalidates(primaryKeys: PrimaryKeys | undefined) {
  return (result: unknown, error: unknown, arg: unknown, meta?: PostgrestMeta): Tag[] => {
    if (error) return []; // PostgREST writes are transactional: a failed write changed nothing.
    const request = requestFrom(meta, arg);
    return request ? invalidatedTags(request, result, primaryKeys) : [];
  };
}

/** Wraps the endpoint builder so declared endpoints get automatic tags unless they set their own. */
function withAutoTags<RP extends string>(build: PostgrestEndpointBuilder<RP>, primaryKeys?: PrimaryKeys): PostgrestEndpointBuilder<RP> {
  return {
    ...build,
    query: ((definition: Record<string, unknown>) =>
      build.query({ providesTags: autoProvides(primaryKeys), ...definition } as never)) as typeof build.query,
    mutation: ((definition: Record<string, unknown>) =>
      build.mutation({ invalidatesTags: autoInvalidates(primaryKeys), ...definition } as never)) as typeof build.mutation,
  };
}

function validateOptions(options: CreatePostgrestApiOptions<string, EndpointDefinitions>): void {
  if (!options || typeof options !== 'object') throw new TypeError('createPostgrestApi: options are required ({ url, ... })');
  if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
    throw new TypeError(`createPostgrestApi: "url" must be PostgREST's http(s) URL, got ${JSON.stringify(options.url)}`);
  }
  if (options.getToken !== undefined && typeof options.getToken !== 'function') {
    throw new TypeError('createPostgrestApi: "getToken" must be a function returning the user\'s token (or nothing)');
  }
  if (options.endpoints !== undefined && typeof options.endpoints !== 'function') {
    throw new TypeError('createPostgrestApi: "endpoints" must be a function (build) => ({ ... })');
  }
  for (const [table, pk] of Object.entries(options.primaryKeys ?? {})) {
    const ok = typeof pk === 'string' ? pk.length > 0 : Array.isArray(pk) && pk.length > 0 && pk.every((c) => typeof c === 'string' && c);
    if (!ok) throw new TypeError(`createPostgrestApi: primaryKeys.${table} must be a column name or a non-empty array of column names`);
  }
}

/** Builds the api with a given `createApi` (core, or with RTK's React module for hooks). */
export function buildPostgrestApi<
  Modules extends ModuleName,
  Definitions extends EndpointDefinitions = {},
  ReducerPath extends string = 'postgrestApi',
>(
  createApi: CreateApi<Modules>,
  options: CreatePostgrestApiOptions<ReducerPath, Definitions>,
): PostgrestApi<ReducerPath, Definitions, Modules> {
  validateOptions(options as CreatePostgrestApiOptions<string, EndpointDefinitions>);
  const { primaryKeys } = options;
  const baseQuery = postgrestBaseQuery({
    url: options.url,
    apiKey: options.apiKey,
    getToken: options.getToken,
    fetchFn: options.fetchFn,
    timeoutMs: options.timeoutMs,
  });
  const api = createApi({
    reducerPath: (options.reducerPath ?? 'postgrestApi') as ReducerPath,
    baseQuery,
    tagTypes: [...BUILTIN_TAG_TYPES, ...(options.tagTypes ?? [])],
    keepUnusedDataFor: options.keepUnusedDataFor,
    refetchOnMountOrArgChange: options.refetchOnMountOrArgChange,
    refetchOnFocus: options.refetchOnFocus,
    refetchOnReconnect: options.refetchOnReconnect,
    endpoints: (build) => {
      const readDefinition = () =>
        build.query<unknown, PostgrestRequestLike>({
          query: (arg) => arg,
          // Builders and equal requests share one cache entry.
          serializeQueryArgs: ({ queryArgs, endpointDefinition, endpointName }) =>
            defaultSerializeQueryArgs({ queryArgs: normalizeArg(queryArgs), endpointDefinition, endpointName }),
          providesTags: autoProvides(primaryKeys),
        });
      const generic: GenericEndpoints<ReducerPath> = {
        read: readDefinition(),
        live: build.query<unknown, PostgrestRequestLike>({
          // Subscribe first, then fetch: a sync middleware answers LIVE_FETCH_STARTING with a promise
          // that settles once the table's changes are live; without one the fetch starts at once.
          queryFn: async (arg, queryApi, _extra, fetchWithBaseQuery) => {
            await Promise.resolve(); // RTK registers the running query only after initiate returned
            let request: PostgrestRequest;
            try {
              request = toPostgrestRequest(arg);
            } catch {
              return fetchWithBaseQuery(arg) as never; // the base query answers INVALID_REQUEST
            }
            const gate = queryApi.dispatch({ type: LIVE_FETCH_STARTING, payload: { endpoint: queryApi.endpoint, request } }) as unknown;
            if (gate && typeof (gate as Promise<unknown>).then === 'function') await gate;
            return fetchWithBaseQuery(request) as never;
          },
          serializeQueryArgs: ({ queryArgs, endpointDefinition, endpointName }) =>
            defaultSerializeQueryArgs({ queryArgs: normalizeArg(queryArgs), endpointDefinition, endpointName }),
          providesTags: autoProvides(primaryKeys),
        }),
        write: build.mutation<unknown, PostgrestRequestLike>({
          query: (arg) => arg,
          invalidatesTags: autoInvalidates(primaryKeys),
        }),
      };
      const declared = options.endpoints ? options.endpoints(withAutoTags(build, primaryKeys)) : ({} as Definitions);
      for (const name of Object.keys(declared)) {
        if (name in generic) throw new TypeError(`createPostgrestApi: endpoint name "${name}" is reserved for the generic endpoint`);
      }
      return { ...generic, ...declared };
    },
  }) as unknown as PostgrestApi<ReducerPath, Definitions, Modules>;

  // A builder chain passed to initiate becomes a plain request before it reaches any action.
  for (const name of ['read', 'live', 'write'] as const) {
    const endpoint = (api as unknown as { endpoints: Record<string, unknown> }).endpoints[name] as { initiate: (arg: unknown, options?: unknown) => unknown };
    const initiate = endpoint.initiate;
    endpoint.initiate = (arg: unknown, initiateOptions?: unknown) => initiate(normalizeArg(arg), initiateOptions);
  }
  return api;
}
