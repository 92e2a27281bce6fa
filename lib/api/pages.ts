/**
 * Paged lists for RTK Query's `build.infiniteQuery`: `offsetPages` (numbered pages as PostgREST
 * `offset`/`limit`) and `keysetPages` (cursor pages as a `gt`/`lt` filter on a unique order column).
 * Each returns the `query`, `infiniteQueryOptions` (and, for keyset pages, `transformResponse`) of an
 * infinite endpoint, to spread into `build.infiniteQuery({ ...keysetPages({ ... }), ...more })`.
 * A page param that is no page (a negative page number, a cursor of the wrong shape) or a request
 * that can't be paged (no order, its own limit) fails the page with an INVALID_REQUEST error that
 * says why, as every other bad request does.
 *
 * Each definition is also recorded (`pagedListOf`) with what a sync middleware needs to keep a live
 * infinite entry of it equal to the database: the whole list's request and the endpoint's own page
 * param functions (which say whether rows past the loaded ones will come with the next page).
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

/**
 * What a live infinite entry needs to know of its endpoint's pages. `keyset`: the pages are
 * contiguous ranges of `list` (ordered by the cursor), so a row change is placed by order;
 * `offset`: inserts and deletes shift later pages, only a refetch is exact; `other`: an infinite
 * endpoint not made (or made and then changed) by these helpers.
 */
export type PagedList =
  | {
      kind: 'keyset' | 'offset';
      /** The whole list for `queryArg` in page order (keyset: ordered by the cursor), or why there is none. */
      list(queryArg: unknown): PostgrestRequest | string;
      /** Whether the rows past the last loaded one will come with fetchNextPage (the endpoint's getNextPageParam gives a param). */
      hasNext(data: InfiniteData, queryArg: unknown): boolean;
      /** Whether the rows before the first loaded one will come with fetchPreviousPage. */
      hasPrevious(data: InfiniteData, queryArg: unknown): boolean;
      /**
       * What the first page's param leaves out before it (keyset `{ after: v }`: the rows up to the
       * cursor value v, given as a row holding only it) and the last page's after it (`{ before: v }`).
       */
      bounds(data: InfiniteData): { start?: Record<string, unknown>; end?: Record<string, unknown> };
    }
  | { kind: 'other' };

/** An infinite entry's data as RTK Query stores it. */
export interface InfiniteData {
  pages: readonly unknown[][];
  pageParams: readonly unknown[];
}

/** The lists of the definitions these helpers made, by their `query` function (spreading the definition keeps it). */
const pagedLists = new WeakMap<object, { list: PagedList; made: PagedDefinition<any, any, any> }>();

/**
 * What a declared endpoint definition's pages are: undefined for a definition that is not an
 * infinite query; `other` for one not made by `keysetPages` / `offsetPages`, or whose
 * `infiniteQueryOptions` or `transformResponse` were replaced after spreading (its pages may mean
 * something else).
 */
export function pagedListOf(definition: unknown): PagedList | undefined {
  if (typeof definition !== 'object' || definition === null || !('infiniteQueryOptions' in definition)) return undefined;
  const { query, infiniteQueryOptions, transformResponse } = definition as Partial<PagedDefinition<unknown, unknown, unknown>>;
  const recorded = typeof query === 'function' ? pagedLists.get(query) : undefined;
  if (!recorded || recorded.made.infiniteQueryOptions !== infiniteQueryOptions || recorded.made.transformResponse !== transformResponse) return { kind: 'other' };
  return recorded.list;
}

/** Records `made` as a paged list of `kind`, whose whole list is `list`. */
function recordPages<D extends PagedDefinition<any, any, any>>(made: D, kind: 'keyset' | 'offset', list: (queryArg: unknown) => PostgrestRequest | string, bounds: (data: InfiniteData) => { start?: Record<string, unknown>; end?: Record<string, unknown> }): D {
  const options = made.infiniteQueryOptions as InfiniteQueryConfigOptions<unknown[], unknown, unknown>;
  const has = (param: unknown) => param !== undefined && param !== null;
  pagedLists.set(made.query, {
    made,
    list: {
      kind,
      list,
      hasNext: ({ pages, pageParams }, queryArg) => pages.length > 0 && has(options.getNextPageParam(pages[pages.length - 1]!, pages as unknown[][], pageParams[pageParams.length - 1], pageParams as unknown[], queryArg)),
      hasPrevious: ({ pages, pageParams }, queryArg) => pages.length > 0 && has(options.getPreviousPageParam?.(pages[0]!, pages as unknown[][], pageParams[0], pageParams as unknown[], queryArg)),
      bounds,
    },
  });
  return made;
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
  const list = (queryArg: QueryArg): PostgrestRequest | string => {
    const request = listRequest(options.request, queryArg, where);
    if (typeof request === 'string') return request;
    return request.query.some(([key]) => key === 'order') ? request : `${where}: the list must be ordered (order()), or pages may overlap or skip rows`;
  };
  return recordPages({
    query: ({ queryArg, pageParam }) => {
      if (typeof pageParam !== 'number' || !Number.isSafeInteger(pageParam) || pageParam < 0) return invalid(`${where}: the page param must be a page number (an integer from 0), got ${JSON.stringify(pageParam)}`);
      const request = list(queryArg);
      if (typeof request === 'string') return invalid(request);
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
  }, 'offset', list as (queryArg: unknown) => PostgrestRequest | string, () => ({}));
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
  /** The list as given (no order of its own), or why it can't be paged. */
  const unordered = (queryArg: QueryArg): PostgrestRequest | string => {
    const request = listRequest(options.request, queryArg, where);
    if (typeof request === 'string') return request;
    return request.query.some(([key]) => key === 'order') ? `${where}: the list must have no order() of its own; pages are ordered by "${cursor}"` : request;
  };
  /** The whole list, ordered by the cursor: its pages are contiguous ranges of it. */
  const list = (queryArg: QueryArg): PostgrestRequest | string => {
    const request = unordered(queryArg);
    return typeof request === 'string' ? request : { ...request, query: [...request.query, ['order', `${cursor}.${ascending ? 'asc' : 'desc'}`]] };
  };
  return recordPages({
    query: ({ queryArg, pageParam }) => {
      if (!isKeysetPageParam(pageParam)) return invalid(`${where}: the page param must be {}, { after: value } or { before: value }, got ${JSON.stringify(pageParam)}`);
      const request = unordered(queryArg);
      if (typeof request === 'string') return invalid(request);
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
  }, 'keyset', list as (queryArg: unknown) => PostgrestRequest | string, ({ pageParams }) => {
    const { after } = (pageParams[0] ?? {}) as KeysetPageParam;
    const { before } = (pageParams[pageParams.length - 1] ?? {}) as KeysetPageParam;
    return { ...(after !== undefined && { start: { [cursor]: after } }), ...(before !== undefined && { end: { [cursor]: before } }) };
  });
}
