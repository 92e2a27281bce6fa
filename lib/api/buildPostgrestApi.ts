/**
 * buildPostgrestApi: what both `createPostgrestApi`s (lib/api/index.ts without hooks,
 * lib/react/createPostgrestApi.ts with them) build with their own `createApi`: the base query, the
 * generic `read` / `live` / `write` endpoints, declared endpoints, automatic tags and the live contract.
 */
import type {
  Api,
  ApiModules,
  CreateApi,
  EndpointBuilder,
  EndpointDefinitions,
  MutationDefinition,
  QueryDefinition,
} from '@reduxjs/toolkit/query';
import { defaultSerializeQueryArgs, type QueryReturnValue } from '@reduxjs/toolkit/query';
import { keyFilters } from '../postgrest/builder/filters';
import { postgrestClient } from '../postgrest/builder/database';
import { postgrestBaseQuery, type PostgrestBaseQuery, type PostgrestBaseQueryOptions } from '../postgrest/http/baseQuery';
import { toPostgrestRequest } from '../postgrest/request/request';
import type { PostgrestError, PostgrestMeta, PostgrestRequest, PostgrestRequestLike } from '../postgrest/request/types';
import { gateOf, LIVE_FETCH_STARTING, livePatchesRehydration, OPTIMISTIC_WRITE_SETTLING, optimisticStarting, planOf, registerLiveEndpoints, takePlan, verdictOf, windowLimit, type WriteResult } from './liveContract';
import { pagedListOf, type PagedList } from './pages';
import { normalizeArg } from './postgrestModule';
import { isPassingWriteFailure, turnOf, writeDone, writeWaiting, type WriteWaiting } from './writeContract';
import { invalidatedTags, liveTags, providedTags, rowsOf, tagType, type PrimaryKeys, type Tag } from './tags';
import { queryClientEndpoints, type KeyedArg, type TaskArg } from './queryClient/endpoints';
import { withQueryClientState } from './queryClient/state';

/**
 * How many requests an optimistic write makes at most: the write, then per conflict a read of the row
 * and the write again (the sync middleware gives up on a row that keeps changing well before).
 */
const MAX_SENDS = 21;

/** The request of a write (not a GET or HEAD); undefined for anything else (the base query reports bad args). */
function writeRequest(arg: unknown): PostgrestRequest | undefined {
  try {
    const request = toPostgrestRequest(arg as PostgrestRequestLike);
    return request.method === 'GET' || request.method === 'HEAD' ? undefined : request;
  } catch {
    return undefined;
  }
}

/** `request` asking for a list of rows (a single row's Accept header dropped: an insert sent again may return none). */
function asList(request: PostgrestRequest): PostgrestRequest {
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name.toLowerCase() !== 'accept'));
  return { ...request, headers, result: 'many' };
}

/** What the base query resolves with. */
type WriteReply = QueryReturnValue<unknown, PostgrestError, PostgrestMeta>;

/** The names of RTK Query modules (core, react hooks). */
export type ModuleName = keyof ApiModules<any, any, any, any>;

/** Tag types the automatic tags use besides table names. */
export const BUILTIN_TAG_TYPES = ['POSTGREST', 'RPC'] as const;

export type PostgrestEndpointBuilder<ReducerPath extends string> = EndpointBuilder<PostgrestBaseQuery, string, ReducerPath> & {
  /**
   * A query endpoint whose entries a sync middleware keeps equal to the database (like the generic
   * `live`): its `query` must return a PostgREST select.
   */
  liveQuery: EndpointBuilder<PostgrestBaseQuery, string, ReducerPath>['query'];
  /**
   * An infinite query endpoint whose entries a sync middleware keeps equal to the database: with
   * `keysetPages` rows enter and leave the loaded pages by order; other pages are refetched.
   */
  liveInfiniteQuery: EndpointBuilder<PostgrestBaseQuery, string, ReducerPath>['infiniteQuery'];
};

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
  /** The query client's entries, one per query key (`useQuery(key, fn)`). */
  keyed: QueryDefinition<KeyedArg, PostgrestBaseQuery, string, unknown, ReducerPath>;
  /** The query client's live entries (`useQuery(key, fn, { live: true })`). */
  keyedLive: QueryDefinition<KeyedArg, PostgrestBaseQuery, string, unknown, ReducerPath>;
  /** The query client's mutations whose function returned no builder (`useMutation`). */
  task: MutationDefinition<TaskArg, PostgrestBaseQuery, string, unknown, ReducerPath>;
};

