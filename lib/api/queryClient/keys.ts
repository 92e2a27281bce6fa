/**
 * Query keys as TanStack Query defines them: an array whose hash is its JSON with object keys
 * sorted, matched by prefix (arrays) and subset (objects). Pure functions, no Redux.
 */

/** A query key: `['posts']`, `['post', 7]`, `['posts', { author: 'ann' }]`. */
export type QueryKey = readonly unknown[];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The key's hash: JSON with each plain object's keys in sorted order (so `{a, b}` and `{b, a}` are one key). */
export function hashKey(key: QueryKey): string {
  return JSON.stringify(key, (_, value: unknown) =>
    isPlainObject(value)
      ? Object.keys(value)
          .sort()
          .reduce<Record<string, unknown>>((sorted, name) => {
            sorted[name] = value[name];
            return sorted;
          }, {})
      : value,
  );
}

/**
 * True when `filter` is a partial of `key`: equal, or for objects and arrays every entry of `filter`
 * matches the same entry of `key` (so `['posts']` matches `['posts', 1]` and `[{ a: 1 }]` matches
 * `[{ a: 1, b: 2 }]`).
 */
export function partialMatchKey(key: unknown, filter: unknown): boolean {
  if (key === filter) return true;
  if (typeof key !== typeof filter) return false;
  if (key && filter && typeof key === 'object' && typeof filter === 'object') {
    return Object.keys(filter).every((name) => partialMatchKey((key as Record<string, unknown>)[name], (filter as Record<string, unknown>)[name]));
  }
  return false;
}

/** What a query filter sees of one cache entry. */
export interface MatchableQuery {
  queryKey: QueryKey;
  queryHash: string;
  isActive(): boolean;
  isStale(): boolean;
  state: { fetchStatus: 'fetching' | 'paused' | 'idle' };
}

/** TanStack's query filters (`QueryFilters`). */
export interface QueryFilters<Q = MatchableQuery> {
  queryKey?: QueryKey;
  /** Only the entry whose key hashes the same (no prefix match). */
  exact?: boolean;
  /** `active`: with observers; `inactive`: without. Default `all`. */
  type?: 'all' | 'active' | 'inactive';
  stale?: boolean;
  fetchStatus?: 'fetching' | 'paused' | 'idle';
  predicate?: (query: Q) => boolean;
}

/** A bare key is v4's filter form (the guide uses it); v5 takes `{ queryKey }`. */
export function toFilters<Q>(filters: QueryKey | QueryFilters<Q> | undefined): QueryFilters<Q> {
  if (filters === undefined) return {};
  if (Array.isArray(filters)) return { queryKey: filters };
  if (typeof filters !== 'object' || filters === null) {
    throw new TypeError(`query filters must be a query key (an array) or { queryKey, exact, type, stale, fetchStatus, predicate }, got ${JSON.stringify(filters)}`);
  }
  const { queryKey } = filters as QueryFilters<Q>;
  if (queryKey !== undefined && !Array.isArray(queryKey)) throw new TypeError(`queryKey must be an array, got ${JSON.stringify(queryKey)}`);
  return filters as QueryFilters<Q>;
}

/** True when `query` passes `filters` (TanStack's `matchQuery`). */
export function matchQuery<Q extends MatchableQuery>(filters: QueryFilters<Q>, query: Q): boolean {
  const { type = 'all', exact, fetchStatus, predicate, queryKey, stale } = filters;
  if (queryKey) {
    if (exact) {
      if (query.queryHash !== hashKey(queryKey)) return false;
    } else if (!partialMatchKey(query.queryKey, queryKey)) return false;
  }
  if (type !== 'all') {
    const active = query.isActive();
    if (type === 'active' && !active) return false;
    if (type === 'inactive' && active) return false;
  }
  if (typeof stale === 'boolean' && query.isStale() !== stale) return false;
  if (fetchStatus && fetchStatus !== query.state.fetchStatus) return false;
  if (predicate && !predicate(query)) return false;
  return true;
}
