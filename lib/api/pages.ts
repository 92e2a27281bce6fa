/**
 * Paged lists for RTK Query's `build.infiniteQuery`: `offsetPages` (numbered pages as PostgREST
 * `offset`/`limit`) and `keysetPages` (cursor pages as a `gt`/`lt` filter on a unique order column).
 * Each returns the `query`, `infiniteQueryOptions` (and, for keyset pages, `transformResponse`) of an
 * infinite endpoint, to spread into `build.infiniteQuery({ ...keysetPages({ ... }), ...more })`.
 * A page param that is no page (a negative page number, a cursor of the wrong shape) or a request
 * that can't be paged (no order, its own limit) fails the page with an INVALID_REQUEST error that
 * says why, as every other bad request does.
 */
import type { InfiniteQueryConfigOptions } from '@reduxjs/toolkit/query';
import { PostgrestBuilderError } from '../postgrest/errors';
import { buildCondition, toQueryPair } from '../postgrest/builder/filters';
import { toPostgrestRequest } from '../postgrest/request/request';
import type { PostgrestRequest, PostgrestRequestLike } from '../postgrest/request/types';

/** The list to page: a request (builder or plain), or a function of the endpoint's argument returning one. */
export type PagedRequest<QueryArg> = PostgrestRequestLike | ((queryArg: QueryArg) => PostgrestRequestLike);

/** A keyset page's position: rows after (or before) a cursor value; `{}` is the start of the list. */
export type KeysetPageParam = { after?: unknown; before?: unknown };

/** What `build.infiniteQuery` needs for a paged PostgREST list. */
export interface PagedDefinition<Row, QueryArg, PageParam> {
  query: (arg: { queryArg: QueryArg; pageParam: PageParam }) => PostgrestRequestLike;
  infiniteQueryOptions: InfiniteQueryConfigOptions<Row[], PageParam, QueryArg>;
  transformResponse?: (rows: Row[], meta: unknown, arg: { queryArg: QueryArg; pageParam: PageParam }) => Row[];
}

export interface OffsetPagesOptions<QueryArg> {
  /** The list, ordered (`order()`): pages of an unordered list may overlap or skip rows. */
  request: PagedRequest<QueryArg>;
  /** Rows per page, a positive integer. */
  pageSize: number;
  /** The page to start at (0 is the first); default 0. Earlier pages are reached by fetchPreviousPage. */
  initialPage?: number;
}

export interface KeysetPagesOptions<QueryArg> {
  /** The list without an order or limit of its own: pages are ordered by `cursor`. */
  request: PagedRequest<QueryArg>;
  /** Rows per page, a positive integer. */
  pageSize: number;
  /** A unique, never-null column the list is ordered by (and selected, so the next cursor can be read). */
  cursor: string;
  /** Order of the cursor column; default ascending. */
  ascending?: boolean;
  /** Where to start: `{}` (the start, default), `{ after: value }` or `{ before: value }`. */
  initialPageParam?: KeysetPageParam;
}

/** A request-like value that fails the base query with `message` (an INVALID_REQUEST error), not a throw in RTK's thunk. */
function invalid(message: string): PostgrestRequestLike {
  return {
    toRequest(): PostgrestRequest {
      throw new PostgrestBuilderError('INVALID_OPTION', message);
    },
  };
}

function checkPageSize(pageSize: unknown, where: string): number {
  if (typeof pageSize !== 'number' || !Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new TypeError(`${where}: "pageSize" must be a positive integer, got ${JSON.stringify(pageSize)}`);
  }
  return pageSize;
}

function checkRequestOption(request: unknown, where: string): void {
  if (request === null || (typeof request !== 'object' && typeof request !== 'function')) {
    throw new TypeError(`${where}: "request" must be a request (a builder or PostgrestRequest) or a function of the query argument returning one`);
  }
}

/** The list's request for `queryArg`, or the reason there is none. */
function listRequest<QueryArg>(request: PagedRequest<QueryArg>, queryArg: QueryArg, where: string): PostgrestRequest | string {
  let request_: PostgrestRequest;
  try {
    request_ = toPostgrestRequest(typeof request === 'function' ? request(queryArg) : request);
  } catch (e) {
    return `${where}: ${(e as Error).message}`;
  }
  if (request_.method !== 'GET' || request_.action !== 'select') return `${where}: the list must be a select, got ${request_.action}`;
  if (request_.result !== 'many') return `${where}: the list must return many rows, not single() or maybeSingle()`;
  if (request_.query.some(([key]) => key === 'limit' || key === 'offset')) return `${where}: the list must have no limit() or range() of its own; pages set them`;
  return request_;
}