/** The base query's options (url, keys, token, fetch, time limit, read retries) and the api's own. */
export interface CreatePostgrestApiOptions<ReducerPath extends string, Definitions extends EndpointDefinitions> extends PostgrestBaseQueryOptions {
  /** Where the api's state lives in the store; default `postgrestApi`. */
  reducerPath?: ReducerPath;
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
  // The query client's keyed entries carry their request beside the key.
  if (arg && typeof arg === 'object' && 'queryKey' in arg) return (arg as KeyedArg).request ?? undefined;
  try {
    return toPostgrestRequest(arg as PostgrestRequestLike);
  } catch {
    return undefined;
  }
}

function autoProvides(primaryKeys: PrimaryKeys | undefined) {
  return (result: unknown, error: unknown, arg: unknown, meta?: PostgrestMeta): Tag[] => {
    const request = requestFrom(meta, arg);
    if (!request) return [];
    // A failed read is retried by any write to its table.
    if (error) return [{ type: request.action === 'rpc' ? 'RPC' : tagType(request), id: request.action === 'rpc' ? request.relation : 'LIST' }];
    return meta?.live ? liveTags(request) : providedTags(request, result, primaryKeys);
  };
}

function autoInvalidates(primaryKeys: PrimaryKeys | undefined) {
  return (result: unknown, error: unknown, arg: unknown, meta?: PostgrestMeta): Tag[] => {
    if (error) return []; // PostgREST writes are transactional: a failed write changed nothing.
    const request = requestFrom(meta, arg);
    return request ? invalidatedTags(request, result, primaryKeys) : [];
  };
}

/**
 * Wraps the endpoint builder so declared endpoints get automatic tags unless they set their own;
 * `liveQuery` and `liveInfiniteQuery` definitions are remembered in `liveDefinitions`.
 */
function withAutoTags<RP extends string>(
  build: EndpointBuilder<PostgrestBaseQuery, string, RP>,
  primaryKeys: PrimaryKeys | undefined,
  liveDefinitions: WeakSet<object>,
): PostgrestEndpointBuilder<RP> {
  const query = ((definition: Record<string, unknown>) =>
    build.query({ providesTags: autoProvides(primaryKeys), ...definition } as never)) as typeof build.query;
  const infiniteQuery = ((definition: Record<string, unknown>) =>
    build.infiniteQuery({ providesTags: autoProvidesPages(primaryKeys, definition.query), ...definition } as never)) as typeof build.infiniteQuery;
  /** The same builder, its definitions remembered as live. */
  const live = <B extends (definition: never) => object>(builder: B): B =>
    ((definition: never) => {
      const made = builder(definition);
      liveDefinitions.add(made);
      return made;
    }) as B;
  return {
    ...build,
    query,
    liveQuery: live(query),
    mutation: ((definition: Record<string, unknown>) =>
      build.mutation({ invalidatesTags: autoInvalidates(primaryKeys), ...definition } as never)) as typeof build.mutation,
    infiniteQuery,
    liveInfiniteQuery: live(infiniteQuery),
  };
}

/**
 * Tags of an infinite query's `{ pages, pageParams }`: each page provides what its own request and
 * rows would as a plain read (RTK passes only the last page's meta, so each page's request is made
 * again from the endpoint's `query` and the page's param).
 */
