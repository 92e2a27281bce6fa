/** rtk-postgrest: the request builder, the RTK Query api for PostgREST, and the sync middleware. Explicit names only: what is not listed here is internal. */
// The request model (lib/postgrest).
export { from, PostgrestTableBuilder, rpc, PostgrestBuilder, ConditionBuilder, toUrl, requestHeaders, isPostgrestRequest, toPostgrestRequest, PostgrestBuilderError, compileRequest } from './postgrest';
export type {
  FromOptions,
  InsertOptions,
  UpsertOptions,
  WriteOptions,
  CountedBy,
  RpcOptions,
  RpcBuilder,
  DataOf,
  DataShape,
  OrderOptions,
  ReferencedTableOptions,
  ResultOf,
  SelectOptions,
  ColumnName,
  ConditionCallback,
  TextSearchOptions,
  FilterOperator,
  ContainerValue,
  FilterValue,
  ScalarValue,
  PostgrestBuilderErrorCode,
  CountedRows,
  ConflictStrategy,
  CountMethod,
  HttpMethod,
  OptimisticOptions,
  PostgrestError,
  PostgrestMeta,
  PostgrestRequest,
  PostgrestRequestLike,
  RequestAction,
  ResultShape,
  ToPostgrestRequest,
  ColumnType,
  ColumnTypes,
  CompiledQuery,
  EvaluateOptions,
  JsonRow,
  RowWindow,
} from './postgrest';
export { postgrestBaseQuery, type GetToken, type PostgrestBaseQuery, type PostgrestBaseQueryOptions } from './postgrest/http/baseQuery';
// The RTK Query api (lib/api).
export { createPostgrestApi, BUILTIN_TAG_TYPES, postgrestModule, postgrestModuleName, invalidatedTags, liveTags, providedTags } from './api';
export type { CreatePostgrestApiOptions, GenericEndpoints, PostgrestApi, PostgrestEndpointBuilder, PostgrestModule, PrimaryKeys, Tag } from './api';
// The sync middleware (lib/sync).
export { createSyncMiddleware } from './sync';
export type {
  SyncMiddleware,
  SyncMiddlewareOptions,
  SyncRuntime,
  ChannelListener,
  RealtimeChange,
  SyncState,
  SyncActions,
  ChannelMirror,
  ConnectionMirror,
  ChannelConfig,
  PostgresChangesBinding,
  PresenceState,
  ConnectionStatus,
  ChannelStatus,
  PushResult,
  WebSocketLike,
} from './sync';
