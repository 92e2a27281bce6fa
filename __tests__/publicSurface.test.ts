/**
 * The public surface of each entry point, pinned: a name added or removed here is a decision, not
 * an accident of `export *`. Values are checked at run time; types by the imports below, which the
 * project type-check (typecheck.test.ts) compiles: a removed type fails it.
 */
import type {
  ChannelConfig,
  ChannelListener,
  ChannelMirror,
  ChannelStatus,
  ColumnType,
  ColumnTypes,
  CompiledQuery,
  ConflictDetails,
  ConflictError,
  ConflictRecord,
  ConflictResolver,
  ConflictStrategy,
  ConnectionMirror,
  ConnectionStatus,
  CountedRows,
  CreatePostgrestApiOptions,
  FilterOperator,
  OptimisticOptions,
  PendingWrite,
  PostgrestApi,
  PostgrestError,
  PostgrestModule,
  PostgrestRequest,
  PostgrestRequestLike,
  PresenceState,
  PushResult,
  RealtimeChange,
  SyncMiddleware,
  SyncMiddlewareOptions,
  SyncState,
  Tag,
  WebSocketLike,
  Query,
  QueryClient,
  QueryFilters,
  QueryKey,
  QueryState,
} from '../lib/index.js';
import type { PostgrestReactApi, QueryHooks, SyncHooks, UseConflictsResult, UseMutationOptions, UseMutationResult, UsePendingWritesResult, UsePresenceResult, QueryError, UseQueryOptions, UseQueryResult } from '../lib/react/index.js';
import type { ChannelExtension, JwtClaims, RealtimeRedisOptions, RealtimeServer, RealtimeServerOptions, Stack, StackOptions } from '../lib/server/index.js';

type PublicTypes = [
  ChannelConfig, ChannelListener, ChannelMirror, ChannelStatus, ColumnType, ColumnTypes, CompiledQuery, ConflictStrategy, ConnectionMirror, ConnectionStatus,
  CountedRows<unknown>, CreatePostgrestApiOptions<string, {}>, FilterOperator, OptimisticOptions, PostgrestApi<string, {}, never>, PostgrestError, PostgrestModule, PostgrestRequest,
  PostgrestRequestLike, PresenceState, PushResult, RealtimeChange, SyncMiddleware, SyncMiddlewareOptions, SyncState, Tag, WebSocketLike,
  PostgrestReactApi<string, {}>, SyncHooks, UsePresenceResult, UseConflictsResult, UsePendingWritesResult, PendingWrite, ConflictRecord, ConflictResolver, ConflictDetails, ConflictError,
  ChannelExtension, JwtClaims, RealtimeRedisOptions, RealtimeServer, RealtimeServerOptions, Stack, StackOptions,
  QueryHooks, UseMutationOptions, UseMutationResult, UseQueryOptions, UseQueryResult, QueryError, Query, QueryClient, QueryFilters, QueryKey, QueryState,
];
// Referenced so the list above is compiled, not elided as unused.
export type { PublicTypes };

const surface = async (path: string) => Object.keys(await import(path)).sort();

test('rtk-postgrest exports the builder, the api, the base query and the middleware, and no internals', async () => {
  expect(await surface('../lib/index.js')).toEqual([
    'BUILTIN_TAG_TYPES', 'ConditionBuilder', 'PostgrestBuilder', 'PostgrestBuilderError', 'PostgrestTableBuilder', 'compileRequest',
    'createPostgrestApi', 'createQueryClient', 'createSyncMiddleware', 'from', 'hashKey', 'invalidatedTags', 'isPostgrestRequest', 'keysetPages', 'liveTags', 'matchQuery', 'offsetPages', 'partialMatchKey', 'postgrestBaseQuery',
    'postgrestClient', 'postgrestModule', 'postgrestModuleName', 'providedTags', 'requestHeaders', 'rpc', 'toPostgrestRequest', 'toUrl',
  ]);
});

test('rtk-postgrest/react exports the api with hooks, the sync hooks and the query client hooks', async () => {
  expect(await surface('../lib/react/index.js')).toEqual([
    'QueryClientProvider', 'SyncProvider', 'createPostgrestApi', 'createQueryClient', 'createQueryHooks', 'createSyncHooks', 'useBroadcast', 'useConflicts', 'useMutation',
    'useOutbox', 'usePendingWrites', 'usePresence', 'useQuery', 'useQueryClient', 'useRealtime', 'useSyncStatus',
  ]);
});

test('rtk-postgrest/server exports the stack, the realtime server and JWT helpers', async () => {
  expect(await surface('../lib/server/index.js')).toEqual(['JwtError', 'StackError', 'createRealtimeServer', 'isStackError', 'signJwt', 'startStack', 'verifyJwt']);
});
