import type { BaseQueryApi, BaseQueryFn, QueryReturnValue } from '@reduxjs/toolkit/query';
import type { PostgrestError, PostgrestMeta, PostgrestRequest, PostgrestRequestLike } from '../request/types';
import { toPostgrestRequest } from '../request/request';
import { isHeaderName } from '../request/headers';
import { requestHeaders, toUrl } from '../request/url';
import { isNoRowForMaybeSingle, parseContentRange, shapeResult, toPostgrestError } from './response';

/** Where the base query gets the user's token; nothing (null/undefined/'') means "anonymous". */
export type GetToken = (api: Pick<BaseQueryApi, 'getState' | 'dispatch' | 'extra'>) =>
  string | null | undefined | Promise<string | null | undefined>;

export interface PostgrestBaseQueryOptions {
  /** PostgREST's base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The anonymous key (a JWT for the `anon` role); sent as `apikey` and as the bearer when no user token. */
  apiKey?: string;
  /** Called before every request, so a signed-out user never sends a stale token. */
  getToken?: GetToken;
  /** Defaults to the global `fetch`. */
  fetchFn?: typeof fetch;
  /** Abort after this many milliseconds with a `TIMEOUT_ERROR`. */
  timeoutMs?: number;
  /**
   * Headers sent with every request (a client id, `X-Client-Info`), before each request's own
   * (`.setHeader`); `apikey` and `Authorization` are the library's (from `apiKey` / `getToken`).
   */
  headers?: Record<string, string>;
  /**
   * How reads (GET and HEAD) are retried after a failure that may pass: the network
   * (`FETCH_ERROR`), the time limit (`TIMEOUT_ERROR`), 5xx, 408 and 429. Never 4xx otherwise, never
   * writes (a write sent twice may apply twice). Default `DEFAULT_RETRY`; `false` turns it off. An
   * endpoint overrides it with `extraOptions: { retry }`.
   */
  retry?: RetryPolicy | false;
}

/**
 * Bounded exponential backoff with full jitter, as plain data: attempt n (from 1) waits a random
 * time up to `min(maxDelayMs, minDelayMs × factor^(n-1))`, or what the server's `Retry-After` says
 * (capped the same way).
 */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
}

export const DEFAULT_RETRY: Required<RetryPolicy> = { retries: 3, minDelayMs: 300, maxDelayMs: 5_000, factor: 2 };

/** Per-request options a base query call takes (RTK's `extraOptions`). */
export interface PostgrestExtraOptions {
  retry?: RetryPolicy | false;
}

export type PostgrestBaseQuery = BaseQueryFn<PostgrestRequestLike, unknown, PostgrestError, PostgrestExtraOptions | object, PostgrestMeta>;

/** An RTK Query base query for PostgREST. It never throws: every failure resolves as `{ error }`. */
export function postgrestBaseQuery(options: PostgrestBaseQueryOptions): PostgrestBaseQuery {
  if (!options || typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
    throw new TypeError(`postgrestBaseQuery: "url" must be an http(s) URL, got ${JSON.stringify(options?.url)}`);
  }
  const { url, apiKey, getToken, timeoutMs } = options;
  const defaultPolicy = readPolicy(options.retry, 'postgrestBaseQuery: retry');
  const apiHeaders = readHeaders(options.headers);
  return async (arg, api, extraOptions) => {
    try {
      return await query(arg, api, extraOptions);
    } catch (e) {
      // Never thrown (RTK Query reads a throw as a bug in the base query): whatever broke becomes an error.
      return { error: clientError('FETCH_ERROR', `Request to PostgREST failed: ${(e as Error)?.message ?? String(e)}`) };
    }
  };

  async function query(arg: PostgrestRequestLike, api: BaseQueryApi, extraOptions: unknown): Promise<QueryReturnValue<unknown, PostgrestError, PostgrestMeta>> {
    let request: PostgrestRequest;
    try {
      request = toPostgrestRequest(arg);
    } catch (e) {
      return { error: clientError('INVALID_REQUEST', (e as Error).message) };
    }
    const given = (extraOptions as PostgrestExtraOptions | undefined)?.retry;
    let policy = defaultPolicy;
    try {
      if (given !== undefined) policy = readPolicy(given, 'extraOptions.retry');
    } catch (e) {
      return { error: clientError('INVALID_REQUEST', (e as Error).message) };
    }
    const reads = request.method === 'GET' || request.method === 'HEAD';
    const signal = api?.signal;
    // Aborted before it left: nothing is sent.
    if (signal?.aborted) return { error: clientError('FETCH_ERROR', 'The request was aborted before it was sent', 'ABORTED') };
    for (let attempt = 1; ; attempt++) {
      const result = await once(request, api);
      const wait = reads && policy && attempt <= policy.retries ? retryDelay(result, policy, attempt) : undefined;
      if (wait === undefined || signal?.aborted) return attempt > 1 && result.meta ? { ...result, meta: { ...result.meta, attempts: attempt } } : result;
      if (!(await sleep(wait, signal))) return result;
    }
  }

  /** One request: `{ data }` or `{ error }`, never thrown. */
  async function once(request: PostgrestRequest, api: BaseQueryApi): Promise<QueryReturnValue<unknown, PostgrestError, PostgrestMeta>> {
    const fetchFn = options.fetchFn ?? globalThis.fetch;
    let token: string | null | undefined;
    try {
      token = getToken ? await getToken(api) : undefined;
    } catch (e) {
      return { error: clientError('FETCH_ERROR', `getToken failed: ${(e as Error)?.message ?? String(e)}`) };
    }
    const headers = { ...apiHeaders, ...requestHeaders(request) };
    if (apiKey) headers['apikey'] = apiKey;
    const bearer = token || apiKey;
    if (bearer) headers['Authorization'] = `Bearer ${bearer}`;
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);

    const controller = new AbortController();
    const signal = api?.signal;
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort);
    let timedOut = false;
    const timer = timeoutMs
      ? setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs)
      : undefined;

    let response: Response;
    let text: string;
    try {
      response = await fetchFn(toUrl(url, request), { method: request.method, headers, body, signal: controller.signal });
      text = await response.text();
    } catch (e) {
      if (timedOut) return { error: clientError('TIMEOUT_ERROR', `PostgREST did not answer within ${timeoutMs} ms`) };
      return { error: clientError('FETCH_ERROR', `Request to PostgREST failed: ${(e as Error)?.message ?? String(e)}`) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }

    // A response may lack headers or an ok flag (a custom fetchFn, an odd proxy): read what is there.
    const status = typeof response.status === 'number' ? response.status : 0;
    const responseHeaders: Record<string, string> = {};
    try {
      response.headers?.forEach?.((value, name) => (responseHeaders[name.toLowerCase()] = value));
    } catch {
      // Unreadable headers: none.
    }
    const meta: PostgrestMeta = { status, count: parseContentRange(responseHeaders['content-range'] ?? null), headers: responseHeaders, request };
    if (status < 200 || status > 299) {
      const error = toPostgrestError(status, response.statusText, typeof text === 'string' ? text : '');
      if (!isNoRowForMaybeSingle(request, error)) return { error, meta };
      text = '';
    }

    if (request.result === 'text') return { data: text, meta }; // CSV or a text plan: the body itself
    let json: unknown = null;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        return {
          error: clientError('PARSING_ERROR', `PostgREST answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`),
          meta,
        };
      }
    }
    const shaped = shapeResult(request, json, meta.count);
    if ('error' in shaped) return { error: shaped.error, meta };
    return { data: shaped.data, meta };
  }
}

