import type { PostgrestError, PostgrestErrorDetail, PostgrestRequest } from '../request/types';

/** The total from a `Content-Range` header (`0-24/3573`, `*\/0`), or null when unknown (`*`). */
export function parseContentRange(header: string | null): number | null {
  if (!header) return null;
  const total = header.split('/')[1];
  if (total === undefined || total === '*') return null;
  const n = Number(total);
  return Number.isFinite(n) ? n : null;
}

/** A PostgREST error body (`{ code, message, details, hint }`) as our error object. */
export function toPostgrestError(status: number, statusText: string, text: string): PostgrestError {
  let body: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's HTML page, say): keep the text as the message below.
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : v == null ? null : JSON.stringify(v));
  // details and hint stay what PostgREST sent (text, or a JSON object or array).
  const asSent = (v: unknown): PostgrestErrorDetail => (v === undefined ? null : (v as PostgrestErrorDetail));
  return {
    status,
    code: str(body?.code),
    message: str(body?.message) ?? (text ? text.slice(0, 500) : `${status} ${statusText ?? ''}`.trim()),
    details: asSent(body?.details),
    hint: asSent(body?.hint),
  };
}

/**
 * True for PostgREST's 406 "0 rows" answer to a maybeSingle write (which asks for one object so that
 * PostgREST rolls back a write touching several rows): for maybeSingle, no row is data (null).
 */
export function isNoRowForMaybeSingle(request: PostgrestRequest, error: PostgrestError): boolean {
  return request.result === 'maybeSingle' && error.status === 406 && error.code === 'PGRST116' && typeof error.details === 'string' && /\b0 rows\b/.test(error.details);
}

/**
 * Turns the parsed body into the result the caller asked for: rows, one row, a row or null, and
 * `{ rows, count }` when a count was requested, whose `rows` is always an array (as `CountedRows`
 * declares): `[]` when there is no body (HEAD, a write without `.select()`), `[row]` for one row; a
 * counted call of a function that returns one value gives `{ value, count }` (`CountedValue`).
 */
export function shapeResult(
  request: PostgrestRequest,
  json: unknown,
  count: number | null,
): { data: unknown } | { error: PostgrestError } {
  // A plan or a GeoJSON document is returned as PostgREST sent it (`text` results never get here).
  if (request.result === 'json' || request.result === 'text') return { data: request.method === 'HEAD' ? null : json };
  let data: unknown = json;
  // HEAD has no body: the data is null (the builder's type says so), or `{ rows: [], count }`.
  if (request.method === 'HEAD') data = null;
  else if (request.result === 'maybeSingle') {
    // A maybeSingle read asks for plain JSON rows, so zero rows is data (null), not PostgREST's 406.
    if (Array.isArray(json)) {
      if (json.length > 1) {
        return {
          error: {
            status: 406,
            code: 'PGRST116',
            message: 'JSON object requested, multiple (or no) rows returned',
            details: `The result contains ${json.length} rows`,
            hint: null,
          },
        };
      }
      data = json[0] ?? null;
    }
  } else if (request.result === 'many' && json === null && request.action !== 'rpc') {
    // A write without `.select()` (return=minimal) has no body.
    data = null;
  }
  if (request.count) {
    // A function that returns one value (a scalar, one row) answers with it: the value and the count.
    if (request.action === 'rpc' && request.method !== 'HEAD' && !Array.isArray(json)) return { data: { value: json, count } };
    return { data: { rows: data == null ? [] : Array.isArray(data) ? data : [data], count } };
  }
  return { data };
}
