import type { PostgrestError, PostgrestRequest } from './types';

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
  return {
    status,
    code: str(body?.code),
    message: str(body?.message) ?? (text ? text.slice(0, 500) : `${status} ${statusText}`.trim()),
    details: str(body?.details),
    hint: str(body?.hint),
  };
}

/**
 * Turns the parsed body into the result the caller asked for: rows, one row, a row or null, and
 * `{ rows, count }` when a count was requested.
 */
export function shapeResult(
  request: PostgrestRequest,
  json: unknown,
  count: number | null,
): { data: unknown } | { error: PostgrestError } {
  let data: unknown = json;
  if (request.method === 'HEAD') data = request.result === 'many' ? [] : null;
  else if (request.result === 'maybeSingle') {
    // maybeSingle asks for plain JSON rows, so zero rows is data (null), not PostgREST's 406.
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
  if (request.count) return { data: { rows: data, count } };
  return { data };
}
