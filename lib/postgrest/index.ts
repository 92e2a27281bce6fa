/** The pure PostgREST request model: builders → plain `PostgrestRequest` → URL and headers. */
export { from, PostgrestTableBuilder } from './builder/table.js';
export type { FromOptions, InsertOptions, UpsertOptions, WriteOptions, CountedBy } from './builder/table.js';
export { rpc } from './builder/rpc.js';
export { postgrestClient } from './builder/database.js';
export type { GenericDatabase, GenericFunction, GenericSchema, GenericTable, GenericView, Json, PostgrestClient, RelationName, TableBuilderOf } from './builder/database.js';
export type { RpcOptions, RpcBuilder } from './builder/rpc.js';
export { PostgrestBuilder } from './builder/builder.js';
export type { DataOf, DataShape, GroupRow, MergeTypes, OrderOptions, OverrideTypesOptions, ReferencedTableOptions, ResultOf, RowOfResult, SelectOptions } from './builder/builder.js';
export type { ExplainOptions } from './builder/transport.js';
export { ConditionBuilder } from './builder/filterChain.js';
export type { ColumnName, ColumnPath, ConditionCallback, TextSearchOptions } from './builder/filterChain.js';
export type { SelectColumns, UnknownSelectColumns } from './builder/selectColumns.js';
export type { FilterOperator } from './builder/filters.js';
export type { ContainerValue, FilterValue, ScalarValue } from './builder/values.js';
export { toUrl, requestHeaders } from './request/url.js';
export { isPostgrestRequest, toPostgrestRequest } from './request/request.js';
export { PostgrestBuilderError } from './errors.js';
export type { PostgrestBuilderErrorCode } from './errors.js';
export type {
  CountedRows,
  CountedValue,
  ConflictDetails,
  ConflictError,
  ConflictStrategy,
  CountMethod,
  HttpMethod,
  OptimisticOptions,
  PostgrestError,
  PostgrestErrorDetail,
  PostgrestMeta,
  PostgrestRequest,
  PostgrestRequestLike,
  RequestAction,
  ResultShape,
  ToPostgrestRequest,
} from './request/types.js';
export { compileRequest } from './evaluate/index.js';
export type { ColumnType, ColumnTypes, CompiledQuery, EvaluateOptions, JsonRow, RowWindow } from './evaluate/index.js';