function autoProvidesPages(primaryKeys: PrimaryKeys | undefined, query: unknown) {
  const single = autoProvides(primaryKeys);
  return (result: unknown, error: unknown, arg: unknown, meta?: PostgrestMeta): Tag[] => {
    const pages = result as { pages?: unknown[]; pageParams?: unknown[] } | undefined;
    if (error || typeof query !== 'function' || !Array.isArray(pages?.pages) || !Array.isArray(pages.pageParams)) {
      return meta?.request ? single(undefined, error ?? true, arg, meta) : [];
    }
    // A live entry's pages follow the database (the last page's fetch says it started live).
    if (meta?.live && meta.request) return liveTags(meta.request);
    const seen = new Set<string>();
    const tags: Tag[] = [];
    pages.pages.forEach((page, index) => {
      let request: PostgrestRequest | undefined;
      try {
        request = toPostgrestRequest((query as (arg: unknown) => PostgrestRequestLike)({ queryArg: arg, pageParam: pages.pageParams![index] }));
      } catch {
        return;
      }
      for (const tag of providedTags(request, page, primaryKeys)) {
        const key = `${tag.type}\u0000${String(tag.id)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        tags.push(tag);
      }
    });
    return tags;
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

/**
 * Builds the api with a given `createApi`: `buildCreateApi(coreModule(), [reactHooksModule(),]
 * postgrestModule())` (the last one turns builder chains into plain requests at the generic endpoints).
 */
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
  const fetchBaseQuery = postgrestBaseQuery({
    url: options.url,
    apiKey: options.apiKey,
    getToken: options.getToken,
    fetchFn: options.fetchFn,
    timeoutMs: options.timeoutMs,
    ...(options.retry !== undefined && { retry: options.retry }),
    ...(options.headers !== undefined && { headers: options.headers }),
  });
  const reducerPath = (options.reducerPath ?? 'postgrestApi') as ReducerPath;
  const live = new Set<string>(['live', 'keyedLive']);
  const liveDefinitions = new WeakSet<object>();
  const paged = new Map<string, PagedList>();
  // Subscribe first, then fetch: before a live endpoint's fetch, a sync middleware answers
  // LIVE_FETCH_STARTING with a promise that settles once the table's changes are live; without one
  // the fetch starts at once.
  const baseQuery: PostgrestBaseQuery = async (arg, queryApi, extraOptions) => {
    if (queryApi.type === 'query' && live.has(queryApi.endpoint)) {
      await Promise.resolve(); // RTK registers the running query only after initiate returned
      let request: PostgrestRequest | undefined;
      try {
        request = toPostgrestRequest(arg);
      } catch {
        /* the base query answers INVALID_REQUEST */
      }
      if (request) {
        const gate = queryApi.dispatch({ type: LIVE_FETCH_STARTING, payload: { api: reducerPath, endpoint: queryApi.endpoint, request, queryCacheKey: queryApi.queryCacheKey } }) as unknown;
        // The sync middleware's answer: once the table's changes are live, true or `{ live: true, spareRows }`.
        const { live, spareRows } = gateOf(gate && typeof (gate as Promise<unknown>).then === 'function' ? await gate : undefined);
        const limit = typeof spareRows === 'number' && spareRows > 0 ? windowLimit(request) : undefined;
        if (limit !== undefined && typeof spareRows === 'number') {
          // A top-N window with spare rows: fetch N + spareRows, cache the first N, the rest go in
          // meta; meta.request stays the request asked for (tags and live entries read it).
          const asked = limit + spareRows;
          const sent: PostgrestRequest = { ...request, query: request.query.map(([key, value]): [string, string] => (key === 'limit' ? [key, String(asked)] : [key, value])) };
          const result = await fetchBaseQuery(sent, queryApi, extraOptions);
          if (result.error !== undefined) return result.meta ? { error: result.error, meta: { ...result.meta, request } } : result;
          if (!Array.isArray(result.data)) return { data: result.data, meta: result.meta && { ...result.meta, request, live: true } };
          const rows = result.data as unknown[];
          return { data: rows.slice(0, limit), meta: result.meta && { ...result.meta, request, live: true, spares: rows.slice(limit), spareRows, complete: rows.length < asked } };
        }
        const result = await fetchBaseQuery(arg, queryApi, extraOptions);
        return live && result.meta ? { ...result, meta: { ...result.meta, live: true } } : result;
      }
    }
    if (queryApi.type === 'mutation') {
      const request = writeRequest(arg);
      if (request?.optimistic) return optimisticWrite(request, queryApi, extraOptions);
      if (request) return (await sendWrite(request, queryApi, extraOptions)).result;
    }
    return fetchBaseQuery(arg, queryApi, extraOptions);
  };
  /**
   * One write, through the outbox when a sync middleware keeps one (writeContract.ts): it waits for
   * its turn, is sent, and after a failure that may pass it waits for its next turn (the middleware
   * queues it and says when to send it again, or that it was discarded); a final result ends it
   * (WRITE_DONE), unless `keep`: an optimistic write's conflict round goes on under the same outbox
   * entry (`outboxId`), and its caller ends it.
   */
  const sendWrite = async (request: PostgrestRequest, queryApi: Parameters<PostgrestBaseQuery>[1], extraOptions: Parameters<PostgrestBaseQuery>[2], turn: { writeId?: string; outboxId?: string; keep?: boolean } = {}): Promise<{ result: WriteReply; outboxId?: string }> => {
    let outboxId = turn.outboxId;
    let failure: WriteReply | undefined;
    let send = request;
    for (;;) {
      const waiting: WriteWaiting = { api: reducerPath, endpoint: queryApi.endpoint, request: send, ...(outboxId !== undefined && { outboxId }), ...(turn.writeId !== undefined && { writeId: turn.writeId }), ...(failure && { failure: failure as WriteResult }) };
      const answer = turnOf(queryApi.dispatch(writeWaiting(waiting)));
      // Nobody keeps an outbox: send as is; after a failure, it is the result.
      if (!answer) return { result: failure ?? (await fetchBaseQuery(send, queryApi, extraOptions)) };
      outboxId = answer.outboxId;
      const go = await answer.next;
      if ('result' in go) return { result: go.result as WriteReply, outboxId };
      send = go.send;
      let result = await fetchBaseQuery(go.complete ? asList(go.send) : go.send, queryApi, extraOptions);
      if (go.complete && result.error === undefined) result = await completeInsert(go.send, go.complete, result, queryApi, extraOptions);
      if (isPassingWriteFailure(result.error)) {
        failure = result;
        continue;
      }
      // Sent more than once, in this session or before a reload (an earlier answer may have been lost): meta.attempts says so.
      if ((go.attempt ?? 1) > 1 && result.meta) result = { ...result, meta: { ...result.meta, attempts: go.attempt } };
      if (!turn.keep) queryApi.dispatch(writeDone({ api: reducerPath, outboxId, result: result as WriteResult }));
      return { result, outboxId };
    }
  };
  /**
   * An insert sent again with `resolution=ignore-duplicates` (the first send may have landed, its
   * answer lost) returns only the rows it inserted: the others are read back by their keys, so the
   * result is what the first send would have returned.
   */
  const completeInsert = async (sent: PostgrestRequest, keys: string[], result: WriteReply, queryApi: Parameters<PostgrestBaseQuery>[1], extraOptions: Parameters<PostgrestBaseQuery>[2]): Promise<WriteReply> => {
    if (!/return=representation/.test(sent.headers.Prefer ?? '')) return result;
    const given = (Array.isArray(sent.body) ? sent.body : [sent.body]) as Array<Record<string, unknown>>;
    const returned = rowsOf(result.data);
    const keyOf = (row: Record<string, unknown>) => JSON.stringify(keys.map((column) => row[column] ?? null));
    const byKey = new Map(returned.map((row) => [keyOf(row), row]));
    const rows: Array<Record<string, unknown>> = [];
    for (const row of given) {
      const found = byKey.get(keyOf(row));
      if (found) {
        rows.push(found);
        continue;
      }
      const select = sent.query.find(([name]) => name === 'select');
      const read: PostgrestRequest = {
        action: 'select',
        method: 'GET',
        relation: sent.relation,
        ...(sent.schema !== undefined && { schema: sent.schema }),
        query: [select ?? ['select', '*'], ...keyFilters(keys, row)],
        headers: {},
        result: 'many',
      };
      const back = await fetchBaseQuery(read, queryApi, extraOptions);
      if (back.error !== undefined) return back.meta ? { error: back.error, meta: back.meta } : { error: back.error };
      rows.push(...((back.data as Array<Record<string, unknown>>) ?? []));
    }
    const data = sent.result === 'many' ? rows : (rows[0] ?? null);
    return result.meta ? { data, meta: result.meta } : { data };
  };
  /**
   * A conflict's read of the row, in the write's outbox turn: when it can't reach PostgREST, the
   * write waits in the outbox (as the write it is: a replay after a reload sends `write` again) and
   * the read is made again when its turn comes, instead of the write failing with a network error.
   */
  const readInTurn = async (read: PostgrestRequest, write: PostgrestRequest, writeId: string, outboxId: string | undefined, queryApi: Parameters<PostgrestBaseQuery>[1], extraOptions: Parameters<PostgrestBaseQuery>[2]): Promise<WriteReply> => {
    let result = await fetchBaseQuery(read, queryApi, extraOptions);
    while (outboxId !== undefined && isPassingWriteFailure(result.error)) {
      const answer = turnOf(queryApi.dispatch(writeWaiting({ api: reducerPath, endpoint: queryApi.endpoint, request: write, outboxId, writeId, failure: result as WriteResult })));
      if (!answer) break;
      const go = await answer.next;
      if ('result' in go) return go.result as WriteReply;
      result = await fetchBaseQuery(read, queryApi, extraOptions);
    }
    return result;
  };
  /**
   * An optimistic write: announced before it is sent (a sync middleware shows it at once and says
   * what to send), reported after (the middleware commits it, rolls it back, or asks to send again:
   * at most MAX_SENDS times in all).
   */
  const optimisticWrite = async (request: PostgrestRequest, queryApi: Parameters<PostgrestBaseQuery>[1], extraOptions: Parameters<PostgrestBaseQuery>[2]) => {
    // Announced by `initiate` already (shown before RTK's pending action); else now.
    const plan = takePlan(api, request) ?? planOf(queryApi.dispatch(optimisticStarting({ api: reducerPath, endpoint: queryApi.endpoint, request })));
    if (!plan) return fetchBaseQuery(request, queryApi, extraOptions);
    if (plan.refuse) return plan.refuse as Awaited<ReturnType<typeof fetchBaseQuery>>;
    let send = plan.send;
    // The write's outbox entry stays until it is settled (a conflict's read and second send included),
    // so no later write overtakes it.
    let outboxId: string | undefined;
    let lastWrite = send;
    for (let sends = 1; ; sends++) {
      let result: WriteReply;
      if (send.method === 'GET') result = await readInTurn(send, lastWrite, plan.id, outboxId, queryApi, extraOptions);
      else {
        lastWrite = send;
        ({ result, outboxId } = await sendWrite(send, queryApi, extraOptions, { writeId: plan.id, keep: true, ...(outboxId !== undefined && { outboxId }) }));
      }
      const verdict = verdictOf(queryApi.dispatch({ type: OPTIMISTIC_WRITE_SETTLING, payload: { api: reducerPath, id: plan.id, result } }));
      if (verdict && 'resend' in verdict && sends < MAX_SENDS) {
        send = verdict.resend;
        continue;
      }
      const final = verdict && 'result' in verdict ? (verdict.result as WriteReply) : result;
      if (outboxId !== undefined) queryApi.dispatch(writeDone({ api: reducerPath, outboxId, result: final as WriteResult }));
      return final;
    }
  };
  const api = createApi({
    reducerPath,
    baseQuery,
    tagTypes: [...BUILTIN_TAG_TYPES, ...(options.tagTypes ?? [])],
    // Only options given: RTK spreads them over its defaults, and an explicit undefined
    // keepUnusedDataFor made unused entries go at once instead of after 60 s.
    ...(options.keepUnusedDataFor !== undefined && { keepUnusedDataFor: options.keepUnusedDataFor }),
    ...(options.refetchOnMountOrArgChange !== undefined && { refetchOnMountOrArgChange: options.refetchOnMountOrArgChange }),
    ...(options.refetchOnFocus !== undefined && { refetchOnFocus: options.refetchOnFocus }),
    ...(options.refetchOnReconnect !== undefined && { refetchOnReconnect: options.refetchOnReconnect }),
    // The sync middleware's live patches: every entry of a tick replaced in one action.
    extractRehydrationInfo: livePatchesRehydration(reducerPath),
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
        live: readDefinition(),
        write: build.mutation<unknown, PostgrestRequestLike>({
          query: (arg) => arg,
          invalidatesTags: autoInvalidates(primaryKeys),
        }),
        ...(queryClientEndpoints(build as never, baseQuery, () => api, autoProvides(primaryKeys)) as unknown as Pick<GenericEndpoints<ReducerPath>, 'keyed' | 'keyedLive' | 'task'>),
      };
      const declared = options.endpoints ? options.endpoints(withAutoTags(build, primaryKeys, liveDefinitions)) : ({} as Definitions);
      for (const name of Object.keys(declared)) {
        if (name in generic) throw new TypeError(`createPostgrestApi: endpoint name "${name}" is reserved for the generic endpoint`);
        if (liveDefinitions.has(declared[name] as object)) live.add(name);
        const pages = pagedListOf(declared[name]);
        if (pages) paged.set(name, pages);
      }
      return { ...generic, ...declared };
    },
  }) as unknown as PostgrestApi<ReducerPath, Definitions, Modules>;
  registerLiveEndpoints(api, live, paged);
  // `api.from('posts')`: the builders on the api (typed by `createPostgrestApi<Database>()`).
  const { from, rpc, schema } = postgrestClient() as unknown as Record<'from' | 'rpc' | 'schema', unknown>;
  Object.assign(api, { from, rpc, schema });
  // The query client's records (invalidated flags, error counts) sit beside RTK's state (queryClient/state.ts).
  const withReducer = api as unknown as { reducer: Parameters<typeof withQueryClientState>[1] };
  withReducer.reducer = withQueryClientState(reducerPath, withReducer.reducer) as never;
  return api;
}
