/** The rows window of a request: `limit` / `offset` parameters and a `Range: from-to` header. */
import type { RowWindow } from './types.js';

/**
 * The window, or a reason when it cannot be read. Both sources together give their intersection,
 * which is how PostgREST combines them.
 */
export function readWindow(limit: string | undefined, offset: string | undefined, range: string | undefined): RowWindow | string {
  const count = (text: string | undefined, what: string): number | undefined | string => {
    if (text === undefined) return undefined;
    return /^\d+$/.test(text.trim()) ? Number(text.trim()) : `${what} ${JSON.stringify(text)} is not a non-negative integer`;
  };
  const l = count(limit, 'limit');
  const o = count(offset, 'offset');
  if (typeof l === 'string') return l;
  if (typeof o === 'string') return o;
  const query: RowWindow = { offset: o ?? 0, limit: l ?? null };
  if (range === undefined) return query;
  const match = /^\s*(\d+)-(\d*)\s*$/.exec(range);
  if (!match) return `Range header ${JSON.stringify(range)} is not from-to`;
  const from = Number(match[1]);
  const header: RowWindow = { offset: from, limit: match[2] === '' ? null : Math.max(0, Number(match[2]) - from + 1) };
  const start = Math.max(query.offset, header.offset);
  const end = Math.min(
    query.limit === null ? Infinity : query.offset + query.limit,
    header.limit === null ? Infinity : header.offset + header.limit,
  );
  return { offset: start, limit: end === Infinity ? null : Math.max(0, end - start) };
}
