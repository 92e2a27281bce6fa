/**
 * The api ↔ sync contract: everything a PostgREST api and a sync middleware agree on, in one place,
 * built on RTK Query's public API only.
 *
 * - The live fetch gate: a live endpoint's base query dispatches LIVE_FETCH_STARTING before it
 *   fetches; a sync middleware answers with a promise of a LiveGate (subscribe first, then fetch).
 * - Spare rows: a gate may ask a top-N window (`windowLimit`) to be fetched with more rows.
 * - Live patches: an action whose `meta[LIVE_PATCHES]` is the api's reducerPath carries
 *   `payload.entries` (LivePatch: each entry's whole new cache entry). The api applies all of them
 *   in that one action through createApi's documented `extractRehydrationInfo` option
 *   (`livePatchesRehydration`), which replaces fulfilled and rejected entries as given: one action
 *   per burst for every entry, with nothing wrapped around the api's reducer.
 *   Rehydrating an entry restarts RTK's removal timer of an entry nobody subscribes to, so an
 *   entry whose last subscriber left (`hasNoSubscriber`) is patched alone instead, with the public
 *   `util.patchQueryData` (`patchAlone`): it is still removed `keepUnusedDataFor` after its last use.
 * - The live-endpoint registry: which endpoints of an api are live (`liveEndpointsOf`,
 *   `markLiveEndpoints`), and what the pages of its infinite endpoints are (`pagedEndpointOf`).
 * - Optimistic writes: a write whose request has `optimistic` is announced by the mutation's
 *   `initiate` (postgrestModule) before RTK's thunk dispatches anything (OPTIMISTIC_WRITE_STARTING);
 *   a sync middleware shows it at once and answers with the plan (its id, the request to send),
 *   which `initiate` hands to the base query (`offerPlan` / `takePlan`); after the response the
 *   base query reports it (OPTIMISTIC_WRITE_SETTLING) and the middleware answers with the verdict:
 *   the result to resolve with, or a request to send again. Without a middleware the write is sent
 *   as it is.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import type { PostgrestError, PostgrestMeta, PostgrestRequest } from '../postgrest/request/types';
import type { PagedList } from './pages';

/**
 * Dispatched by the base query before a live endpoint's fetch starts (payload LiveFetch); a sync
 * middleware returns a promise that settles once the table's changes are live (subscribe first,
 * then fetch), so no change falls between the fetch and the subscription: `true` or a LiveGate.
 */
export const LIVE_FETCH_STARTING = 'rtkPostgrest/liveFetchStarting';

/** What a live endpoint's base query announces before fetching (LIVE_FETCH_STARTING's payload). */
export interface LiveFetch {
  /** The reducerPath of the api whose base query announces it. */
  api?: unknown;
  endpoint?: unknown;
  request?: unknown;
  queryCacheKey?: unknown;
}

/**
 * A sync middleware's answer to LIVE_FETCH_STARTING (a plain `true` means `{ live: true }`): the
 * table's changes are live, and a top-N window may be fetched with `spareRows` more rows (kept in
 * `meta.spares`, out of the cached data) so rows leaving it can be replaced without a refetch.
 */
export interface LiveGate {
  live: boolean;
  spareRows?: number;
}

/** The gate an answer to LIVE_FETCH_STARTING stands for (`{ live: false }` for anything else). */
export function gateOf(answer: unknown): LiveGate {
  if (answer === true) return { live: true };
  if (typeof answer !== 'object' || answer === null || (answer as LiveGate).live !== true) return { live: false };
  const spareRows = (answer as LiveGate).spareRows;
  return typeof spareRows === 'number' ? { live: true, spareRows } : { live: true };
}

/**
 * The limit N of a plain top-N window (one `limit`, no offset or Range, many rows, no count), whose
 * request can be sent with a larger limit; undefined otherwise.
 */
export function windowLimit(request: PostgrestRequest): number | undefined {
  if (request.action !== 'select' || request.result !== 'many' || request.count !== undefined) return undefined;
  if (Object.keys(request.headers).some((name) => name.toLowerCase() === 'range')) return undefined;
  const limits = request.query.filter(([key]) => key === 'limit');
  if (limits.length !== 1 || request.query.some(([key]) => key === 'offset')) return undefined;
  const text = limits[0]![1].trim();
  return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
}

/** The meta key of an action carrying live patches for the api at its value (a reducerPath). */
export const LIVE_PATCHES = 'rtkPostgrestLivePatches';