/** Pages numbered from 0: page `n` is rows `n * pageSize` to `n * pageSize + pageSize - 1` of the ordered list. */
export function offsetPages<Row = Record<string, unknown>, QueryArg = void>(options: OffsetPagesOptions<QueryArg>): PagedDefinition<Row, QueryArg, number> {
  const where = 'offsetPages()';
  if (!options || typeof options !== 'object') throw new TypeError(`${where}: options { request, pageSize } are required`);
  checkRequestOption(options.request, where);
  const pageSize = checkPageSize(options.pageSize, where);
  const initialPage = options.initialPage ?? 0;
  if (!Number.isSafeInteger(initialPage) || initialPage < 0) throw new TypeError(`${where}: "initialPage" must be a page number (an integer from 0), got ${JSON.stringify(options.initialPage)}`);
  return {
    query: ({ queryArg, pageParam }) => {
      if (typeof pageParam !== 'number' || !Number.isSafeInteger(pageParam) || pageParam < 0) return invalid(`${where}: the page param must be a page number (an integer from 0), got ${JSON.stringify(pageParam)}`);
      const request = listRequest(options.request, queryArg, where);
      if (typeof request === 'string') return invalid(request);
      if (!request.query.some(([key]) => key === 'order')) return invalid(`${where}: the list must be ordered (order()), or pages may overlap or skip rows`);
      const offset = pageParam * pageSize;
      if (!Number.isSafeInteger(offset)) return invalid(`${where}: page ${pageParam} is out of range`);
      return { ...request, query: [...request.query, ['offset', String(offset)], ['limit', String(pageSize)]] };
    },
    infiniteQueryOptions: {
      initialPageParam: initialPage,
      // A short page is the last one (a full last page is followed by one empty page).
      getNextPageParam: (lastPage, _pages, lastPageParam) => (Array.isArray(lastPage) && lastPage.length === pageSize ? lastPageParam + 1 : undefined),
      getPreviousPageParam: (_firstPage, _pages, firstPageParam) => (firstPageParam > 0 ? firstPageParam - 1 : undefined),
    },
  };
}

function isKeysetPageParam(value: unknown): value is KeysetPageParam {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 0 || (keys.length === 1 && (keys[0] === 'after' || keys[0] === 'before') && (value as Record<string, unknown>)[keys[0]] != null);
}

/**
 * Cursor pages: each page is the next `pageSize` rows after the last row's cursor (or before the
 * first row's, backwards). Unlike offsets, a row inserted or deleted earlier in the list doesn't
 * shift later pages. The cursor column must be unique and never null.
 */
export function keysetPages<Row = Record<string, unknown>, QueryArg = void>(options: KeysetPagesOptions<QueryArg>): PagedDefinition<Row, QueryArg, KeysetPageParam> {
  const where = 'keysetPages()';
  if (!options || typeof options !== 'object') throw new TypeError(`${where}: options { request, pageSize, cursor } are required`);
  checkRequestOption(options.request, where);
  const pageSize = checkPageSize(options.pageSize, where);
  const { cursor } = options;
  if (typeof cursor !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(cursor)) throw new TypeError(`${where}: "cursor" must be a column name, got ${JSON.stringify(cursor)}`);
  if (options.ascending !== undefined && typeof options.ascending !== 'boolean') throw new TypeError(`${where}: "ascending" must be a boolean`);
  const ascending = options.ascending ?? true;
  const initialPageParam = options.initialPageParam ?? {};
  if (!isKeysetPageParam(initialPageParam)) throw new TypeError(`${where}: "initialPageParam" must be {}, { after: value } or { before: value }`);
  const backward = (param: KeysetPageParam) => param.before !== undefined;
  const cursorOf = (row: unknown): unknown => {
    const value = typeof row === 'object' && row !== null ? (row as Record<string, unknown>)[cursor] : undefined;
    // No next page can be asked for without the cursor: a clear error beats a silent end of the list.
    if (value == null) throw new TypeError(`${where}: a row has no "${cursor}" value: select the cursor column, and page only by a never-null one`);
    return value;
  };
  return {
    query: ({ queryArg, pageParam }) => {
      if (!isKeysetPageParam(pageParam)) return invalid(`${where}: the page param must be {}, { after: value } or { before: value }, got ${JSON.stringify(pageParam)}`);
      const request = listRequest(options.request, queryArg, where);
      if (typeof request === 'string') return invalid(request);
      if (request.query.some(([key]) => key === 'order')) return invalid(`${where}: the list must have no order() of its own; pages are ordered by "${cursor}"`);
      // Backwards, the rows just before the cursor are the first ones in reverse order (transformResponse turns them back).
      const forwardOrder = ascending !== backward(pageParam);
      const query: Array<[string, string]> = [...request.query];
      try {
        if (pageParam.after !== undefined) query.push(toQueryPair(buildCondition(cursor, ascending ? 'gt' : 'lt', pageParam.after)));
        if (pageParam.before !== undefined) query.push(toQueryPair(buildCondition(cursor, ascending ? 'lt' : 'gt', pageParam.before)));
      } catch (e) {
        return invalid(`${where}: ${(e as Error).message}`);
      }
      query.push(['order', `${cursor}.${forwardOrder ? 'asc' : 'desc'}`], ['limit', String(pageSize)]);
      return { ...request, query };
    },
    transformResponse: (rows, _meta, { pageParam }) => (backward(pageParam) && Array.isArray(rows) ? [...rows].reverse() : rows),
    infiniteQueryOptions: {
      initialPageParam,
      getNextPageParam: (lastPage, _pages, lastPageParam) => {
        if (!Array.isArray(lastPage) || lastPage.length === 0) return undefined;
        // A short page read forwards is the end; one read backwards ended at the start, not the end.
        if (lastPage.length < pageSize && !backward(lastPageParam)) return undefined;
        return { after: cursorOf(lastPage[lastPage.length - 1]) };
      },
      getPreviousPageParam: (firstPage, _pages, firstPageParam) => {
        if (!Array.isArray(firstPage) || firstPage.length === 0) return undefined;
        if (firstPageParam.after === undefined && firstPageParam.before === undefined) return undefined; // the start of the list
        if (firstPage.length < pageSize && backward(firstPageParam)) return undefined;
        return { before: cursorOf(firstPage[0]) };
      },
    },
  };
}
