/**
 * The query client's endpoints, reserved like `read` / `live` / `write`:
 * - `keyed` / `keyedLive`: one entry per query key (`serializeQueryArgs` hashes the key only). The
 *   arg carries the key and the request the query function returned, so both are in the entry's
 *   `originalArgs` (and in DevTools). A function that returned no builder runs at fetch time from the
 *   runtime registry (outside the store; a replayed action never calls it).
 * - `task`: a mutation whose function returned a promise or value (not a builder).
 */
import { miniSerializeError, type UnknownAction } from '@reduxjs/toolkit';
import type { BaseQueryApi, EndpointBuilder, QueryReturnValue } from '@reduxjs/toolkit/query';
import { DEFAULT_RETRY, type PostgrestBaseQuery, type PostgrestExtraOptions, type RetryPolicy } from '../../postgrest/http/baseQuery';
import { toPostgrestRequest } from '../../postgrest/request/request';
import type { PostgrestError, PostgrestMeta, PostgrestRequest, PostgrestRequestLike } from '../../postgrest/request/types';
import { hashKey, type QueryKey } from './keys';

/** The `keyed` / `keyedLive` argument. */
export interface KeyedArg {
  queryKey: QueryKey;
  /** What the query function returned, as a plain request; null when it returned no builder. */
  request: PostgrestRequest | null;
  /** `retry` option: retries after the first attempt (`false`: none); absent: the api's policy. */
  retry?: number | false;
}

/** The `task` argument: the mutation's key and variables (serializable), and its registered function's id. */
export interface TaskArg {
  mutationKey?: QueryKey;
  variables?: unknown;
  fn: string;
}

/** A failure of a query or mutation function (a thrown error, serialized). */
export interface FunctionError {
  status: 'FUNCTION_ERROR';
  code: string | null;
  message: string;
  name?: string;
  details: null;
  hint: null;
}

type Runtime = {
  /** Query functions that return no builder, per queryCacheKey (the last render's). */
  queryFns: Map<string, () => unknown>;
  /** Mutation functions in flight, per task id. */
  tasks: Map<string, () => unknown>;
};

const runtimes = new WeakMap<object, Runtime>();

/** The query client's runtime registry of `api` (functions, never in the store). */
export function runtimeOf(api: object): Runtime {
  let runtime = runtimes.get(api);
  if (!runtime) {
    runtime = { queryFns: new Map(), tasks: new Map() };
    runtimes.set(api, runtime);
  }
  return runtime;
}

/** The plain request of a builder or request; undefined for anything else. */
export function requestOf(value: unknown): PostgrestRequest | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  try {
    return toPostgrestRequest(value as PostgrestRequestLike);
  } catch {
    return undefined;
  }
}

/** A PostgREST error as the base query gives it (`{ status, code, message, details, hint }`, plain data). */
function isPostgrestError(error: unknown): error is PostgrestError {
  if (error === null || typeof error !== 'object' || Object.getPrototypeOf(error) !== Object.prototype) return false;
  const e = error as Record<string, unknown>;
  return typeof e.message === 'string' && (typeof e.status === 'number' || typeof e.status === 'string') && 'code' in e && 'details' in e && 'hint' in e;
}

/**
 * A query or mutation function's failure as the entry's error. A PostgREST error (an awaited
 * builder of `queryClient.db` rejected with it) is kept as it is, with its status and details.
 */
export function functionError(error: unknown): FunctionError | PostgrestError {
  if (isPostgrestError(error)) return error;
  const serialized = miniSerializeError(error);
  return {
    status: 'FUNCTION_ERROR',
    code: typeof serialized.code === 'string' ? serialized.code : null,
    message: serialized.message ?? String(error),
    ...(serialized.name !== undefined && { name: serialized.name }),
    details: null,
    hint: null,
  };
}