/** A query cache entry as RTK Query stores it (the parts this contract reads). */
export interface QueryCacheEntry {
  status: string;
  data?: unknown;
  [field: string]: unknown;
}

/** One live entry's new state: its cache entry as stored, with the patched data. */
export interface LivePatch {
  queryCacheKey: string;
  entry: QueryCacheEntry;
}

/** RTK applies rehydrated entries of these statuses only (a fetch in flight replaces the data anyway). */
const PATCHABLE = new Set(['fulfilled', 'rejected']);

/** The patch replacing `stored`'s data with `data`, or undefined when the entry can't take one now. */
export function livePatch(queryCacheKey: string, stored: QueryCacheEntry | undefined, data: unknown): LivePatch | undefined {
  if (!stored || !PATCHABLE.has(stored.status)) return undefined;
  return { queryCacheKey, entry: { ...stored, data } };
}

/**
 * Whether the api's state says the entry has lost its last subscriber (RTK mirrors its subscriptions
 * there, an empty record once the last one left, within half a second). An entry the mirror doesn't
 * know yet counts as subscribed.
 */
export function hasNoSubscriber(apiState: unknown, queryCacheKey: string): boolean {
  const subscriptions = (apiState as { subscriptions?: Record<string, object | undefined> } | undefined)?.subscriptions?.[queryCacheKey];
  return subscriptions !== undefined && Object.keys(subscriptions).length === 0;
}

/** The parts of an api's `util` patching one entry needs. */
export interface PatchUtil {
  patchQueryData: (endpointName: never, arg: never, patches: Array<{ op: 'replace'; path: []; value: unknown }>) => unknown;
}

/** A thunk replacing one entry's data with RTK's public `util.patchQueryData` (for entries without subscribers). */
export function patchAlone(util: PatchUtil, endpointName: string, arg: unknown, data: unknown): unknown {
  return util.patchQueryData(endpointName as never, arg as never, [{ op: 'replace', path: [], value: data }]);
}

/** The `meta` of an action carrying live patches for the api at `reducerPath`. */
export function livePatchesMeta(reducerPath: string): Record<string, string> {
  return { [LIVE_PATCHES]: reducerPath };
}

/**
 * createApi's `extractRehydrationInfo` for the api at `reducerPath`: an action carrying live patches
 * for it rehydrates exactly those entries (status, error and timestamps as stored, the new data);
 * no mutations or tags (a live entry's tags don't depend on its rows).
 */
export function livePatchesRehydration(reducerPath: string) {
  return (action: UnknownAction): any => {
    if ((action.meta as Record<string, unknown> | undefined)?.[LIVE_PATCHES] !== reducerPath) return undefined;
    const entries = (action.payload as { entries?: LivePatch[] } | undefined)?.entries;
    if (!Array.isArray(entries) || entries.length === 0) return undefined;
    const queries: Record<string, QueryCacheEntry> = {};
    for (const { queryCacheKey, entry } of entries) queries[queryCacheKey] = entry;
    return { queries, mutations: {}, provided: {} };
  };
}

/** Live endpoints per api: `live`, declared `build.liveQuery` / `build.liveInfiniteQuery` endpoints and those marked by `markLiveEndpoints`. */
const liveEndpointsByApi = new WeakMap<object, Set<string>>();
/** The pages of each api's infinite endpoints (pages.ts `pagedListOf`), by endpoint name. */
const pagedEndpointsByApi = new WeakMap<object, ReadonlyMap<string, PagedList>>();

/** Records `api`'s live endpoint names and its infinite endpoints' pages (createPostgrestApi calls this once per api). */
export function registerLiveEndpoints(api: object, names: Set<string>, paged: ReadonlyMap<string, PagedList> = new Map()): void {
  liveEndpointsByApi.set(api, names);
  pagedEndpointsByApi.set(api, paged);
}

/** The pages of `api`'s infinite endpoint `name` (undefined: not an infinite endpoint). */
export function pagedEndpointOf(api: object, name: string): PagedList | undefined {
  return pagedEndpointsByApi.get(api)?.get(name);
}

/** The names of `api`'s live endpoints (a sync middleware keeps their entries equal to the database). */
export function liveEndpointsOf(api: object): ReadonlySet<string> {
  return liveEndpointsByApi.get(api) ?? new Set();
}

/**
 * Marks declared query endpoints live, as `build.liveQuery` does (createSyncMiddleware's
 * `liveEndpoints` option calls this). Their `query` must return a PostgREST select.
 */
