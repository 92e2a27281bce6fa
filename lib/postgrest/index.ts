/** The pure PostgREST request model: builders → plain `PostgrestRequest` → URL and headers. */
export { from, PostgrestTableBuilder } from './table.js';
export type { FromOptions, InsertOptions, UpsertOptions, WriteOptions, CountedBy } from './table.js';
export { rpc } from './rpc.js';
export type { RpcOptions, RpcBuilder } from './rpc.js';
export { PostgrestBuilder } from './builder.js';
export type { DataOf, DataShape, OrderOptions, ReferencedTableOptions, ResultOf, SelectOptions } from './builder.js';
export { ConditionBuilder } from './filterChain.js';
export type { ColumnName, ConditionCallback, TextSearchOptions } from './filterChain.js';
export type { FilterOperator } from './filters.js';
export type { ContainerValue, FilterValue, ScalarValue } from './values.js';
export { toUrl, requestHeaders } from './url.js';
export { isPostgrestRequest, toPostgrestRequest } from './request.js';
export { PostgrestBuilderError } from './errors.js';
export type { PostgrestBuilderErrorCode } from './errors.js';
export type {
  CountedRows,
  CountMethod,
  HttpMethod,
  PostgrestError,
  PostgrestMeta,
  PostgrestRequest,
  PostgrestRequestLike,
  RequestAction,
  ResultShape,
  ToPostgrestRequest,
} from './types.js';
export { compileRequest } from './evaluate/index.js';
export type { ColumnType, ColumnTypes, CompiledQuery, EvaluateOptions, JsonRow, RowWindow } from './evaluate/index.js';
