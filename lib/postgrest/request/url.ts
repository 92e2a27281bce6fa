import { PostgrestBuilderError, describeValue } from '../errors.js';
import { isPostgrestRequest, toPostgrestRequest } from './request.js';
import type { PostgrestRequest, PostgrestRequestLike } from './types.js';

/** The request itself when it is one (read only here, so no copy), else the builder's request. */
function readable(request: PostgrestRequestLike): PostgrestRequest {
  return isPostgrestRequest(request) ? request : toPostgrestRequest(request);
}

function encode(text: string, what: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    throw new PostgrestBuilderError('INVALID_VALUE', `${what} ${JSON.stringify(text)} is not well-formed UTF-16 and cannot be put in a URL`);
  }
}

/**
 * The full URL of a request: `<baseUrl>/<table>` or `<baseUrl>/rpc/<fn>` plus the query string. This is
 * the one place values are percent-encoded (each key and value with encodeURIComponent, so `&`, `#`,
 * `?`, `+`, `%` and spaces can never change the query's structure).
 */
export function toUrl(baseUrl: string, request: PostgrestRequestLike): string {
  if (typeof baseUrl !== 'string' || baseUrl === '' || /[?#]/.test(baseUrl)) {
    throw new PostgrestBuilderError('INVALID_OPTION', `toUrl(): baseUrl must be a URL without query or fragment, got ${describeValue(baseUrl)}`);
  }
  const req = readable(request);
  const path = `${req.action === 'rpc' ? 'rpc/' : ''}${encode(req.relation, 'relation')}`;
  const query = req.query.map(([key, value]) => `${encode(key, 'query key')}=${encode(value, 'query value')}`).join('&');
  return `${baseUrl.replace(/\/+$/, '')}/${path}${query === '' ? '' : `?${query}`}`;
}

/**
 * Every header the request needs besides auth: its own (Prefer, Accept), the schema profile header
 * (Accept-Profile for GET/HEAD, Content-Profile otherwise) and Content-Type when there is a body.
 */
export function requestHeaders(request: PostgrestRequestLike): Record<string, string> {
  const req = readable(request);
  const headers: Record<string, string> = {};
  if (req.schema !== undefined) headers[req.method === 'GET' || req.method === 'HEAD' ? 'Accept-Profile' : 'Content-Profile'] = req.schema;
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';
  return { ...headers, ...req.headers };
}