export function markLiveEndpoints(api: object, names: Iterable<string>): void {
  const endpoints = (api as { endpoints?: Record<string, unknown> }).endpoints;
  const set = liveEndpointsByApi.get(api);
  if (!endpoints || !set) throw new TypeError('markLiveEndpoints: not an api made by createPostgrestApi');
  for (const name of names) {
    if (typeof name !== 'string' || !(name in endpoints) || name === 'read' || name === 'write') {
      throw new TypeError(`markLiveEndpoints: ${JSON.stringify(name)} is not a declared query endpoint of the api`);
    }
    set.add(name);
  }
}

/** Dispatched by the base query before an optimistic write is sent (payload OptimisticStart). */
export const OPTIMISTIC_WRITE_STARTING = 'rtkPostgrest/optimisticWriteStarting';
/** Dispatched by the base query with the response to an optimistic write (payload OptimisticSettle). */
export const OPTIMISTIC_WRITE_SETTLING = 'rtkPostgrest/optimisticWriteSettling';

/**
 * The key, in the announcing action's `meta.arg` (which RTK's serializability check skips), of a
 * function present only while the write really runs: recorded actions lose it (DevTools keeps JSON),
 * so a replayed announcement is ignored and the recorded `optimistic/*` actions rebuild the state.
 */
export const RUNNING_WRITE = 'runningWrite';

export interface OptimisticStart {
  /** The reducerPath of the api whose base query announces it. */
  api: string;
  endpoint: string;
  request: PostgrestRequest;
}

/** What the base query got back, as plain data. */
export interface WriteResult {
  data?: unknown;
  error?: PostgrestError;
  meta?: PostgrestMeta;
}

export interface OptimisticSettle {
  api: string;
  /** The plan's id. */
  id: string;
  result: WriteResult;
}

/** A sync middleware's answer to OPTIMISTIC_WRITE_STARTING: the write's id and the request to send. */
export interface OptimisticPlan {
  id: string;
  send: PostgrestRequest;
  /** The write can't be made optimistic as asked (e.g. a conflict check without one target row): resolve with this, send nothing. */
  refuse?: WriteResult;
}

/** A sync middleware's answer to OPTIMISTIC_WRITE_SETTLING: resolve with `result`, or send `resend`. */
export type OptimisticVerdict = { result: WriteResult } | { resend: PostgrestRequest };

/** The plan an answer to OPTIMISTIC_WRITE_STARTING stands for; undefined when nobody planned the write. */
export function planOf(answer: unknown): OptimisticPlan | undefined {
  const plan = answer as Partial<OptimisticPlan> | undefined;
  return typeof plan === 'object' && plan !== null && typeof plan.id === 'string' && typeof plan.send === 'object' && plan.send !== null ? (plan as OptimisticPlan) : undefined;
}

/** The verdict an answer to OPTIMISTIC_WRITE_SETTLING stands for; undefined: resolve as received. */
export function verdictOf(answer: unknown): OptimisticVerdict | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  if ('resend' in answer && typeof (answer as { resend: unknown }).resend === 'object') return answer as OptimisticVerdict;
  if ('result' in answer && typeof (answer as { result: unknown }).result === 'object') return answer as OptimisticVerdict;
  return undefined;
}

/** Plans announced by `initiate`, waiting for their base query, per api, by request. */
const plansByApi = new WeakMap<object, Map<string, OptimisticPlan[]>>();

/** Hands `plan` (made for `request` when `initiate` announced it) to the base query that sends it. */
export function offerPlan(api: object, request: PostgrestRequest, plan: OptimisticPlan): void {
  let plans = plansByApi.get(api);
  if (!plans) plansByApi.set(api, (plans = new Map()));
  const key = JSON.stringify(request);
  plans.set(key, [...(plans.get(key) ?? []), plan]);
}

/** The plan `initiate` made for `request`, taken (each plan is sent once). */
export function takePlan(api: object, request: PostgrestRequest): OptimisticPlan | undefined {
  const plans = plansByApi.get(api);
  const key = JSON.stringify(request);
  const waiting = plans?.get(key);
  if (!plans || !waiting) return undefined;
  const [plan, ...rest] = waiting;
  if (rest.length > 0) plans.set(key, rest);
  else plans.delete(key);
  return plan;
}

/** The action announcing an optimistic write (the running-write function marks it as really running). */
export function optimisticStarting(start: OptimisticStart) {
  return { type: OPTIMISTIC_WRITE_STARTING, payload: start, meta: { arg: { [RUNNING_WRITE]: () => true } } };
}