/** The policy to apply (false: none), checked with an error naming the problem. */
function readPolicy(policy: RetryPolicy | false | undefined, where: string): Required<RetryPolicy> | false {
  if (policy === false) return false;
  if (policy === undefined) return DEFAULT_RETRY;
  if (policy === null || typeof policy !== 'object') throw new TypeError(`${where} must be false or { retries, minDelayMs, maxDelayMs, factor }, got ${JSON.stringify(policy)}`);
  const merged = { ...DEFAULT_RETRY, ...policy };
  for (const key of ['retries', 'minDelayMs', 'maxDelayMs', 'factor'] as const) {
    const value = merged[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${where}.${key} must be a number ≥ 0, got ${JSON.stringify(value)}`);
  }
  if (!Number.isInteger(merged.retries)) throw new TypeError(`${where}.retries must be a whole number, got ${merged.retries}`);
  if (merged.factor < 1) throw new TypeError(`${where}.factor must be ≥ 1, got ${merged.factor}`);
  return merged;
}

/**
 * Failures that may pass on their own, so a request may be sent again: the network (`FETCH_ERROR`),
 * the time limit (`TIMEOUT_ERROR`), 5xx (overload), 408 (a proxy's timeout) and 429 (rate limits).
 * Every other error is final.
 */
export function isPassingFailure(error: PostgrestError | undefined): boolean {
  if (error === undefined) return false;
  const status = error.status;
  return status === 'FETCH_ERROR' || status === 'TIMEOUT_ERROR' || status === 408 || status === 429 || (typeof status === 'number' && status >= 500);
}

/** How long to wait before attempt `attempt + 1`, or undefined when the failure is final (or there was none). */
function retryDelay(result: QueryReturnValue<unknown, PostgrestError, PostgrestMeta>, policy: Required<RetryPolicy>, attempt: number): number | undefined {
  if (!isPassingFailure(result.error)) return undefined;
  const cap = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** (attempt - 1));
  const after = result.meta?.headers['retry-after'];
  const seconds = after !== undefined && /^\d+$/.test(after.trim()) ? Number(after) * 1000 : undefined;
  return seconds !== undefined ? Math.min(seconds, policy.maxDelayMs) : Math.random() * cap;
}

/** Waits `ms`, or less when `signal` aborts: true when the wait ended normally. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (!signal) return void setTimeout(() => resolve(true), ms);
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function clientError(status: PostgrestError['status'], message: string, code: string | null = null): PostgrestError {
  return { status, code, message, details: null, hint: null };
}

/** `headers` checked (names are tokens, values strings without line breaks), or a TypeError naming the bad one. */
function readHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  if (headers === undefined) return {};
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) throw new TypeError(`postgrestBaseQuery: headers must be an object of name → value, got ${JSON.stringify(headers)}`);
  for (const [name, value] of Object.entries(headers)) {
    if (!isHeaderName(name)) throw new TypeError(`postgrestBaseQuery: headers: ${JSON.stringify(name)} is not a valid header name`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw new TypeError(`postgrestBaseQuery: headers.${name} must be a string without line breaks, got ${JSON.stringify(value)}`);
  }
  return { ...headers };
}