type Reply = QueryReturnValue<unknown, PostgrestError | FunctionError, PostgrestMeta | undefined>;

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** A query function's value (or rejection) as a result, retried `retries` times with the api's backoff. */
async function runFunction(fn: () => unknown, retries: number, signal: AbortSignal, request: (value: PostgrestRequest) => Promise<Reply>): Promise<Reply> {
  for (let attempt = 0; ; attempt++) {
    try {
      const value = await fn();
      const asRequest = requestOf(value);
      if (asRequest) return request(asRequest);
      if (value === undefined) return { error: functionError(new TypeError('the query function returned undefined: return the data, null, or a builder')) };
      return { data: value };
    } catch (error) {
      if (attempt >= retries || signal.aborted) return { error: functionError(error) };
      const cap = Math.min(DEFAULT_RETRY.maxDelayMs, DEFAULT_RETRY.minDelayMs * DEFAULT_RETRY.factor ** attempt);
      await delay(Math.random() * cap, signal);
    }
  }
}

function retryPolicy(retry: number | false | undefined, extraOptions: object): object {
  if (retry === undefined) return extraOptions;
  return { ...extraOptions, retry: retry === false ? false : ({ ...DEFAULT_RETRY, retries: retry } satisfies RetryPolicy) } satisfies PostgrestExtraOptions;
}

/** The keyed endpoints and the task endpoint, on the api's base query (`baseQuery`, the one with the live gate). */
export function queryClientEndpoints(build: EndpointBuilder<PostgrestBaseQuery, string, string>, baseQuery: PostgrestBaseQuery, apiOf: () => object, providesTags: (result: unknown, error: unknown, arg: unknown, meta?: PostgrestMeta) => Array<{ type: string; id?: string | number }>) {
  const keyed = (name: 'keyed' | 'keyedLive') =>
    build.query<unknown, KeyedArg>({
      queryFn: (async (arg: KeyedArg, queryApi: BaseQueryApi, extraOptions: object) => {
        const options = retryPolicy(arg.retry, extraOptions);
        const send = (request: PostgrestRequest) => baseQuery(request, queryApi, options) as Promise<Reply>;
        if (arg.request) return send(arg.request);
        const fn = runtimeOf(apiOf()).queryFns.get(queryApi.queryCacheKey ?? '');
        if (!fn) {
          return { error: functionError(new Error(`no query function for key ${hashKey(arg.queryKey)}: it was set with setQueryData, or its component is gone`)) };
        }
        return runFunction(fn, arg.retry === undefined ? 3 : arg.retry === false ? 0 : arg.retry, queryApi.signal, send);
      }) as never,
      serializeQueryArgs: ({ queryArgs }) => `${name}(${hashKey((queryArgs as KeyedArg).queryKey)})`,
      // Tags and live patches follow the request (automatic tags read meta.request, or arg.request).
      providesTags: providesTags as never,
    });
  return {
    keyed: keyed('keyed'),
    keyedLive: keyed('keyedLive'),
    task: build.mutation<unknown, TaskArg>({
      queryFn: (async (arg: TaskArg, queryApi: BaseQueryApi) => {
        const runtime = runtimeOf(apiOf());
        const fn = runtime.tasks.get(arg.fn);
        runtime.tasks.delete(arg.fn);
        if (!fn) return { error: functionError(new Error('the mutation function is gone (a replayed action runs nothing)')) };
        try {
          const value = await fn();
          const request = requestOf(value);
          if (!request) return { data: value === undefined ? null : value };
          // A promise of a builder: the write goes through the api's `write` (outbox, optimistic layer, tags).
          const endpoints = (apiOf() as { endpoints: { write: { initiate: (arg: unknown) => unknown } } }).endpoints;
          const result = (await (queryApi.dispatch(endpoints.write.initiate(request) as unknown as UnknownAction) as unknown as Promise<{ data?: unknown; error?: unknown }>));
          return 'error' in result && result.error !== undefined ? { error: result.error } : { data: result.data };
        } catch (error) {
          return { error: functionError(error) };
        }
      }) as never,
    }),
  };
}

/** The reserved endpoint names of the query client. */
export const QUERY_CLIENT_ENDPOINTS = ['keyed', 'keyedLive', 'task'] as const;
