/**
 * Live entries (live.ts) wired to the store: the api's actions reach them (fetches, results,
 * removed entries, mutations), a live endpoint's announced fetch is answered with its gate, and
 * their table channels are subscribed and left through the mirror's own actions. The changes
 * handler hands them each tick's changes and the channels' notices (`queries`).
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { hasNoSubscriber, LIVE_FETCH_STARTING, liveEndpointsOf, markLiveEndpoints, pagedEndpointOf, type LiveFetch, type QueryCacheEntry } from '../../api/liveContract.js';
import { createLiveQueries, type LiveApi } from '../live.js';
import type { SyncMiddlewareOptions } from '../options.js';
import type { HandlerContext, SyncHandler } from './types.js';

export type LiveQueries = ReturnType<typeof createLiveQueries>;

export interface LiveHandler extends SyncHandler {
  queries: LiveQueries;
  /** Where the api lives in the store. */
  apiPath: string;
}

export type LiveOptions = Pick<SyncMiddlewareOptions<string>, 'api' | 'liveEndpoints' | 'primaryKeys' | 'database'> & {
  /** The server data beneath an optimistic layer, for entries under one (the optimistic handler's). */
  baseOf?: (queryCacheKey: string) => { data: unknown } | undefined;
};

/** Nothing without an api. */
export function liveHandler(context: HandlerContext, options: LiveOptions): LiveHandler | undefined {
  if (!options.api) return undefined;
  const api = options.api as LiveApi;
  const apiPath = api.reducerPath;
  const { actions } = context;
  if (options.liveEndpoints) markLiveEndpoints(api, options.liveEndpoints);

  /** A query cache entry of the api as stored. */
  function cacheEntry(queryCacheKey: string): QueryCacheEntry | undefined {
    const queries = (context.getState() as Record<string, { queries?: Record<string, QueryCacheEntry | undefined> } | undefined>)[apiPath]?.queries;
    return queries?.[queryCacheKey];
  }

  const queries = createLiveQueries({
    api,
    liveEndpoints: () => liveEndpointsOf(api),
    pagesOf: (endpoint) => pagedEndpointOf(api, endpoint),
    ...(options.primaryKeys && { primaryKeys: options.primaryKeys }),
    ...(options.database && { database: options.database }),
    dispatch: (action) => context.dispatch(action as UnknownAction),
    reader: (endpoint, arg, queryCacheKey) => {
      const select = (api.endpoints as unknown as Record<string, { select?: (arg: unknown) => (state: unknown) => { data?: unknown } }>)[endpoint]?.select?.(arg);
      return () => {
        const base = options.baseOf?.(queryCacheKey);
        if (base) return base.data;
        return select ? select(context.getState()).data : undefined;
      };
    },
    argOf: (queryCacheKey) => {
      const entry = cacheEntry(queryCacheKey);
      return { found: entry !== undefined, arg: entry?.originalArgs, ...(typeof entry?.requestId === 'string' && { requestId: entry.requestId }) };
    },
    cacheEntry,
    hasNoSubscriber: (queryCacheKey) => hasNoSubscriber((context.getState() as Record<string, unknown>)[apiPath], queryCacheKey),
    commit: (patches) => {
      if (patches.length > 0) context.dispatch(actions.changesApplied({ positions: [], entries: patches, at: context.now() }, apiPath));
    },
    isLive: (channel) => context.mirror().channels[channel]?.changesLive === true,
    subscribe: (channel, schema, table) => context.dispatch(actions.subscribe({ channel, config: { postgresChanges: [{ event: '*', schema, table }], leaveEvents: true } })),
    unsubscribe: (channel) => context.dispatch(actions.unsubscribe({ channel })),
    warn: context.warn,
    timers: context.timers,
  });

  // A fetch waits (briefly) for its table's changes to be live only while they may come soon: not
  // while the socket is down for good or degraded (polling refetches then, and must not wait).
  const connected = () => {
    const connection = context.mirror().connection;
    return connection.degradedSince === null && ['open', 'connecting'].includes(connection.status);
  };

  return {
    queries,
    apiPath,
    onAnyAction(action, downstream) {
      // Another sync middleware (another api's) may have answered it further down the chain: keep its answer.
      if (action.type === LIVE_FETCH_STARTING) return queries.fetchStarting(action.payload as LiveFetch | undefined, connected) ?? downstream;
      context.safely(() => queries.onAction(action));
      return undefined;
    },
  };
}
