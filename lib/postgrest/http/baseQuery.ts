import type { BaseQueryApi, BaseQueryFn } from '@reduxjs/toolkit/query';
import type { PostgrestError, PostgrestMeta, PostgrestRequest, PostgrestRequestLike } from '../request/types';
import { toPostgrestRequest } from '../request/request';
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
}

export type PostgrestBaseQuery = BaseQueryFn<PostgrestRequestLike, unknown, PostgrestError, object, PostgrestMeta>;

/** An RTK Query base query for PostgREST. It never throws: every failure resolves as `{ error }`. */
export function postgrestBaseQuery(options: PostgrestBaseQueryOptions): PostgrestBaseQuery {
  if (!options || typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
    throw new TypeError(`postgrestBaseQuery: "url" must be an http(s) URL, got ${JSON.stringify(options?.url)}`);
  }
  const { url, apiKey, getToken, timeoutMs } = options;
  return async (arg, api) => {
    let request: PostgrestRequest;
    try {
      request = toPostgrestRequest(arg);
    } catch (e) {
      return { error: clientError('INVALID_REQUEST', (e as Error).message) };
    }
    const fetchFn = options.fetchFn ?? globalThis.fetch;
    let token: string | null | undefined;
    try {
      token = getToken ? await getToken(api) : undefined;
    } catch (e) {
      return { error: clientError('FETCH_ERROR', `getToken failed: ${(e as Error)?.message ?? String(e)}`) };
    }
    const headers = requestHeaders(request);
    if (apiKey) headers['apikey'] = apiKey;
    const bearer = token || apiKey;
    if (bearer) headers['Authorization'] = `Bearer ${bearer}`;
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);

    const controller = new AbortController();
    const onAbort = () => controller.abort(api.signal.reason);
    api.signal.addEventListener('abort', onAbort);
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
      api.signal.removeEventListener('abort', onAbort);
    }

    const meta: PostgrestMeta = {
      status: response.status,
      count: parseContentRange(response.headers.get('content-range')),
      headers: Object.fromEntries(response.headers.entries()),
      request,
    };
    if (!response.ok) {
      const error = toPostgrestError(response.status, response.statusText, text);
      if (!isNoRowForMaybeSingle(request, error)) return { error, meta };
      text = '';
    }

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
  };
}

function clientError(status: PostgrestError['status'], message: string): PostgrestError {
  return { status, code: null, message, details: null, hint: null };
}
